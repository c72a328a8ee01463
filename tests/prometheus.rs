//! The optional Prometheus pull endpoint (feature `prometheus`): the same
//! metric names as the OTLP→Prometheus translation on the collector path.

#![cfg(feature = "prometheus")]

use std::time::Duration;

use axum::routing::get;
use axum::Router;

use crate::support::{self, Protocol, Receiver};

/// Serves `app` with the peer as `ConnectInfo`: `/metrics` answers a
/// loopback client without a token (the admin rule).
async fn serve(app: Router) -> String {
    format!("http://{}", support::spawn_app_with_peer(app).await)
}

fn routes(telemetry: &wingspan::Telemetry) -> Router {
    Router::new()
        .route("/api/users/{id}", get(|| async { "user" }))
        .route("/api/coach", get(|| async { "advice" }))
        .layer(wingspan::http::layer(telemetry).llm_routes(["/api/coach"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_endpoint_serves_the_collector_path_names() {
    let receiver = Receiver::start().await;
    // The pull endpoint listens there: held until the pipeline starts.
    let mut reserved = support::DeadPort::new();
    let port = reserved.port;
    let addr = format!("127.0.0.1:{port}");
    reserved.release();
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[("WINGSPAN_PROMETHEUS_ADDR", addr.as_str())],
    )
    .await;

    let base = serve(routes(&telemetry)).await;
    let client = crate::support::http_client();
    for path in ["/api/users/1", "/api/users/2", "/api/coach", "/nope"] {
        client.get(format!("{base}{path}")).send().await.unwrap();
    }

    // The listener of WINGSPAN_PROMETHEUS_ADDR, scraped like Prometheus does.
    let mut body = String::new();
    for _ in 0..50 {
        match client.get(format!("http://{addr}/metrics")).send().await {
            Ok(r) if r.status().is_success() => {
                body = r.text().await.unwrap();
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let has = |needle: &str| {
        body.lines()
            .any(|l| !l.starts_with('#') && l.contains(needle))
    };
    assert!(has("http_server_request_duration_seconds_bucket"), "{body}");
    assert!(
        body.lines().any(
            |l| l.starts_with("http_server_request_duration_seconds_bucket")
                && l.contains(r#"http_route="/api/users/{id}""#)
                && l.contains(r#"le="0.3""#)
                && l.contains(r#"wingspan_route_class="standard""#)
                && l.trim_end().ends_with(" 2")
        ),
        "two /api/users/{{id}} requests in the 0.3 s bucket:\n{body}"
    );
    assert!(has(r#"wingspan_route_class="llm""#), "{body}");
    assert!(has("http_server_request_duration_seconds_count"), "{body}");
    assert!(has("http_server_active_requests"), "{body}");
    // The pipeline's own metrics, under the names alert rules use.
    for name in [
        "otel_sdk_processor_span_processed_total",
        "otel_sdk_exporter_span_exported_total",
        "otel_sdk_exporter_metric_data_point_exported_total",
        "otel_sdk_exporter_log_exported_total",
        "otel_sdk_processor_log_processed_total",
    ] {
        assert!(has(name), "{name} missing:\n{body}");
    }
    assert!(
        has(r#"otel_sdk_processor_span_processed_total{error_type="queue_full""#)
            || body.lines().any(
                |l| l.starts_with("otel_sdk_processor_span_processed_total{")
                    && l.contains(r#"error_type="queue_full""#)
            ),
        "{body}"
    );
    assert!(has("process_cpu_time_seconds_total"), "{body}");
    // Unmatched paths share the method-only series: no raw path as a label.
    assert!(!body.contains("/nope"), "{body}");

    // The same text through the router and the handle.
    let via_router = serve(telemetry.prometheus_router()).await;
    let text = client
        .get(format!("{via_router}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("http_server_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(telemetry
        .prometheus_text()
        .unwrap()
        .contains("http_server_active_requests"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_endpoint_is_off_by_default() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    assert!(telemetry.prometheus_text().is_none());
    let base = serve(telemetry.prometheus_router()).await;
    let status = crate::support::http_client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}

/// `OTEL_SDK_DISABLED` disables the whole SDK, the pull reader included:
/// no listener on the configured address, no registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_endpoint_is_off_when_the_sdk_is_disabled() {
    let receiver = Receiver::start().await;
    // Free for the endpoint to take, were it wrongly started: held by a
    // dead socket, its bind would fail and nothing would answer either way.
    let port = support::DeadPort::new().release();
    let addr = format!("127.0.0.1:{port}");
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("OTEL_SDK_DISABLED", "true"),
            ("WINGSPAN_PROMETHEUS_ADDR", &addr),
        ],
    )
    .await;
    assert!(telemetry.prometheus_text().is_none());
    let refused = crate::support::http_client()
        .get(format!("http://{addr}/metrics"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(refused.is_err(), "{refused:?}");
}

/// `/metrics` follows the admin rule: the bearer token when one is set
/// (scheme in any case), and without one a loopback client only (a remote
/// peer, or an unknown one, gets 403).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_metrics_follow_the_admin_rule() {
    let receiver = Receiver::start().await;
    let token = "prom-token-0123456789abcdef";
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[
            ("WINGSPAN_PROMETHEUS", "true"),
            ("WINGSPAN_ADMIN_TOKEN", token),
        ],
    )
    .await;
    let client = crate::support::http_client();
    let base = serve(telemetry.prometheus_router()).await;
    let status = |auth: Option<String>| {
        let mut r = client.get(format!("{base}/metrics"));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        status(None).await,
        401,
        "a loopback client without the token"
    );
    assert_eq!(
        status(Some("Bearer wrong-token-0123456789".into())).await,
        401
    );
    assert_eq!(status(Some(format!("bearer {token}"))).await, 200);
    assert_eq!(status(Some(format!("Bearer  {token} "))).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_metrics_without_a_token_answer_loopback_clients_only() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[("WINGSPAN_PROMETHEUS", "true")],
    )
    .await;
    let client = crate::support::http_client();
    let get = |base: String| {
        let r = client.get(format!("{base}/metrics"));
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(serve(telemetry.prometheus_router()).await).await, 200);
    // A remote peer (TEST-NET-3) stood in by replacing ConnectInfo.
    let remote: std::net::SocketAddr = "203.0.113.9:40000".parse().unwrap();
    let as_remote = telemetry
        .prometheus_router()
        .layer(tower::util::MapRequestLayer::new(
            move |mut req: axum::extract::Request| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                req
            },
        ));
    assert_eq!(get(serve(as_remote).await).await, 403);
    // No ConnectInfo (plain axum::serve): unknown peer, refused.
    let unknown = format!(
        "http://{}",
        support::spawn_app(telemetry.prometheus_router()).await
    );
    assert_eq!(get(unknown).await, 403);
}
