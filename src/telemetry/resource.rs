//! The resource every signal carries: service, deployment, host and the
//! process entity (whose identity includes `process.creation.time`).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use crate::config::Config;
use crate::names;

pub(crate) fn resource(cfg: &Config) -> Resource {
    let tc = &cfg.telemetry;
    let mut attrs = vec![
        KeyValue::new(names::SERVICE_NAME, tc.service_name.clone()),
        KeyValue::new(names::DEPLOYMENT_ENVIRONMENT_NAME, cfg.profile.as_str()),
        KeyValue::new(names::HOST_ARCH, std::env::consts::ARCH),
        KeyValue::new(names::OS_TYPE, std::env::consts::OS),
        KeyValue::new(names::PROCESS_PID, i64::from(std::process::id())),
        KeyValue::new(names::PROCESS_CREATION_TIME, creation_time()),
        KeyValue::new(names::PROCESS_RUNTIME_NAME, "rust"),
    ];
    if let Some(v) = &tc.service_version {
        attrs.push(KeyValue::new(names::SERVICE_VERSION, v.clone()));
    }
    if let Some(host) = host_name() {
        attrs.push(KeyValue::new(names::HOST_NAME, host));
    }
    if let Some(exe) = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        attrs.push(KeyValue::new(names::PROCESS_EXECUTABLE_NAME, exe));
    }
    // OTEL_RESOURCE_ATTRIBUTES may add more, but never override the above.
    for (k, v) in &tc.resource_attributes {
        if !attrs.iter().any(|kv| kv.key.as_str() == k) {
            attrs.push(KeyValue::new(k.clone(), v.clone()));
        }
    }
    // The empty builder: the default one reads OTEL_* from the process
    // environment, which would bypass `Config::from_lookup`.
    Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(attrs)
        .build()
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
}

/// `process.creation.time`: when the process started, ISO 8601 in UTC.
/// From the kernel's start time where there is one (a pipeline built late
/// still names the same process), else the first call.
fn creation_time() -> String {
    static CREATED: OnceLock<String> = OnceLock::new();
    CREATED
        .get_or_init(|| iso8601(process_start().unwrap_or_else(SystemTime::now)))
        .clone()
}

/// Boot time (`btime` of `/proc/stat`) plus the process's start time in
/// clock ticks (field 22 of `/proc/self/stat`).
fn process_start() -> Option<SystemTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After ")": state is field 3, starttime is field 22.
    let ticks: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let boot: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let since_boot = Duration::from_millis(ticks * 1000 / super::process::TICKS_PER_SEC as u64);
    Some(UNIX_EPOCH + Duration::from_secs(boot) + since_boot)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (civil-from-days, proleptic Gregorian).
pub(crate) fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(iso8601(t), "2023-11-14T22:13:20.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn process_start_is_in_the_past() {
        let start = process_start().expect("Linux /proc");
        let age = SystemTime::now().duration_since(start).unwrap();
        assert!(age < Duration::from_secs(24 * 3600), "{age:?}");
    }
}
