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

/// The gRPC timeout a request carried (`grpc-timeout`: digits and a unit).
fn grpc_timeout(value: &str) -> Duration {
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().expect("grpc-timeout digits");
    match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        other => panic!("grpc-timeout unit {other:?}"),
    }
}

/// The export timeout bounds all attempts together: a retry after a slow
/// refusal gets only what is left of it, and tells the collector so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_span_export_retries_within_one_timeout() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1500"),
            // Only spans reach the receiver: the refusal below is theirs.
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    )
    .await;
    // Every answer takes 600 ms; the first export's is a refusal.
    receiver.set_delay(Duration::from_millis(600));
    receiver.fail_next(1);
    telemetry.tracer().start("bounded").end();
    telemetry.force_flush().await.unwrap();
    receiver
        .wait_for_spans(
            |s| s.iter().any(|s| s.name == "bounded"),
            Duration::from_secs(10),
        )
        .await;
    let timeouts: Vec<Duration> = receiver
        .exports()
        .iter()
        .filter(|e| e.signal == Signal::Traces)
        .map(|e| grpc_timeout(&e.headers["grpc-timeout"]))
        .collect();
    assert_eq!(timeouts.len(), 2, "a refusal and a retry: {timeouts:?}");
    assert!(timeouts[0] <= Duration::from_millis(1500), "{timeouts:?}");
    // 600 ms of refusal and at least 100 ms of backoff were spent.
    assert!(timeouts[1] <= Duration::from_millis(800), "{timeouts:?}");
    telemetry.shutdown().await.unwrap();
}

/// A collector endpoint that redirects gets no second request: a redirect
/// would carry the configured headers (API keys) to wherever it points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_span_export_follows_no_redirect() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let receiver = Receiver::start().await;
    let target = format!("{}/v1/traces", receiver.http_endpoint());
    let hits = Arc::new(AtomicUsize::new(0));
    let redirector = {
        let hits = hits.clone();
        axum::Router::new().fallback(move || {
            hits.fetch_add(1, Ordering::SeqCst);
            let target = target.clone();
            async move { axum::response::Redirect::temporary(&target) }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, redirector).await });
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &redirect),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=n0tForwarded"),
        ],
    )
    .await;
    telemetry.tracer().start("redirected").end();
    let _ = telemetry.force_flush().await;
    assert!(
        hits.load(Ordering::SeqCst) >= 1,
        "the export reached the redirect"
    );
    let followed: Vec<_> = receiver
        .exports()
        .into_iter()
        .filter(|e| e.signal == Signal::Traces)
        .collect();
    assert!(
        followed.is_empty(),
        "the redirect was followed: {followed:?}"
    );
    assert!(telemetry.loss_counts().spans_export_failed >= 1);
    server.abort();
    telemetry.shutdown().await.unwrap();
}

/// A partial success's rejected spans count as failed, not exported
/// (`error.type=rejected`), as the conventions of
/// `otel.sdk.exporter.span.exported` ask; the export is not retried.
async fn rejected_spans_count_as_failed(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, protocol, &[]).await;
    // Every trace export: one of its spans rejected.
    receiver.reject_spans(1);
    for i in 0..5 {
        telemetry
            .tracer()
            .start(format!("partly rejected {i}"))
            .end();
    }
    telemetry.force_flush().await.unwrap();
    let spans = receiver
        .wait_for_spans(|s| s.len() >= 5, Duration::from_secs(10))
        .await;
    let exports = receiver
        .exports()
        .iter()
        .filter(|e| e.signal == Signal::Traces)
        .count() as u64;
    let losses = telemetry.loss_counts();
    assert_eq!(losses.spans_export_failed, exports, "{losses:?}");
    assert_eq!(
        losses.spans_exported + losses.spans_export_failed,
        spans.len() as u64,
        "{losses:?}, no retry"
    );
    receiver
        .wait_for_point("otel.sdk.exporter.span.exported", |p| {
            p.attr_str("error.type") == Some("rejected") && p.value >= 1.0
        })
        .await;
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_rejected_spans_count_as_failed() {
    rejected_spans_count_as_failed(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_rejected_spans_count_as_failed() {
    rejected_spans_count_as_failed(Protocol::HttpProtobuf).await;
}
