//! `OTEL_*_EXPORTER` lists: `otlp,console` still delivers over OTLP, and
//! `OTEL_METRICS_EXPORTER=prometheus` serves `/metrics` on
//! `OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT`.

use opentelemetry::trace::{Span as _, Tracer as _};

use crate::support::{self, Protocol, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_otlp_and_console_lists_still_export_to_the_collector() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[
            ("OTEL_TRACES_EXPORTER", "otlp,console"),
            ("OTEL_METRICS_EXPORTER", "console, otlp"),
            ("OTEL_LOGS_EXPORTER", "otlp,console"),
        ],
    )
    .await;
    telemetry.tracer().start("listed.span").end();
    tracing::info!("listed log");
    telemetry.force_flush().await.unwrap();
    receiver.wait_for_span(|s| s.name == "listed.span").await;
    receiver.wait_for_log(|l| l.body == "listed log").await;
    receiver
        .wait_for_point("otel.sdk.processor.span.processed", |_| true)
        .await;
    // Losses are counted once, on the OTLP side.
    let losses = telemetry.loss_counts();
    assert_eq!(losses.spans_export_failed, 0, "{losses:?}");
    assert!(losses.spans_exported >= 1, "{losses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_console_alone_exports_nothing_over_otlp() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[("OTEL_TRACES_EXPORTER", "console")],
    )
    .await;
    let mut span = telemetry.tracer().start("console.only");
    span.end();
    tracing::info!("console.only log");
    telemetry.force_flush().await.unwrap();
    // The log still goes over OTLP: it is the span that must not.
    receiver
        .wait_for_log(|l| l.body == "console.only log")
        .await;
    assert!(receiver.spans_named("console.only").is_empty());
}

#[cfg(feature = "prometheus")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_prometheus_exporter_serves_metrics_on_the_otel_port() {
    use std::time::Duration;

    let receiver = Receiver::start().await;
    let mut reserved = support::DeadPort::new();
    let port = reserved.port.to_string();
    reserved.release();
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_METRICS_EXPORTER", "prometheus"),
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "localhost"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", port.as_str()),
        ],
    )
    .await;
    assert!(telemetry.config().telemetry.prometheus_enabled);
    telemetry.tracer().start("counted").end();
    let client = support::http_client();
    let mut body = String::new();
    // Loopback without WINGSPAN_ADMIN_TOKEN: admitted by the admin rule.
    for _ in 0..100 {
        match client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                body = r.text().await.unwrap();
                if body.contains("otel_sdk_processor_span_processed_total") {
                    break;
                }
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        body.contains("otel_sdk_processor_span_processed_total"),
        "{body}"
    );
    // Prometheus alone: nothing pushed over OTLP.
    telemetry.force_flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.metrics().is_empty(), "metrics were pushed");
}
