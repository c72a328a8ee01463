//! wingspan's own span exporter (`src/telemetry/otlp/`) as a collector sees
//! it, for both OTLP protocols: a collector that fails and recovers gets the
//! spans on a retry, nothing counted as lost, and every export names the
//! exporter in its `User-Agent`. (The bytes themselves are checked against
//! opentelemetry-proto's encoding by the encoder's unit tests; every other
//! test here decodes them with the collector's own protobuf types.)

use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};

use crate::support::{self, Protocol, Receiver, Signal};

async fn a_failing_collector_gets_the_spans_on_a_retry(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, protocol, &[]).await;
    receiver.set_failing(true);
    let mut span = telemetry.tracer().start("retried");
    span.set_attribute(opentelemetry::KeyValue::new("probe", 7_i64));
    span.end();
    let flush = {
        let t = telemetry.clone();
        tokio::spawn(async move { t.force_flush().await })
    };
    // The first attempt is refused (UNAVAILABLE, or 503) ...
    receiver.wait_for_export(Signal::Traces).await;
    // ... and the retry, at least 100 ms later, is accepted.
    receiver.set_failing(false);
    flush.await.unwrap().unwrap();
    let spans = receiver
        .wait_for_spans(
            |s| s.iter().any(|s| s.name == "retried"),
            Duration::from_secs(10),
        )
        .await;
    let span = spans.iter().find(|s| s.name == "retried").unwrap();
    assert_eq!(span.attr_i64("probe"), Some(7));

    let attempts: Vec<_> = receiver
        .exports()
        .into_iter()
        .filter(|e| e.signal == Signal::Traces)
        .collect();
    assert!(
        attempts.len() >= 2,
        "one refused export and a retry: {attempts:?}"
    );
    let agent = concat!("OTel-OTLP-Exporter-Rust/", env!("CARGO_PKG_VERSION"));
    for e in &attempts {
        let ua = e
            .headers
            .get("user-agent")
            .map(String::as_str)
            .unwrap_or("");
        assert!(
            ua.starts_with(agent),
            "user-agent {ua:?}, expected {agent:?} first"
        );
    }
    let losses = telemetry.loss_counts();
    assert_eq!(losses.spans_export_failed, 0, "{losses:?}");
    assert!(losses.spans_exported >= 1, "{losses:?}");
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_span_export_is_retried_and_names_its_exporter() {
    a_failing_collector_gets_the_spans_on_a_retry(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_span_export_is_retried_and_names_its_exporter() {
    a_failing_collector_gets_the_spans_on_a_retry(Protocol::HttpProtobuf).await;
}

/// Credentials in the endpoint URL are never sent, as with the other
/// signals: they belong in `OTEL_EXPORTER_OTLP_HEADERS` (SECURITY.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_span_export_sends_no_url_credentials() {
    let receiver = Receiver::start().await;
    let authority = receiver
        .http_endpoint()
        .strip_prefix("http://")
        .expect("an http:// endpoint")
        .to_owned();
    let endpoint = format!("http://u:n0tSent@{authority}/v1/traces");
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint)],
    )
    .await;
    telemetry.tracer().start("credentials").end();
    telemetry.force_flush().await.unwrap();
    receiver
        .wait_for_spans(
            |s| s.iter().any(|s| s.name == "credentials"),
            Duration::from_secs(10),
        )
        .await;
    for e in receiver.exports() {
        assert!(
            !e.headers.contains_key("authorization"),
            "{:?} export sent {:?}",
            e.signal,
            e.headers.get("authorization")
        );
    }
    telemetry.shutdown().await.unwrap();
}
