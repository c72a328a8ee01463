//! The caller's operation name (`wingspan::db::operation`) and the pool's
//! attribute hook (`PoolBuilder::query_attributes`): on the call spans
//! inside the scope only, never on a metric, capped, and never called for a
//! span that does not record.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use opentelemetry::context::FutureExt as _;
use wingspan::db::{Attributes, CallInfo, Queryable, MAX_HOOK_ATTRIBUTES, MAX_OPERATION_NAME_LEN};

use super::{Db, WAIT};
use crate::support;
use crate::unsampled_parent as unsampled;

const OPERATION: &str = "wingspan.operation.name";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operation_name_lands_on_the_calls_inside_its_scope_only() {
    let db = Db::new(&[]).await;
    let s = &db.schema;
    db.admin
        .batch_execute(&format!("CREATE TABLE {s}.profiles (id int, name text)"))
        .await
        .unwrap();
    let pool = db.pool().await;
    let inside = format!("SELECT name FROM {s}.profiles WHERE id = $1");
    let outside = format!("SELECT id FROM {s}.profiles");
    let long_inner = format!("SELECT count(*) FROM {s}.profiles");

    wingspan::db::operation("load profile", async {
        let c = pool.get().await.unwrap();
        c.query(&inside, &[&1_i32]).await.unwrap();
        // A transaction's BEGIN, statements and COMMIT are calls too.
        let mut c = pool.get().await.unwrap();
        let tx = c.transaction().await.unwrap();
        tx.execute(&format!("INSERT INTO {s}.profiles VALUES (1, 'ada')"), &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // The innermost scope wins, and is cut to its cap.
        wingspan::db::operation("é".repeat(MAX_OPERATION_NAME_LEN), async {
            c.query_one(&long_inner, &[]).await.unwrap();
        })
        .await;
    })
    .await;
    let c = pool.get().await.unwrap();
    c.query(&outside, &[]).await.unwrap();
    drop(c);
    db.flush().await;

    let spans = db
        .receiver
        .wait_for_spans(
            |s| {
                let texts = [&inside, &outside, &long_inner];
                texts.iter().all(|t| {
                    s.iter()
                        .any(|s| s.attr_str("db.query.text") == Some(t.as_str()))
                }) && s.iter().any(|s| s.name == "COMMIT")
            },
            WAIT,
        )
        .await;
    let dump = support::dump_spans(&spans);
    let by_text = |text: &str| {
        spans
            .iter()
            .find(|s| s.attr_str("db.query.text") == Some(text))
            .unwrap_or_else(|| panic!("no span for {text}: {dump}"))
    };
    assert_eq!(by_text(&inside).attr_str(OPERATION), Some("load profile"));
    for name in ["BEGIN", "COMMIT"] {
        let span = spans.iter().find(|s| s.name == name).expect(name);
        assert_eq!(span.attr_str(OPERATION), Some("load profile"), "{name}");
    }
    let inner = by_text(&long_inner).attr_str(OPERATION).expect("inner");
    assert_eq!(inner.len(), MAX_OPERATION_NAME_LEN);
    assert!(inner.chars().all(|c| c == 'é'));
    assert!(!by_text(&outside).has_attr(OPERATION), "{dump}");
    // Acquire spans are not calls.
    assert!(spans
        .iter()
        .filter(|s| s.name.starts_with("acquire "))
        .all(|s| !s.has_attr(OPERATION)));

    let points = db
        .receiver
        .wait_for_metrics(
            |m| m.iter().any(|p| p.name == "db.client.operation.duration"),
            WAIT,
        )
        .await;
    assert!(points
        .iter()
        .filter(|p| p.name.starts_with("db.client"))
        .all(|p| !p.has_attr(OPERATION)));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_hook_adds_capped_attributes_to_recording_spans_only() {
    let db = Db::new(&[]).await;
    let s = db.schema.clone();
    db.admin
        .batch_execute(&format!("CREATE TABLE {s}.audit_log (id int)"))
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let pool = {
        let (calls, seen) = (calls.clone(), seen.clone());
        db.builder()
            .query_attributes(move |call: &CallInfo<'_>, attrs: &mut Attributes<'_>| {
                calls.fetch_add(1, Ordering::Relaxed);
                seen.lock().unwrap().push((
                    call.pool().to_owned(),
                    call.summary().to_owned(),
                    call.db_operation().map(str::to_owned),
                    call.collection().map(str::to_owned),
                    call.operation_name().map(str::to_owned),
                ));
                attrs.add("app.db.long", "x".repeat(5000));
                for i in 0..MAX_HOOK_ATTRIBUTES as i64 + 2 {
                    attrs.add(format!("app.db.extra.{i}"), i);
                }
            })
            .build()
            .await
            .unwrap()
    };
    let sql = format!("SELECT id FROM {s}.audit_log WHERE id = $1");
    wingspan::db::operation("audit", async {
        let c = pool.get().await.unwrap();
        c.query(&sql, &[&7_i32]).await.unwrap();
    })
    .await;
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    let (pool_name, summary, op, collection, operation) = seen.lock().unwrap()[0].clone();
    assert_eq!(pool_name, db.app);
    assert_eq!(summary, format!("SELECT {s}.audit_log"));
    assert_eq!(op.as_deref(), Some("SELECT"));
    assert_eq!(collection, Some(format!("{s}.audit_log")));
    assert_eq!(operation.as_deref(), Some("audit"));

    // Under a parent that is not sampled (the default parent-based
    // sampler): no span, no hook call.
    async {
        let c = pool.get().await.unwrap();
        c.query(&sql, &[&8_i32]).await.unwrap();
    }
    .with_context(unsampled())
    .await;
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "not called for an unsampled call"
    );
    db.flush().await;

    let span = db
        .receiver
        .wait_for_span(|s| s.attr_str("db.query.text") == Some(sql.as_str()))
        .await;
    assert_eq!(span.attr_str("app.db.long").map(str::len), Some(1024));
    for i in 0..MAX_HOOK_ATTRIBUTES as i64 - 1 {
        assert_eq!(
            span.attr_i64(&format!("app.db.extra.{i}")),
            Some(i),
            "{span:?}"
        );
    }
    let last = MAX_HOOK_ATTRIBUTES as i64 - 1;
    assert!(
        !span.has_attr(&format!("app.db.extra.{last}")),
        "over the cap: {span:?}"
    );
    assert_eq!(span.attr_str(OPERATION), Some("audit"));
    assert_eq!(span.attr_str("db.query.summary"), Some(summary.as_str()));

    let points = db
        .receiver
        .wait_for_metrics(
            |m| m.iter().any(|p| p.name == "db.client.operation.duration"),
            WAIT,
        )
        .await;
    assert!(points
        .iter()
        .filter(|p| p.name.starts_with("db.client"))
        .all(|p| p.attributes.keys().all(|k| !k.starts_with("app."))));
    db.drop_schema().await;
}

/// A sampler that decides per span (`traceidratio` 0): the span is built
/// but does not record, and the hook is not called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_hook_is_not_called_for_a_span_its_sampler_drops() {
    let db = Db::new(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0"),
    ])
    .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = {
        let calls = calls.clone();
        db.builder()
            .query_attributes(move |_: &CallInfo<'_>, _: &mut Attributes<'_>| {
                calls.fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .await
            .unwrap()
    };
    wingspan::db::operation("dropped", async {
        let c = pool.get().await.unwrap();
        c.query_one("SELECT 1", &[]).await.unwrap();
    })
    .await;
    assert_eq!(calls.load(Ordering::Relaxed), 0);
    db.drop_schema().await;
}
