//! A private redis-server killed and started again under a fixed-rate load
//! of challenge reads: every read is still served (the cache's loader goes
//! to Postgres while Redis is gone), readiness reports Redis down and back,
//! and the cache recovers (hits counted on `/metrics` again).

use std::time::Duration;

use super::load::{self, Load};
use crate::support::PrivateRedis;
use crate::support::Wingman;

const RATE: u32 = 40;

/// Sum of the cache reads with `result` on a Prometheus exposition.
fn cache_reads(exposition: &str, result: &str) -> f64 {
    let label = format!("wingspan_cache_result=\"{result}\"");
    exposition
        .lines()
        .filter(|l| l.starts_with("wingspan_cache_requests_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum()
}

async fn metrics(wingman: &Wingman) -> String {
    let (status, body) = super::admin_get(wingman, "/metrics").await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_redis_killed_and_restarted_under_load_reads_keep_being_served() {
    let mut redis = PrivateRedis::spawn();
    let port = redis.port;
    let url = redis.url();
    let mut wingman = Wingman::builder()
        .var("REDIS_URL", &url)
        .var("WINGSPAN_PROMETHEUS", "true") // on the admin listener; no port of its own
        .var("WINGSPAN_HEALTH_READY_CACHE_MS", "100")
        .start()
        .await;
    let load = Load::start(wingman.url(""), RATE, load::challenges);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hits_before = cache_reads(&metrics(&wingman).await, "hit");

    let kill_at = load.now();
    redis.stop();
    let not_ready = super::ready_becomes(&wingman, 503, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let errors_during = cache_reads(&metrics(&wingman).await, "error");

    let back_at = load.now();
    let redis = tokio::task::spawn_blocking(move || PrivateRedis::start(port))
        .await
        .unwrap();
    let ready_again = super::ready_becomes(&wingman, 200, Duration::from_secs(15)).await;
    let hits_at_return = cache_reads(&metrics(&wingman).await, "hit");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let hits_after = cache_reads(&metrics(&wingman).await, "hit");
    let samples = load.stop().await;
    let end = samples.last().unwrap().at + Duration::from_millis(1);

    let before = load::stats(&samples, Duration::ZERO, kill_at);
    let down = load::stats(&samples, kill_at, back_at);
    let after = load::stats(&samples, back_at, end);
    eprintln!(
        "faults::redis killed: before {before}; down {down}; after restart {after}; \
         /health/ready 503 after {not_ready:?}, 200 again {ready_again:?} after the restart; \
         cache hits {hits_before} before, {hits_at_return} at the return, {hits_after} at the end; \
         {errors_during} cache errors counted while down"
    );
    for (phase, s, from, to) in [
        ("before", before, Duration::ZERO, kill_at),
        ("down", down, kill_at, back_at),
        ("after", after, back_at, end),
    ] {
        assert_eq!(
            s.failed,
            0,
            "{phase}: {:#?}",
            load::failures(&samples, from, to)
        );
    }
    assert!(
        not_ready.is_some(),
        "/health/ready never reported Redis down"
    );
    assert!(
        ready_again.is_some(),
        "/health/ready never reported Redis back"
    );
    assert!(
        errors_during > 0.0,
        "no cache error counted while Redis was down"
    );
    assert!(hits_before > 0.0, "no cache hit before the outage");
    assert!(
        hits_after > hits_at_return,
        "the cache did not serve hits again: {hits_at_return} -> {hits_after}"
    );
    wingman.terminate();
    wingman.cleanup().await;
    drop(redis);
}
