//! `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`: with
//! `base2_exponential_bucket_histogram` every histogram, wingspan's own
//! (whose instruments carry explicit-bucket advice) and the application's,
//! reaches the collector as an exponential histogram whose buckets hold the
//! recorded values.

use axum::body::Body;
use axum::http::Request;
use axum::{routing::get, Router};
use opentelemetry::KeyValue;
use tower::ServiceExt as _;

use crate::support::{self, MetricKind, MetricPoint, Protocol, Receiver};

/// The index of the exponential bucket holding `v` at `scale`: bucket `i`
/// is `(2^(i/2^scale), 2^((i+1)/2^scale)]`.
fn bucket_index(v: f64, scale: i32) -> i32 {
    (v.log2() * 2f64.powi(scale)).ceil() as i32 - 1
}

fn count_at(p: &MetricPoint, v: f64) -> u64 {
    let scale = p.exp_scale.expect("an exponential point has a scale");
    let i = bucket_index(v, scale) - p.exp_offset;
    usize::try_from(i)
        .ok()
        .and_then(|i| p.bucket_counts.get(i).copied())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_exponential_histograms_reach_the_collector() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::HttpProtobuf,
        &[(
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
            "base2_exponential_bucket_histogram",
        )],
    )
    .await;

    // wingspan's HTTP duration: an instrument with explicit-bucket advice.
    let app = Router::new()
        .route("/api/items/{id}", get(|| async { "item" }))
        .layer(wingspan::http::layer(&telemetry));
    for _ in 0..3 {
        let res = app
            .clone()
            .oneshot(Request::get("/api/items/7").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // An application histogram without advice, with known values.
    let values = [0.0003, 0.0031, 0.029];
    let h = telemetry
        .meter()
        .f64_histogram("app.latency")
        .with_unit("s")
        .build();
    for v in values {
        h.record(v, &[KeyValue::new("k", "v")]);
    }
    telemetry.force_flush().await.unwrap();

    let http = receiver
        .wait_for_point("http.server.request.duration", |p| {
            p.matches(&[("http.route", "/api/items/{id}")]) && p.count == 3
        })
        .await;
    assert_eq!(http.kind, MetricKind::ExponentialHistogram);
    assert!(http.bounds.is_empty(), "{:?}", http.bounds);
    assert_eq!(http.bucket_counts.iter().sum::<u64>(), 3);
    assert!(http.min.is_some() && http.max.is_some());

    let app = receiver
        .wait_for_point("app.latency", |p| p.matches(&[("k", "v")]) && p.count == 3)
        .await;
    assert_eq!(app.kind, MetricKind::ExponentialHistogram);
    let scale = app.exp_scale.unwrap();
    assert!((0..=20).contains(&scale), "scale {scale}");
    assert!(app.bucket_counts.len() <= 160);
    for v in values {
        assert_eq!(count_at(&app, v), 1, "{v} at scale {scale}: {app:?}");
    }
    assert_eq!(app.min, Some(0.0003));
    assert_eq!(app.max, Some(0.029));
    // Other instruments are untouched by the view.
    let active = receiver
        .wait_for_point("http.server.active_requests", |_| true)
        .await;
    assert_eq!(active.kind, MetricKind::Sum { monotonic: false });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_explicit_histograms_resolve_below_five_ms() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::HttpProtobuf, &[]).await;
    let h = telemetry
        .meter()
        .f64_histogram("db.client.operation.duration")
        .with_unit("s")
        .build();
    // 0.4 ms and 2 ms: one bucket each below 5 ms, not both in the first.
    h.record(0.0004, &[]);
    h.record(0.002, &[]);
    telemetry.force_flush().await.unwrap();
    let p = receiver
        .wait_for_point("db.client.operation.duration", |p| p.count == 2)
        .await;
    assert_eq!(p.kind, MetricKind::Histogram);
    assert_eq!(p.bounds, wingspan::telemetry::buckets::DB_CLIENT_DURATION);
    assert_eq!(
        &p.bucket_counts[..4],
        &[1, 0, 1, 0],
        "{:?}",
        p.bucket_counts
    );
}
