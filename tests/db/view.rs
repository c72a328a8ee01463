//! The pool feeds the in-process view (`wingspan::stats`): acquires, holds,
//! one row per statement summary (never its text), the pool's gauge, and
//! the pool is a readiness `Check`.

use std::time::Duration;

use wingspan::db::Queryable;
use wingspan::health::Check;

use super::Db;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_and_queries_feed_the_in_process_view() {
    let db = Db::new(&[("DB_POOL_SIZE", "1"), ("DB_MAX_CONNECTIONS", "2")]).await;
    let pool = db
        .builder()
        .acquire_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    let table = format!("{}.view_items", db.schema);
    {
        let c = pool.get().await.unwrap();
        c.batch_execute(&format!(
            "CREATE TABLE {table} (id int PRIMARY KEY, secret text)"
        ))
        .await
        .unwrap();
        for id in 0..3 {
            c.execute(
                &format!("INSERT INTO {table} VALUES ($1, 'literal-MARKER-77')"),
                &[&id],
            )
            .await
            .unwrap();
        }
        c.query_one(&format!("SELECT secret FROM {table} WHERE id = 1"), &[])
            .await
            .unwrap();
        c.query_one("SELECT 1 / 0", &[]).await.unwrap_err();
    }
    // Two held, a third waits out the acquire timeout.
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    assert!(pool.get().await.unwrap_err().is_timeout());

    let stats = db.telemetry.stats().expect("on by default");
    // The current minute and the one before: the records above may
    // straddle a minute boundary.
    let snap = stats.snapshot(2);
    let gauge = snap.pool.expect("the pool registers its gauge");
    assert_eq!((gauge.size, gauge.idle, gauge.max), (2, 0, 2));
    drop((a, b));

    let snap = stats.snapshot(2);
    let row = |summary: &str| {
        snap.statements
            .iter()
            .find(|s| s.summary == summary)
            .unwrap_or_else(|| panic!("no row {summary:?}: {:?}", snap.statements))
    };
    assert_eq!(row(&format!("INSERT {table}")).figures.count, 3);
    assert_eq!(row(&format!("SELECT {table}")).figures.count, 1);
    assert_eq!(row("SELECT").figures.errors, 1, "the failed division");
    let all = serde_json::to_string(&snap).unwrap();
    assert!(!all.contains("MARKER"), "no statement text in the view");
    assert!(snap.acquire.count >= 4);
    assert_eq!(snap.acquire.errors, 1, "one acquire timed out");
    assert!(snap.hold.count >= 3);

    assert_eq!(pool.name(), db.app.as_str());
    assert_eq!(Check::name(&pool), "postgres");
    pool.check().await.expect("ready");
    db.drop_schema().await;
}
