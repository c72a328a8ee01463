//! Postgres outages under load. The pool's backends killed
//! (`pg_terminate_backend` on the process's own `application_name`), and a
//! private cluster stopped and started again: requests fail fast with a 503
//! rather than hang, readiness goes to 503 and back, and the healing time
//! (fault to the last failed request) is printed and bounded.

use std::time::Duration;

use super::load::{self, Load, Sample};
use crate::support::PrivatePostgres;
use crate::support::{self, Wingman};

const RATE: u32 = 40;

/// The `application_name` wingman's pool reports: from its `DATABASE_URL`.
fn with_app_name(url: &str, app: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={app}")
}

async fn admin() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&support::database_url(), tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(conn);
    client
}

/// Every failure of `samples` in `[from, to)` is a quick 503 (not a hang,
/// not a 500); returns when the last one was sent.
fn failures_are_fast_503s(
    samples: &[Sample],
    from: Duration,
    to: Duration,
    bound: Duration,
) -> Option<Duration> {
    let mut last = None;
    for s in samples.iter().filter(|s| s.at >= from && s.at < to) {
        if (200..300).contains(&s.status) {
            continue;
        }
        assert_eq!(s.status, 503, "a failure other than 503: {s:?}");
        assert!(s.latency < bound, "a 503 took {:?}: {s:?}", s.latency);
        last = Some(s.at);
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_pool_backends_killed_under_load_heal() {
    let app = support::unique("wm_kill");
    let mut wingman = Wingman::builder()
        .var(
            "DATABASE_URL",
            with_app_name(&support::database_url(), &app),
        )
        .var("DB_POOL_SIZE", "4")
        .var("DB_CONNECTION_TIMEOUT", "2")
        .var("DB_CONNECT_TIMEOUT", "1")
        .start()
        .await;
    let admin = admin().await;
    let load = Load::start(wingman.url(""), RATE, load::non_llm);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let kill_at = load.now();
    let killed: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1) t",
            &[&app],
        )
        .await
        .unwrap()
        .get(0);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let samples = load.stop().await;
    let end = samples.last().unwrap().at + Duration::from_millis(1);

    assert!(killed > 0, "no backend named {app}");
    let before = load::stats(&samples, Duration::ZERO, kill_at);
    assert_eq!(
        before.failed,
        0,
        "{:#?}",
        load::failures(&samples, Duration::ZERO, kill_at)
    );
    let last_failure = failures_are_fast_503s(&samples, kill_at, end, Duration::from_secs(2));
    let healed = last_failure
        .map(|t| t.saturating_sub(kill_at))
        .unwrap_or_default();
    let after = load::stats(&samples, kill_at, end);
    eprintln!(
        "faults::postgres backends killed: {killed} backends; before {before}; after {after}; \
         healed {:.0} ms after the kill (last failed request)",
        healed.as_secs_f64() * 1e3
    );
    assert!(
        healed < Duration::from_secs(2),
        "still failing {healed:?} after the kill"
    );
    let (status, body) = super::admin_get(&wingman, "/health/ready").await;
    assert_eq!(status, 200, "{body}");
    wingman.terminate();
    wingman.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_postgres_stopped_and_started_under_load_fails_fast_and_heals() {
    let pg = tokio::task::spawn_blocking(|| PrivatePostgres::start(None))
        .await
        .unwrap();
    let mut wingman = Wingman::builder()
        .var("DATABASE_URL", pg.url("sslmode=disable"))
        .var("DB_POOL_SIZE", "4")
        .var("DB_CONNECTION_TIMEOUT", "2")
        .var("DB_CONNECT_TIMEOUT", "1")
        .var("WINGSPAN_HEALTH_READY_CACHE_MS", "100")
        .start()
        .await;
    let load = Load::start(wingman.url(""), RATE, load::non_llm);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let stop_at = load.now();
    let pg = tokio::task::spawn_blocking(move || {
        pg.pg_ctl_stop();
        pg
    })
    .await
    .unwrap();
    let not_ready = super::ready_becomes(&wingman, 503, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let start_at = load.now();
    let pg = tokio::task::spawn_blocking(move || {
        pg.pg_ctl_start();
        pg
    })
    .await
    .unwrap();
    let accepting = load.now();
    let ready_again = super::ready_becomes(&wingman, 200, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let samples = load.stop().await;
    let end = samples.last().unwrap().at + Duration::from_millis(1);

    let before = load::stats(&samples, Duration::ZERO, stop_at);
    let down = load::stats(&samples, stop_at, start_at);
    let after = load::stats(&samples, accepting, end);
    assert_eq!(
        before.failed,
        0,
        "{:#?}",
        load::failures(&samples, Duration::ZERO, stop_at)
    );
    // Acquire timeout 2 s, connect timeout 1 s: a 503 never waits longer than the acquire bound.
    let last_failure = failures_are_fast_503s(&samples, stop_at, end, Duration::from_secs(4));
    assert!(
        down.failed > 0,
        "nothing failed while Postgres was down: {down}"
    );
    let healed = last_failure
        .map(|t| t.saturating_sub(accepting))
        .unwrap_or_default();
    eprintln!(
        "faults::postgres cluster stopped: before {before}; down {down}; after restart {after}; \
         /health/ready 503 after {not_ready:?}, 200 again {ready_again:?} after Postgres accepted; \
         requests healed {:.0} ms after Postgres accepted connections",
        healed.as_secs_f64() * 1e3
    );
    assert!(not_ready.is_some(), "/health/ready never answered 503");
    assert!(
        ready_again.is_some(),
        "/health/ready never answered 200 again"
    );
    assert!(
        healed < Duration::from_secs(5),
        "requests failing {healed:?} after the restart"
    );
    let end_phase = load::stats(&samples, end.saturating_sub(Duration::from_secs(1)), end);
    assert_eq!(end_phase.failed, 0, "{end_phase}");
    wingman.terminate();
    wingman.cleanup().await;
    drop(pg);
}
