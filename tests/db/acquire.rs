//! The whole acquire (waiting plus opening a connection) is bounded by
//! `DB_CONNECTION_TIMEOUT`, and a connect timeout is a timeout.

use std::time::{Duration, Instant};

use wingspan::db::{DbError, Pool};

use super::Db;

/// A server that accepts TCP connections and never answers (the kernel
/// completes the handshake into the backlog; nothing reads).
fn silent_server() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

async fn silent_pool(db: &Db, port: u16, acquire: u64, connect: u64) -> Pool {
    let mut cfg = db.telemetry.config().db.clone();
    cfg.url = wingspan::config::Secret::new(format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    ));
    cfg.ssl_mode = wingspan::config::SslMode::Disable;
    Pool::builder(&db.telemetry)
        .config(cfg)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(acquire))
        .connect_timeout(Duration::from_secs(connect))
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_timeout_during_acquire_is_a_timeout() {
    let db = Db::new(&[]).await;
    let (_server, port) = silent_server();
    let pool = silent_pool(&db, port, 3, 1).await;
    let start = Instant::now();
    let err = pool.get().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        matches!(err, DbError::ConnectTimeout(d) if d == Duration::from_secs(1)),
        "{err:?}"
    );
    assert_eq!(err.error_type(), "timeout");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acquire_is_bounded_by_the_acquire_timeout_even_while_connecting() {
    let db = Db::new(&[]).await;
    let (_server, port) = silent_server();
    // Opening may take 5 s, but the caller waits at most 1 s in all.
    let pool = silent_pool(&db, port, 1, 5).await;
    let start = Instant::now();
    let err = pool.get().await.unwrap_err();
    let waited = start.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        matches!(err, DbError::PoolTimeout(d) if d == Duration::from_secs(1)),
        "{err:?}"
    );
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    db.drop_schema().await;
}
