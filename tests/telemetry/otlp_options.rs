//! The OTLP exporter options as the specification defines them, observed on
//! the wire: per-signal options replace the general ones for their signal
//! alone, the metric temporality preference, mutual TLS, and invalid
//! `OTEL_*` values as warnings that do not stop the service.

use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};

use crate::support::{self, Certs, MutualTls, Protocol, Receiver, Signal, Transport};

/// One span, one counter increment and one log record, flushed.
async fn emit_each_signal(telemetry: &wingspan::Telemetry) {
    let tracer = telemetry.tracer();
    tracer.start("probe").end();
    wingspan_test_counter(telemetry).add(1, &[]);
    tracing::info!(target: "probe", "probe log");
    telemetry.force_flush().await.unwrap();
}

fn wingspan_test_counter(telemetry: &wingspan::Telemetry) -> opentelemetry::metrics::Counter<u64> {
    telemetry.meter().u64_counter("probe.count").build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_per_signal_options_replace_the_general_ones_for_their_signal() {
    let receiver = Receiver::start().await;
    let metrics_url = format!("{}/v1/metrics", receiver.http_endpoint());
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-general=g,x-shared=general"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &metrics_url),
            ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-shared=metrics"),
            ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
        ],
    )
    .await;
    emit_each_signal(&telemetry).await;
    let traces = receiver.wait_for_export(Signal::Traces).await;
    let metrics = receiver.wait_for_export(Signal::Metrics).await;
    let logs = receiver.wait_for_export(Signal::Logs).await;

    assert_eq!(traces.transport, Transport::Grpc);
    assert_eq!(
        traces.headers.get("x-general").map(String::as_str),
        Some("g")
    );
    assert_eq!(
        traces.headers.get("x-shared").map(String::as_str),
        Some("general")
    );
    assert!(!traces.gzip);

    // The metrics' own protocol, endpoint and header list; the general list
    // is replaced, not merged.
    assert_eq!(metrics.transport, Transport::Http);
    assert_eq!(
        metrics.headers.get("x-shared").map(String::as_str),
        Some("metrics")
    );
    assert!(
        !metrics.headers.contains_key("x-general"),
        "{:?}",
        metrics.headers
    );

    assert_eq!(logs.transport, Transport::Grpc);
    assert!(logs.gzip, "the logs' own compression");
    telemetry.shutdown().await.unwrap();
}

async fn counter_is_cumulative(extra: &[(&str, &str)]) -> bool {
    let receiver = Receiver::start().await;
    // Three pipelines in one process: no globals, no subscriber.
    let telemetry =
        wingspan::Telemetry::builder(support::config(&receiver, Protocol::HttpProtobuf, extra))
            .install_globals(false)
            .install_subscriber(false)
            .build()
            .unwrap();
    wingspan_test_counter(&telemetry).add(3, &[]);
    telemetry.force_flush().await.unwrap();
    let point = receiver.wait_for_point("probe.count", |_| true).await;
    telemetry.shutdown().await.unwrap();
    point.cumulative
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_temporality_preference_reaches_the_exported_points() {
    assert!(counter_is_cumulative(&[]).await, "cumulative by default");
    assert!(
        !counter_is_cumulative(&[(wingspan::config::TEMPORALITY_VAR, "delta")]).await,
        "delta asked for"
    );
    assert!(
        !counter_is_cumulative(&[(wingspan::config::TEMPORALITY_VAR, "lowmemory")]).await,
        "a synchronous counter is delta under lowmemory"
    );
}

/// A collector that requires a client certificate: with the certificate
/// and key set, spans arrive; without them, the handshake fails and nothing
/// does (so the first half proves the certificate was presented).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_mutual_tls_presents_the_client_certificate() {
    let certs = Certs::new();
    certs.leaf("collector", "IP:127.0.0.1,DNS:localhost", "serverAuth");
    certs.leaf("client", "DNS:wingspan-client", "clientAuth");
    let read = |f: &str| std::fs::read(certs.path(f)).unwrap();
    let tls = || MutualTls {
        cert: read("collector.crt"),
        key: read("collector.key"),
        client_ca: Some(read("ca.pem")),
    };
    let ca = certs.path("ca.pem");
    let ca = ca.to_str().unwrap();
    let (cert, key) = (certs.path("client.crt"), certs.path("client.key"));

    let receiver = Receiver::start_mutual_tls(tls()).await;
    assert!(receiver.grpc_endpoint().starts_with("https://"));
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                cert.to_str().unwrap(),
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.to_str().unwrap()),
        ],
    )
    .await;
    telemetry.tracer().start("with-client-cert").end();
    telemetry.force_flush().await.unwrap();
    receiver
        .wait_for_span(|s| s.name == "with-client-cert")
        .await;
    telemetry.shutdown().await.unwrap();

    let receiver = Receiver::start_mutual_tls(tls()).await;
    let telemetry = wingspan::Telemetry::builder(support::config(
        &receiver,
        Protocol::Grpc,
        &[("OTEL_EXPORTER_OTLP_CERTIFICATE", ca)],
    ))
    .install_globals(false)
    .install_subscriber(false)
    .build()
    .unwrap();
    telemetry.tracer().start("without-client-cert").end();
    let _ = telemetry.force_flush().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.exports().is_empty(),
        "an export arrived without a client certificate"
    );
    let _ = telemetry.shutdown().await;
}

/// `OTEL_*` typos: the service starts, exports with the defaults, and logs
/// one warning per variable naming it; in strict mode `init` refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_invalid_otel_values_are_logged_warnings_not_a_stopped_service() {
    let receiver = Receiver::start().await;
    let bad = [
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
        ("OTEL_SDK_DISABLED", "yes"),
    ];
    let mut extra = bad.to_vec();
    extra.push(("WINGSPAN_STRICT_CONFIG", "false"));
    let telemetry = support::telemetry(&receiver, Protocol::HttpProtobuf, &extra).await;
    telemetry.tracer().start("still-exported").end();
    telemetry.force_flush().await.unwrap();
    receiver.wait_for_span(|s| s.name == "still-exported").await;
    for (var, value) in bad {
        let log = receiver
            .wait_for_log(|l| l.body.contains(var) && l.severity_text == "WARN")
            .await;
        assert!(log.body.contains(value), "{}", log.body);
        assert!(log.body.contains("the default applies"), "{}", log.body);
    }
    telemetry.shutdown().await.unwrap();

    let strict = wingspan::Config::builder()
        .strict()
        .var("OTEL_TRACES_SAMPLER", "sometimes")
        .build()
        .unwrap_err();
    assert_eq!(strict.variable, "OTEL_TRACES_SAMPLER");
}
