//! The resource every signal carries: service (with `service.instance.id`),
//! deployment, host and the process entity (whose identity includes
//! `process.creation.time`); `OTEL_RESOURCE_ATTRIBUTES` overrides what is
//! detected.

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
        KeyValue::new(names::SERVICE_INSTANCE_ID, tc.service_instance_id.clone()),
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
    apply_user_attributes(&mut attrs, &tc.resource_attributes);
    // The empty builder: the default one reads OTEL_* from the process
    // environment, which would bypass `Config::from_lookup`.
    Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(attrs)
        .build()
}

/// `OTEL_RESOURCE_ATTRIBUTES` over the detected attributes: the user's
/// value wins (the resource SDK merges user-provided attributes last), so
/// a container's `host.name` or any `deployment.environment.name` can be
/// set, except `service.name` and `service.version`, which the
/// configuration already resolved with `OTEL_SERVICE_NAME` /
/// `WINGSPAN_SERVICE_VERSION` first, as the specification orders them.
fn apply_user_attributes(attrs: &mut Vec<KeyValue>, user: &[(String, String)]) {
    for (k, v) in user {
        if k == names::SERVICE_NAME || k == names::SERVICE_VERSION {
            continue;
        }
        let kv = KeyValue::new(k.clone(), v.clone());
        match attrs.iter_mut().find(|a| a.key.as_str() == k) {
            Some(slot) => *slot = kv,
            None => attrs.push(kv),
        }
    }
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

    fn resource_of(vars: &[(&str, &str)]) -> Resource {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let cfg =
            Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
                .unwrap();
        resource(&cfg)
    }

    fn get(r: &Resource, key: &'static str) -> Option<String> {
        r.get(&opentelemetry::Key::from_static_str(key))
            .map(|v| v.to_string())
    }

    #[test]
    fn user_attributes_override_detected_ones() {
        let r = resource_of(&[
            ("WINGSPAN_ENV", "staging"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "host.name=pod-7,deployment.environment.name=canary-eu,os.type=plan9,team=core",
            ),
        ]);
        assert_eq!(get(&r, "host.name").as_deref(), Some("pod-7"));
        assert_eq!(
            get(&r, "deployment.environment.name").as_deref(),
            Some("canary-eu")
        );
        assert_eq!(get(&r, "os.type").as_deref(), Some("plan9"));
        assert_eq!(get(&r, "team").as_deref(), Some("core"));
        // Without an override, the profile names the environment.
        let r = resource_of(&[("WINGSPAN_ENV", "staging")]);
        assert_eq!(
            get(&r, "deployment.environment.name").as_deref(),
            Some("staging")
        );
    }

    #[test]
    fn otel_service_name_wins_over_the_attribute() {
        let r = resource_of(&[
            ("OTEL_SERVICE_NAME", "web"),
            ("WINGSPAN_SERVICE_VERSION", "2.0.0"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=api,service.version=1.0.0",
            ),
        ]);
        assert_eq!(get(&r, "service.name").as_deref(), Some("web"));
        assert_eq!(get(&r, "service.version").as_deref(), Some("2.0.0"));
        let r = resource_of(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=api,service.version=1.0.0",
        )]);
        assert_eq!(get(&r, "service.name").as_deref(), Some("api"));
        assert_eq!(get(&r, "service.version").as_deref(), Some("1.0.0"));
    }

    #[test]
    fn service_instance_id_is_the_process_uuid_unless_set() {
        let r = resource_of(&[]);
        let id = get(&r, "service.instance.id").unwrap();
        assert!(crate::config::resource_is_uuid_v4(&id), "{id}");
        assert_eq!(id, crate::config::process_instance_id());
        assert_eq!(
            get(&resource_of(&[]), "service.instance.id"),
            Some(id),
            "stable across pipelines of one process"
        );
        let r = resource_of(&[("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=pod-7")]);
        assert_eq!(get(&r, "service.instance.id").as_deref(), Some("pod-7"));
    }

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
