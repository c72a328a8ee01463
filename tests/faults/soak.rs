//! The soak (`make soak`, ignored by `make test`): wingman under goose
//! (`wingman-load`, the whole mix, coach included) at a fixed rate for
//! `WINGSPAN_SOAK_SECS` (300 by default), exporting to a real receiver.
//! Every request succeeds, the resident set sampled every 5 s stays flat,
//! and the series on `/metrics` at the end are those of the start.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use super::load::{mib, RssSampler};
use crate::support::{Receiver, Wingman};

/// Labels whose values come from a small fixed set.
const BOUNDED_LABELS: [&str; 4] = [
    "error_type",
    "http_response_status_code",
    "wingspan_cache_result",
    "le",
];

/// The series with the [`BOUNDED_LABELS`] taken out.
fn bounded_aside(series: &BTreeSet<String>) -> BTreeSet<String> {
    series
        .iter()
        .map(|s| match s.split_once('{') {
            None => s.clone(),
            Some((name, labels)) => {
                let kept: Vec<&str> = labels
                    .trim_end_matches('}')
                    .split("\",")
                    .filter(|l| {
                        !BOUNDED_LABELS
                            .iter()
                            .any(|b| l.starts_with(&format!("{b}=")))
                    })
                    .collect();
                format!("{name}{{{}}}", kept.join("\","))
            }
        })
        .collect()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "5 minutes: make soak"]
async fn faults_soak_whole_mix_at_a_fixed_rate() {
    let secs = env_u64("WINGSPAN_SOAK_SECS", 300);
    let rate = env_u64("WINGSPAN_SOAK_RATE", 100);
    let warmup = Duration::from_secs(20.min(secs / 4));
    let receiver = Receiver::start().await;
    let mut wingman = Wingman::builder()
        .otlp(&receiver)
        .var("WINGSPAN_PROMETHEUS", "true") // on the admin listener; no port of its own
        // Metrics every 5 s, as a service would, not the harness's 200 ms.
        .var("OTEL_METRIC_EXPORT_INTERVAL", "5000")
        .start()
        .await;
    let load_bin = crate::support::wingman::load_binary().unwrap_or_else(|e| panic!("{e}"));
    let report = std::env::temp_dir().join(format!("{}-soak.json", wingman.schema));
    let mut goose = Command::new(&load_bin);
    goose
        .args(["-H", &wingman.url("")])
        .args(["-u", "16", "-r", "16"])
        .args(["-t", &format!("{secs}s")])
        .args(["--throttle-requests", &rate.to_string()])
        .arg("--no-print-metrics")
        .arg("-q")
        .arg("--report-file")
        .arg(&report)
        .env("WINGMAN_SEED_USERS", "1000");
    let started = Instant::now();
    let goose = tokio::task::spawn_blocking(move || goose.output().expect("run wingman-load"));
    let rss = RssSampler::start(wingman.pid(), Duration::from_secs(5));

    tokio::time::sleep(warmup).await;
    let (_, first) = super::admin_get(&wingman, "/metrics").await;
    let rss_after_warmup = super::rss_of(wingman.pid()).unwrap();
    let out = goose.await.unwrap();
    let took = started.elapsed();
    let (_, last) = super::admin_get(&wingman, "/metrics").await;
    assert!(
        out.status.success(),
        "load failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let summary = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/summarize_goose.py"
        ))
        .arg(&report)
        .arg("--json")
        .output()
        .unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&summary.stdout).expect("summarize_goose.py --json");
    let routes = summary["routes"].as_array().cloned().unwrap_or_default();
    let points = rss.points();
    eprintln!("faults::soak {secs} s at {rate} req/s (goose, 16 users, whole mix) in {took:?}");
    for r in &routes {
        eprintln!(
            "faults::soak route {:<28} n={:>6} errors={} p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.1}ms",
            r["name"].as_str().unwrap_or("?"),
            r["requests"],
            r["errors"],
            r["p50_ms"].as_f64().unwrap_or(0.0),
            r["p95_ms"].as_f64().unwrap_or(0.0),
            r["p99_ms"].as_f64().unwrap_or(0.0),
            r["max_ms"].as_f64().unwrap_or(0.0)
        );
    }
    eprintln!(
        "faults::soak RSS every 5 s (MiB): {}",
        points
            .iter()
            .map(|(_, b)| format!("{:.1}", mib(*b)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (a, b) = (super::series(&first), super::series(&last));
    eprintln!(
        "faults::soak series on /metrics: {} after the {warmup:?} warm-up, {} at the end",
        a.len(),
        b.len()
    );
    let requests: u64 = routes.iter().filter_map(|r| r["requests"].as_u64()).sum();
    let errors: u64 = routes.iter().filter_map(|r| r["errors"].as_u64()).sum();
    assert!(requests > 0, "no request in the report");
    assert_eq!(errors, 0, "errors in {routes:#?}");
    // A series may appear late for a bounded label set (the first
    // `error_type="timeout"` of a Redis SET on a loaded machine, a status
    // code); with those labels set aside, nothing may be new: no path, id,
    // key or statement grows the exposition.
    let new: Vec<&String> = b.difference(&a).collect();
    let (na, nb) = (bounded_aside(&a), bounded_aside(&b));
    let unbounded: Vec<&String> = nb.difference(&na).collect();
    eprintln!(
        "faults::soak {} new series, all of bounded labels ({}): {:?}",
        new.len(),
        BOUNDED_LABELS.join(", "),
        new.iter().take(3).collect::<Vec<_>>()
    );
    assert!(
        unbounded.is_empty(),
        "series grew during the soak: {unbounded:#?}"
    );
    let end = points.last().map(|p| p.1).unwrap_or(0);
    assert!(
        end < rss_after_warmup + 32 * 1024 * 1024,
        "RSS grew from {:.1} MiB after the warm-up to {:.1} MiB",
        mib(rss_after_warmup),
        mib(end)
    );
    let _ = std::fs::remove_file(&report);
    wingman.terminate();
    wingman.cleanup().await;
}
