//! Attribute value limits: header-derived values are capped by default, the
//! `OTEL_*ATTRIBUTE_VALUE_LENGTH_LIMIT` variables cap every span attribute,
//! and 300 KB user agents against a collector that never answers leave the
//! resident set bounded.

use std::net::SocketAddr;

use axum::{routing::get, Router};
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;

use crate::support::{self, Protocol, Receiver, SilentCollector};

async fn serve(telemetry: &wingspan::Telemetry) -> SocketAddr {
    let app = Router::new()
        .route("/api/items/{id}", get(|| async { "item" }))
        .layer(wingspan::http::layer(telemetry));
    support::spawn_app(app).await
}

fn assert_capped(span: &support::SpanRecord, key: &str, original: &str, cap: usize) {
    let value = span
        .attr_str(key)
        .unwrap_or_else(|| panic!("{key} missing on {span:?}"));
    assert!(
        value.len() <= cap,
        "{key} has {} bytes, cap {cap}",
        value.len()
    );
    assert!(
        value.len() >= cap - 4,
        "{key} cut too short: {}",
        value.len()
    );
    assert!(
        original.starts_with(value),
        "{key} is not a prefix of the original"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_header_sized_values_are_capped_by_default() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    let addr = serve(&telemetry).await;
    let client = crate::support::http_client();

    // Header values are visible ASCII (anything else is not recorded);
    // cutting on a character boundary is covered by the unit tests.
    let agent = "Mozilla/5.0 ".repeat(25_000);
    let res = client
        .get(format!("http://{addr}/api/items/1"))
        .header("user-agent", agent.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let host = format!("{}.example", "h".repeat(100_000));
    let res = client
        .get(format!("http://{addr}/api/items/2"))
        .header("host", host.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let path = format!("/unknown/{}", "p".repeat(30_000));
    client
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap();
    let method = "X".repeat(4_000);
    client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("http://{addr}/api/items/3"),
        )
        .send()
        .await
        .unwrap();
    telemetry.force_flush().await.unwrap();

    let cap = wingspan::http::HEADER_VALUE_LIMIT;
    assert_eq!(cap, 1024);
    let s = receiver
        .wait_for_span(|s| s.attr_str("url.path") == Some("/api/items/1"))
        .await;
    assert_capped(&s, "user_agent.original", &agent, cap);
    let s = receiver
        .wait_for_span(|s| s.attr_str("url.path") == Some("/api/items/2"))
        .await;
    assert_capped(&s, "server.address", &host, cap);
    let s = receiver
        .wait_for_span(|s| {
            s.attr_str("url.path")
                .is_some_and(|p| p.starts_with("/unknown/"))
        })
        .await;
    assert_capped(&s, "url.path", &path, cap);
    let s = receiver
        .wait_for_span(|s| s.attr_str("url.path") == Some("/api/items/3"))
        .await;
    assert_capped(&s, "http.request.method_original", &method, cap);
}

async fn span_attribute_after(vars: &[(&str, &str)]) -> String {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::HttpProtobuf, vars).await;
    let long = "é".repeat(5_000);
    let mut span = telemetry.tracer().start("long.values");
    span.set_attribute(KeyValue::new("test.long", long.clone()));
    span.set_attribute(KeyValue::new("test.short", "short"));
    span.add_event("with.long", vec![KeyValue::new("test.long", long)]);
    span.end();
    telemetry.force_flush().await.unwrap();
    let s = receiver.wait_for_span(|s| s.name == "long.values").await;
    assert_eq!(s.attr_str("test.short"), Some("short"));
    let value = s.attr_str("test.long").unwrap().to_owned();
    let event = s.events.iter().find(|e| e.name == "with.long").unwrap();
    assert_eq!(
        event.attributes.get("test.long").and_then(|v| v.as_str()),
        Some(value.as_str()),
        "event attributes get the same limit"
    );
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_span_attribute_value_length_limit_is_honoured() {
    let v = span_attribute_after(&[("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64")]).await;
    // The specification counts characters, not bytes.
    assert_eq!(v.chars().count(), 64);
    assert!(v.chars().all(|c| c == 'é'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_general_attribute_value_length_limit_is_honoured_and_span_limit_wins() {
    let v = span_attribute_after(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "32")]).await;
    assert_eq!(v.chars().count(), 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_span_specific_limit_wins_over_the_general_one() {
    let v = span_attribute_after(&[
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "32"),
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
    ])
    .await;
    assert_eq!(v.chars().count(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_huge_user_agents_against_a_silent_collector_keep_memory_bounded() {
    let receiver = Receiver::start().await;
    let silent = SilentCollector::start().await;
    let endpoint = silent.endpoint();
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "512"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "30000"),
        ],
    )
    .await;
    let addr = serve(&telemetry).await;
    let client = crate::support::http_client();
    let agent = "a".repeat(300_000);
    // A different agent each time: repeated values share one string.
    let request = |i: usize| {
        client
            .get(format!("http://{addr}/api/items/{i}"))
            .header("user-agent", format!("{i:06}{agent}"))
            .send()
    };
    // Warm up: connection buffers sized for 300 KB headers.
    for i in 0..20 {
        assert_eq!(request(i).await.unwrap().status(), 200);
    }
    let before = support::resident_bytes();
    for i in 0..700 {
        assert_eq!(request(i).await.unwrap().status(), 200);
    }
    let after = support::resident_bytes();
    let grown = after.saturating_sub(before);
    eprintln!(
        "resident set: {} MB before, {} MB after 700 requests with 300 KB user agents ({} MB more); {:?}",
        before >> 20,
        after >> 20,
        grown >> 20,
        telemetry.loss_counts()
    );
    // Uncapped, the queue alone holds 512 × 300 KB = 150 MB.
    assert!(grown < 40 << 20, "resident set grew by {} MB", grown >> 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_count_limits_drop_attributes_events_and_links_past_the_limit() {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "5"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "2"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "1"),
            ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1"),
        ],
    )
    .await;
    let tracer = telemetry.tracer();
    let link = |n: u8| {
        SpanContext::new(
            TraceId::from_bytes([n; 16]),
            SpanId::from_bytes([n; 8]),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        )
    };
    let mut span = tracer
        .span_builder("many.items")
        .with_links(vec![
            opentelemetry::trace::Link::with_context(link(1)),
            opentelemetry::trace::Link::with_context(link(2)),
        ])
        .start(tracer);
    for i in 0..10_i64 {
        span.set_attribute(KeyValue::new(format!("test.a{i}"), i));
    }
    for i in 0..4 {
        span.add_event(
            format!("e{i}"),
            vec![KeyValue::new("x", 1_i64), KeyValue::new("y", 2_i64)],
        );
    }
    span.end();
    telemetry.force_flush().await.unwrap();
    let s = receiver.wait_for_span(|s| s.name == "many.items").await;
    assert_eq!(s.attributes.len(), 5, "{:?}", s.attributes);
    // The first ones are kept.
    assert_eq!(s.attr_i64("test.a0"), Some(0));
    assert_eq!(s.events.len(), 2, "{:?}", s.events);
    assert!(s.events.iter().all(|e| e.attributes.len() == 1));
    assert_eq!(s.links.len(), 1, "{:?}", s.links);

    // Log records: the bridge stops at OTEL_ATTRIBUTE_COUNT_LIMIT too
    // (code.file.path and code.line.number first).
    tracing::info!(
        f1 = 1_i64,
        f2 = 2_i64,
        f3 = 3_i64,
        f4 = 4_i64,
        f5 = 5_i64,
        "many fields"
    );
    telemetry.force_flush().await.unwrap();
    let log = receiver.wait_for_log(|l| l.body == "many fields").await;
    assert_eq!(log.attributes.len(), 5, "{:?}", log.attributes);
    assert!(log.has_attr("code.file.path") && log.has_attr("f3"));
    assert!(!log.has_attr("f4"));
}
