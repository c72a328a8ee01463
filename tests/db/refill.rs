//! The reaper refills to the minimum by opening connections, not by
//! borrowing idle ones.

use std::time::{Duration, Instant};

use wingspan::db::Queryable;

use super::{futures_join, Db};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaper_opens_a_new_connection_after_one_is_discarded() {
    let db = Db::new(&[("DB_POOL_SIZE", "3"), ("DB_MAX_CONNECTIONS", "5")]).await;
    let pool = db
        .builder()
        .idle_timeout(Duration::from_millis(800))
        .build()
        .await
        .unwrap();
    assert_eq!(pool.status().size, 3);
    let held = futures_join(&pool, 3).await;
    let pid: i32 = held[0]
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    // The server ends one backend; the call on it fails, and the connection
    // is discarded (on return, or by the reaper once idle).
    db.admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while held[0].query_one("SELECT 1", &[]).await.is_ok() {
        assert!(Instant::now() < deadline, "backend {pid} still answers");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(held);
    // The reaper runs every 200 ms (idle timeout / 4): within a few periods
    // the pool holds three live connections again.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let backends = db.backends().await;
        if pool.status().size == 3 && backends.len() == 3 && !backends.contains(&pid) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not refilled: {:?}, backends {backends:?}",
            pool.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    db.drop_schema().await;
}
