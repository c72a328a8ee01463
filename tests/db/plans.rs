//! Plans of slow statements (`DB_PLAN_CAPTURE`): a statement past the
//! threshold gets its generic plan, shown beside it in `/health/detailed`
//! with no literal or parameter value anywhere (served or exported), and
//! the advice names the sequential scan and the filter column; nothing is
//! captured when off; a capture that waits on a lock gives up within its
//! timeout without touching the application's connections.

use std::time::{Duration, Instant};

use wingspan::db::{PlanCapture, Pool, Queryable};
use wingspan::health::Health;

use super::{Db, WAIT};
use crate::support;

const MARKER: &str = "MARKER-xyz";
const PARAM_MARKER: &str = "PARAM-MARKER-abc";

/// Every statement qualifies at once; one capture every 50 ms.
fn eager() -> PlanCapture {
    PlanCapture::new()
        .p95_threshold(Duration::ZERO)
        .min_interval(Duration::from_millis(50))
}

/// `{schema}.orders`: 5 000 rows, no index on `customer`, analysed.
async fn orders(db: &Db) -> String {
    let t = format!("{}.orders", db.schema);
    db.admin
        .batch_execute(&format!(
            "CREATE TABLE {t} (id serial PRIMARY KEY, customer text, total int);
             INSERT INTO {t} (customer, total) SELECT 'c' || g, g FROM generate_series(1, 5000) g;
             ANALYZE {t};"
        ))
        .await
        .unwrap();
    t
}

/// The view's plan of `summary`, waited for.
async fn plan_of(db: &Db, summary: &str) -> wingspan::stats::QueryPlan {
    let stats = db.telemetry.stats().expect("the view is on");
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(p) = stats.plan(summary) {
            return p;
        }
        assert!(Instant::now() < deadline, "no plan of {summary:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_statement_gets_its_plan_beside_it_with_no_literal_served_or_exported() {
    let db = Db::new(&[("WINGSPAN_ADVICE_MIN_CALLS", "3")]).await;
    let t = orders(&db).await;
    let pool = db.builder().capture_plans(eager()).build().await.unwrap();
    // A literal inline and a parameter; the sub-select makes each call slow
    // enough (≥ 100 ms) for the slow-statement advice.
    let sql = format!(
        "SELECT count(*) FROM {t} WHERE customer = $1 AND customer <> '{MARKER}' \
         AND (SELECT pg_sleep(0.11)) IS NOT NULL"
    );
    let c = pool.get().await.unwrap();
    for _ in 0..3 {
        c.query_one(&sql, &[&PARAM_MARKER]).await.unwrap();
    }
    drop(c);
    let summary = wingspan::db::sanitize::sanitize(&sql).summary;
    let plan = plan_of(&db, &summary).await;

    // The generic plan: a sequential scan of the whole table, its filter on
    // `customer` with the literal masked and the parameter as `$1`.
    let scan = plan
        .nodes
        .iter()
        .find(|n| n.node_type == "Seq Scan")
        .unwrap_or_else(|| panic!("{}", plan.text));
    assert_eq!(scan.relation.as_deref(), Some(t.as_str()));
    assert_eq!(scan.table_rows, Some(5000.0), "pg_class.reltuples");
    assert_eq!(scan.filter_column().as_deref(), Some("customer"));
    let filter = &scan.conditions.iter().find(|c| c.kind == "Filter").unwrap();
    assert!(filter.expression.contains("$1"), "{}", filter.expression);
    assert!(filter.expression.contains('?'), "{}", filter.expression);
    assert!(
        plan.text.contains(&format!("Seq Scan on {t}")),
        "{}",
        plan.text
    );
    let stats = db.telemetry.stats().unwrap();
    let now = stats.clock().now_ms();
    assert!(plan.captured_at_ms <= now && now - plan.captured_at_ms < 60_000);

    // Served: beside the statement, and named by the advice.
    let health = Health::for_telemetry(&db.telemetry).build();
    let doc = serde_json::to_value(health.detailed()).unwrap();
    let row = doc["slow_queries"]["by_p95"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["summary"] == summary.as_str())
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(row["plan"]["captured_at_ms"], plan.captured_at_ms);
    assert_eq!(row["plan"]["text"], plan.text.as_str());
    let rec = doc["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "slow_statement" && r["figures"]["summary"] == summary.as_str())
        .unwrap_or_else(|| panic!("{}", doc["recommendations"]));
    let message = rec["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "a sequential scan on {t} (~5000 rows estimated); no index used for the filter on \
             {t}.customer: consider an index on {t} (customer)"
        )),
        "{message}"
    );
    assert_eq!(rec["figures"]["seq_scans"][0]["filter_column"], "customer");
    assert_eq!(rec["figures"]["plan_captured_at_ms"], plan.captured_at_ms);

    // The capture's own statements are in no figure.
    let snap = stats.snapshot(5);
    for q in &snap.statements {
        assert!(
            !q.summary.contains("pg_prepared_statements") && !q.summary.starts_with("EXPLAIN"),
            "{}",
            q.summary
        );
    }

    // No literal and no parameter value anywhere: the document, the page's
    // data, the spans and logs exported.
    let served = doc.to_string();
    for m in [MARKER, PARAM_MARKER] {
        assert!(!served.contains(m), "{m} served: {served}");
        assert!(!plan.text.contains(m));
    }
    db.flush().await;
    let spans = db
        .receiver
        .wait_for_spans(
            |s| s.iter().filter(|s| s.name == summary).count() >= 3,
            WAIT,
        )
        .await;
    let exported = support::dump_spans(&spans) + &support::dump_logs(&db.receiver.logs());
    for m in [MARKER, PARAM_MARKER] {
        assert!(!exported.contains(m), "{m} exported: {exported}");
    }
    assert!(
        !spans
            .iter()
            .any(|s| s.name.contains("EXPLAIN") || s.name.contains("wingspan_plan")),
        "the capture makes no span"
    );
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plan_is_captured_when_off_which_is_the_default() {
    let db = Db::new(&[("WINGSPAN_ADVICE_MIN_CALLS", "3")]).await;
    assert_eq!(
        db.telemetry.config().db.plan_capture,
        None,
        "off by default"
    );
    let t = orders(&db).await;
    let off = db.pool().await;
    let on = db.builder().capture_plans(eager()).build().await.unwrap();
    let quiet = format!("SELECT customer FROM {t} WHERE total = $1");
    let watched = format!("SELECT id FROM {t} WHERE customer = $1");
    for _ in 0..3 {
        off.get()
            .await
            .unwrap()
            .query(&quiet, &[&7i32])
            .await
            .unwrap();
        on.get()
            .await
            .unwrap()
            .query(&watched, &[&"c7"])
            .await
            .unwrap();
    }
    // Once the pool that captures has its plan, the other had as long.
    plan_of(&db, &format!("SELECT {t}")).await;
    let stats = db.telemetry.stats().unwrap();
    // Both statements share the summary: the captured text is the watched
    // one (its filter is on `customer`), never the quiet pool's.
    let plan = stats.plan(&format!("SELECT {t}")).unwrap();
    let scan = plan.nodes.iter().find(|n| n.relation.is_some()).unwrap();
    assert_eq!(
        scan.filter_column().as_deref(),
        Some("customer"),
        "{}",
        plan.text
    );
    drop(on);

    // A pool of its own with the default settings, on a statement of its own.
    let solo = Pool::builder(&db.telemetry)
        .application_name(&db.app)
        .build()
        .await
        .unwrap();
    let other = format!("SELECT count(*) FROM {t} AS o WHERE o.total > $1");
    for _ in 0..5 {
        solo.get()
            .await
            .unwrap()
            .query(&other, &[&1i32])
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = stats.snapshot(5).plans;
    assert_eq!(all.len(), 1, "{all:?}");
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_waiting_on_a_lock_gives_up_within_its_timeout_and_harms_nothing() {
    let db = Db::new(&[("WINGSPAN_ADVICE_MIN_CALLS", "3"), ("DB_POOL_SIZE", "2")]).await;
    let t = orders(&db).await;
    let timeout = Duration::from_millis(300);
    let pool = db
        .builder()
        .capture_plans(eager().timeout(timeout))
        .build()
        .await
        .unwrap();
    // The application holds an exclusive lock (a migration, say) while its
    // statement runs often enough to qualify.
    let mut holder = pool.get().await.unwrap();
    let tx = holder.transaction().await.unwrap();
    tx.batch_execute(&format!("LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE"))
        .await
        .unwrap();
    let sql = format!("SELECT id FROM {t} WHERE customer = $1");
    for _ in 0..3 {
        tx.query(&sql, &[&"c1"]).await.unwrap();
    }
    // The capture's PREPARE waits on the lock...
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 \
                   AND query LIKE 'PREPARE wingspan_plan%' AND wait_event_type = 'Lock'";
    async fn count(db: &Db, waiting: &str) -> i64 {
        db.admin
            .query_one(waiting, &[&db.app])
            .await
            .unwrap()
            .get(0)
    }
    let deadline = Instant::now() + WAIT;
    while count(&db, waiting).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the capture never waited on the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = Instant::now();
    // ...and gives up within its timeout (lock_timeout), the lock still held.
    while count(&db, waiting).await > 0 {
        assert!(
            seen.elapsed() < timeout * 5,
            "still waiting after {:?}",
            seen.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The application's transaction and pool are untouched.
    tx.query(&sql, &[&"c2"]).await.unwrap();
    tx.commit().await.unwrap();
    drop(holder);
    pool.get()
        .await
        .unwrap()
        .query(&sql, &[&"c3"])
        .await
        .unwrap();
    pool.ready().await.unwrap();
    // No plan, and no retry of the same statement right away.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = db.telemetry.stats().unwrap();
    assert!(stats.plan(&format!("SELECT {t}")).is_none());
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_planned_and_never_run() {
    let db = Db::new(&[("WINGSPAN_ADVICE_MIN_CALLS", "3")]).await;
    let t = orders(&db).await;
    let pool = db.builder().capture_plans(eager()).build().await.unwrap();
    let insert = format!("INSERT INTO {t} (customer, total) VALUES ($1, $2)");
    let c = pool.get().await.unwrap();
    for i in 0..3 {
        c.execute(&insert, &[&"w", &i]).await.unwrap();
    }
    drop(c);
    let plan = plan_of(&db, &format!("INSERT {t}")).await;
    assert!(
        plan.nodes.iter().any(|n| n.node_type == "ModifyTable"),
        "{}",
        plan.text
    );
    // EXPLAIN without ANALYZE: no row written, no sequence value taken.
    let row = db
        .admin
        .query_one(
            &format!(
                "SELECT (SELECT count(*) FROM {t} WHERE customer = 'w'), \
                 (SELECT last_value FROM {t}_id_seq)"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 3);
    assert_eq!(row.get::<_, i64>(1), 5003);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_texts_with_one_summary_the_costlier_is_planned() {
    // The summary qualifies only once both texts ran: at its 8th call (a
    // long one-off statement first keeps its share under 90 %).
    let db = Db::new(&[
        ("WINGSPAN_ADVICE_MIN_CALLS", "8"),
        ("WINGSPAN_ADVICE_MIN_DB_SHARE", "0.9"),
    ])
    .await;
    let t = orders(&db).await;
    let pool = db.builder().capture_plans(eager()).build().await.unwrap();
    // Both are `SELECT {t}`: the first is called more, the second takes
    // longer in all (200 ms a call, far more than the quick one's five
    // calls take even on a loaded machine).
    let quick = format!("SELECT id FROM {t} WHERE customer = $1");
    let slow = format!("SELECT id FROM {t} WHERE id = $1 AND pg_sleep(0.2) IS NOT NULL");
    let c = pool.get().await.unwrap();
    c.query("SELECT pg_sleep(0.5)", &[]).await.unwrap();
    for _ in 0..5 {
        c.query(&quick, &[&"c1"]).await.unwrap();
    }
    for _ in 0..3 {
        c.query(&slow, &[&1i32]).await.unwrap();
    }
    drop(c);
    let plan = plan_of(&db, &format!("SELECT {t}")).await;
    assert!(
        plan.nodes
            .iter()
            .any(|n| n.index.as_deref() == Some("orders_pkey")),
        "the quick text's plan was taken: {}",
        plan.text
    );
    db.drop_schema().await;
}
