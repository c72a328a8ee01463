//! The collector that accepts connections and never answers, for both OTLP
//! protocols: requests through the HTTP layer are as fast as with a healthy
//! collector, shutdown stays bounded, and the losses are counted in the
//! pipeline's own metrics.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::{routing::get, Router};

use crate::support::{self, Protocol, Receiver, SilentCollector};

/// Requests per pipeline, interleaved between the two.
const REQUESTS: usize = 300;

/// A pipeline that installs nothing globally, so two can live in one test.
fn pipeline(vars: &[(String, String)]) -> wingspan::Telemetry {
    let mut b = wingspan::Config::builder();
    for (k, v) in vars {
        b = b.var(k, v);
    }
    wingspan::Telemetry::builder(b.build().expect("valid test configuration"))
        .install_globals(false)
        .install_subscriber(false)
        .build()
        .expect("pipeline")
}

async fn serve(telemetry: &wingspan::Telemetry) -> SocketAddr {
    let app = Router::new()
        .route("/api/items/{id}", get(|| async { "item" }))
        .layer(wingspan::http::layer(telemetry));
    support::spawn_app(app).await
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn silent_collector_leaves_requests_alone(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let silent = SilentCollector::start().await;
    let common = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "256"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"),
        ("WINGSPAN_PROMETHEUS", "true"),
    ];
    let healthy = pipeline(&support::config_vars(&receiver, protocol, &common));
    let mut vars = common.to_vec();
    let endpoint = silent.endpoint();
    vars.push(("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint));
    let outage = pipeline(&support::config_vars(&receiver, protocol, &vars));
    let healthy_addr = serve(&healthy).await;
    let outage_addr = serve(&outage).await;
    let client = crate::support::http_client();

    let mut times = [Vec::new(), Vec::new()];
    for i in 0..REQUESTS {
        for (slot, addr) in [healthy_addr, outage_addr].into_iter().enumerate() {
            let t = Instant::now();
            let res = client
                .get(format!("http://{addr}/api/items/{i}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.bytes().await.unwrap();
            times[slot].push(t.elapsed());
        }
    }
    for t in &mut times {
        t.sort();
    }
    let [h, o] = &times;
    let (h50, h99, o50, o99) = (
        percentile(h, 0.5),
        percentile(h, 0.99),
        percentile(o, 0.5),
        percentile(o, 0.99),
    );
    eprintln!(
        "{}: healthy p50 {h50:?} p99 {h99:?} max {:?}; silent collector p50 {o50:?} p99 {o99:?} max {:?}",
        protocol.as_str(),
        h.last().unwrap(),
        o.last().unwrap()
    );
    // Correctness bounds, not speed claims: an export that blocked a request
    // would cost the 1 s export timeout.
    assert!(
        o50 < h50 * 3 + Duration::from_millis(5),
        "p50 {o50:?} vs {h50:?}"
    );
    assert!(
        o99 < h99 * 3 + Duration::from_millis(50),
        "p99 {o99:?} vs {h99:?}"
    );

    // The losses: spans dropped at the full queue or whose export timed out,
    // counted by the handle and by the pipeline's own metrics.
    let deadline = Instant::now() + Duration::from_secs(10);
    while outage.loss_counts().spans_export_failed == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let losses = outage.loss_counts();
    eprintln!("{}: losses {losses:?}", protocol.as_str());
    assert!(losses.spans_export_failed > 0, "{losses:?}");
    assert_eq!(losses.spans_exported, 0, "{losses:?}");
    assert_eq!(healthy.loss_counts().spans_export_failed, 0);

    let text = outage.prometheus_text().expect("prometheus registry");
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("otel_sdk_exporter_span_exported_total{") && l.contains("error_type=\"")
        })
        .collect();
    assert!(
        failed.iter().any(|l| !l.ends_with(" 0")),
        "no failed span exports in:\n{text}"
    );
    assert!(
        text.lines().any(
            |l| l.starts_with("otel_sdk_processor_span_processed_total{")
                && l.contains("error_type=\"queue_full\"")
        ),
        "no queue_full series in:\n{text}"
    );

    let started = Instant::now();
    let result = outage.shutdown().await;
    let took = started.elapsed();
    eprintln!("{}: shutdown {took:?} {result:?}", protocol.as_str());
    let bound = wingspan::telemetry::SHUTDOWN_TIMEOUT + Duration::from_millis(1500);
    assert!(took < bound, "shutdown took {took:?}");
    healthy.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_silent_collector_leaves_requests_alone() {
    silent_collector_leaves_requests_alone(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_silent_collector_leaves_requests_alone() {
    silent_collector_leaves_requests_alone(Protocol::HttpProtobuf).await;
}
