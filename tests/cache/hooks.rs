//! The caller's operation name (`wingspan::cache::operation`) and the
//! cache's attribute hook (`CacheBuilder::command_attributes`): on the
//! command spans inside the scope only, never on a metric, capped, and never
//! called for a span that does not record.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry::context::FutureExt as _;
use wingspan::cache::{Attributes, Cache, CallInfo, MAX_HOOK_ATTRIBUTES, MAX_OPERATION_NAME_LEN};

use super::{setup, WAIT};
use crate::support;
use crate::unsampled_parent as unsampled;

const OPERATION: &str = "wingspan.operation.name";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operation_name_lands_on_the_commands_inside_its_scope_only() {
    let (receiver, telemetry) = setup(&[]).await;
    let cache = super::cache(&telemetry).await;
    let prefix = support::unique("opname");
    let (a, b, c) = (
        format!("{prefix}:a"),
        format!("{prefix}:b"),
        format!("{prefix}:c"),
    );
    wingspan::cache::operation("load profile", async {
        cache.set(&a, "1", None).await.unwrap();
        wingspan::cache::operation("é".repeat(MAX_OPERATION_NAME_LEN + 10), async {
            let _: Option<String> = cache.get(&b).await.unwrap();
        })
        .await;
    })
    .await;
    let _: Option<String> = cache.get(&c).await.unwrap();
    cache.del(&[&a]).await.unwrap();
    telemetry.force_flush().await.unwrap();

    let spans = receiver
        .wait_for_spans(|s| s.iter().filter(|s| s.name == "GET").count() >= 2, WAIT)
        .await;
    let dump = support::dump_spans(&spans);
    let set = spans.iter().find(|s| s.name == "SET").expect("SET");
    assert_eq!(set.attr_str(OPERATION), Some("load profile"), "{dump}");
    let gets: Vec<_> = spans.iter().filter(|s| s.name == "GET").collect();
    let inner: Vec<_> = gets.iter().filter_map(|s| s.attr_str(OPERATION)).collect();
    assert_eq!(inner.len(), 1, "one GET inside, one outside: {dump}");
    assert_eq!(
        inner[0].len(),
        MAX_OPERATION_NAME_LEN - MAX_OPERATION_NAME_LEN % 2
    );
    assert!(inner[0].chars().all(|c| c == 'é'));
    let del = spans.iter().find(|s| s.name == "DEL").expect("DEL");
    assert!(!del.has_attr(OPERATION), "{dump}");

    let points = receiver
        .wait_for_metrics(
            |m| m.iter().any(|p| p.name == "wingspan.cache.requests"),
            WAIT,
        )
        .await;
    assert!(points
        .iter()
        .filter(|p| p.name.starts_with("db.client") || p.name.starts_with("wingspan.cache"))
        .all(|p| !p.has_attr(OPERATION)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_hook_adds_capped_attributes_to_recording_spans_only() {
    let (receiver, telemetry) = setup(&[]).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let cache = {
        let (calls, seen) = (calls.clone(), seen.clone());
        Cache::builder(&telemetry)
            .command_attributes(move |call: &CallInfo<'_>, attrs: &mut Attributes<'_>| {
                calls.fetch_add(1, Ordering::Relaxed);
                seen.lock().unwrap().push((
                    call.command().to_owned(),
                    call.cache_name().map(str::to_owned),
                    call.operation_name().map(str::to_owned),
                ));
                attrs.add("app.cache.long", "x".repeat(5000));
                for i in 0..MAX_HOOK_ATTRIBUTES as i64 + 2 {
                    attrs.add(format!("app.cache.extra.{i}"), i);
                }
            })
            .build()
            .await
            .unwrap()
    };
    let prefix = support::unique("hook");
    let key = format!("{prefix}:secret-42");
    wingspan::cache::operation("audit", async {
        let _: Option<String> = cache.get(&key).await.unwrap();
    })
    .await;
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    assert_eq!(
        seen.lock().unwrap()[0],
        (
            "GET".to_owned(),
            Some(prefix.clone()),
            Some("audit".to_owned())
        )
    );

    // Under a parent that is not sampled: no span, no hook call.
    async {
        let _: Option<String> = cache.get(&key).await.unwrap();
    }
    .with_context(unsampled())
    .await;
    assert_eq!(
        calls.load(Ordering::Relaxed),
        1,
        "not called when unsampled"
    );
    telemetry.force_flush().await.unwrap();

    let span = receiver.wait_for_span(|s| s.name == "GET").await;
    assert_eq!(span.attr_str("app.cache.long").map(str::len), Some(1024));
    for i in 0..MAX_HOOK_ATTRIBUTES as i64 - 1 {
        assert_eq!(
            span.attr_i64(&format!("app.cache.extra.{i}")),
            Some(i),
            "{span:?}"
        );
    }
    let last = MAX_HOOK_ATTRIBUTES as i64 - 1;
    assert!(
        !span.has_attr(&format!("app.cache.extra.{last}")),
        "over the cap: {span:?}"
    );
    assert_eq!(span.attr_str(OPERATION), Some("audit"));
    assert!(!support::dump_spans(&receiver.spans()).contains("secret-42"));

    let points = receiver
        .wait_for_metrics(
            |m| m.iter().any(|p| p.name == "wingspan.cache.requests"),
            WAIT,
        )
        .await;
    assert!(points
        .iter()
        .filter(|p| p.name.starts_with("db.client") || p.name.starts_with("wingspan.cache"))
        .all(|p| p.attributes.keys().all(|k| !k.starts_with("app."))));
}

/// A sampler that decides per span (`traceidratio` 0): the span is built
/// but does not record, and the hook is not called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_hook_is_not_called_for_a_span_its_sampler_drops() {
    let (_receiver, telemetry) = setup(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0"),
    ])
    .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = {
        let calls = calls.clone();
        Cache::builder(&telemetry)
            .command_attributes(move |_: &CallInfo<'_>, _: &mut Attributes<'_>| {
                calls.fetch_add(1, Ordering::Relaxed);
            })
            .build()
            .await
            .unwrap()
    };
    let key = format!("{}:k", support::unique("dropped"));
    wingspan::cache::operation("dropped", async {
        let _: Option<String> = cache.get(&key).await.unwrap();
    })
    .await;
    assert_eq!(calls.load(Ordering::Relaxed), 0);
}
