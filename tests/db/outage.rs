//! Postgres stopped and started under a running pool: calls fail fast with
//! a typed error while it is down, and the pool heals by itself.

use std::time::{Duration, Instant};

use wingspan::db::{DbError, Pool, Queryable};

use super::Db;
use crate::support::PrivatePostgres;

async fn select_one(pool: &Pool) -> Result<(), DbError> {
    let c = pool.get().await?;
    c.query_one("SELECT 1", &[]).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_fails_fast_while_postgres_is_down_and_heals_after_restart() {
    let pg = tokio::task::spawn_blocking(|| PrivatePostgres::start(None))
        .await
        .unwrap();
    let db = Db::new(&[]).await;
    let cfg = wingspan::Config::builder()
        .var("DATABASE_URL", pg.url("sslmode=disable"))
        .var("DB_POOL_SIZE", "2")
        .var("DB_MAX_CONNECTIONS", "4")
        .var("DB_CONNECTION_TIMEOUT", "2")
        .var("DB_CONNECT_TIMEOUT", "1")
        .build()
        .unwrap()
        .db;
    let acquire_timeout = cfg.acquire_timeout;
    let pool = Pool::builder(&db.telemetry)
        .config(cfg)
        .idle_timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    select_one(&pool).await.unwrap();

    let pg = tokio::task::spawn_blocking(move || {
        pg.pg_ctl_stop();
        pg
    })
    .await
    .unwrap();
    // Down: every call fails, each well within the acquire timeout; once
    // the dead connections are gone, `get()` itself fails with `Connect`.
    let mut errors = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let err = select_one(&pool).await.unwrap_err();
        let took = start.elapsed();
        assert!(took < acquire_timeout * 2, "{took:?} for {err:?}");
        errors.push((err, took));
    }
    let last = &errors[errors.len() - 1].0;
    assert!(matches!(last, DbError::Connect(_)), "{errors:?}");
    assert!(!last.is_timeout());
    let slowest = errors.iter().map(|(_, t)| *t).max().unwrap();
    eprintln!("outage: 10 calls failed while down, slowest {slowest:?}; last error {last}");

    let pg = tokio::task::spawn_blocking(move || {
        pg.pg_ctl_start();
        pg
    })
    .await
    .unwrap();
    let back = Instant::now();
    let deadline = back + Duration::from_secs(10);
    while let Err(e) = select_one(&pool).await {
        assert!(Instant::now() < deadline, "not healed after 10 s: {e:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let healed = back.elapsed();
    // The reaper (every 500 ms here) reopens the minimum by itself.
    while pool.status().size < 2 {
        assert!(
            Instant::now() < deadline,
            "minimum not reopened: {:?}",
            pool.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refilled = back.elapsed();
    eprintln!(
        "outage: healed {:.0} ms after postgres accepted connections again; minimum of 2 reopened after {:.0} ms",
        healed.as_secs_f64() * 1e3,
        refilled.as_secs_f64() * 1e3
    );
    assert!(healed < Duration::from_secs(5), "{healed:?}");
    drop(pool);
    drop(pg);
    db.drop_schema().await;
}
