//! The reference service (`examples/wingman`) under faults, load and
//! hostile input, through its public interfaces only: the API, the admin
//! listener (health routes, `/metrics`, the page), the OTLP stream at a real
//! receiver, and the process's stdout, stderr and resident set.
//!
//! Load inside a test is a fixed-rate, open-loop driver ([`load`]): one
//! request per tick whatever the previous one is doing (no coordinated
//! omission), each latency tagged with the time it was sent so a run splits
//! into phases (healthy baseline, fault, return). goose (`wingman-load`)
//! drives the soak (`make soak`), where one report per run is what is
//! wanted; here each test needs its own samples per phase and the status of
//! every request, which goose's aggregate report does not give.
//!
//! Figures print on stderr (`make faults` shows them); the assertions are
//! generous bounds only, so they hold on a busy 2-core machine while still
//! catching the failures they are about (a blocked export costs seconds, a
//! hang costs the request timeout).

mod collector;
mod front;
mod hostile;
mod llm;
mod load;
mod pgbouncer;
mod postgres;
mod redis;
mod secrets;
mod soak;

use std::time::Duration;

use crate::support::Wingman;

/// A reqwest client (`support::http_client`: with rustls' ring provider
/// installed for this process).
pub fn http() -> reqwest::Client {
    crate::support::http_client()
}

/// The resident set of process `pid` in bytes (`VmRSS` of `/proc/PID/status`).
pub fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// `GET` on the admin listener: status and body.
pub async fn admin_get(wingman: &Wingman, path: &str) -> (u16, String) {
    let res = http()
        .get(wingman.admin_url(path))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} on the admin listener: {e}"));
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

/// The Prometheus exposition's series: every sample line, without its value.
pub fn series(exposition: &str) -> std::collections::BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_owned()))
        .collect()
}

/// Waits until `GET /health/ready` answers `want`; how long that took, or
/// `None` after `timeout`.
pub async fn ready_becomes(wingman: &Wingman, want: u16, timeout: Duration) -> Option<Duration> {
    let client = http();
    let start = std::time::Instant::now();
    while start.elapsed() < timeout {
        if let Ok(res) = client
            .get(wingman.admin_url("/health/ready"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
        {
            if res.status().as_u16() == want {
                return Some(start.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}
