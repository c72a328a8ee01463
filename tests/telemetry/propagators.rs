//! `OTEL_PROPAGATORS` end to end: an instrumented axum app reads the
//! configured formats from its callers (the exported SERVER span continues
//! the caller's trace), ignores the others, and `wingspan::client` writes
//! the configured formats on its requests.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use opentelemetry::Context;
use wingspan::client::{HttpClient, RetryPolicy};

use crate::support::{self, Kind, Protocol, Receiver, SpanRecord};

/// An app whose one route answers with the names of the headers it got.
async fn serve(vars: &[(&str, &str)]) -> (Receiver, wingspan::Telemetry, String) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, vars).await;
    let app = Router::new()
        .route(
            "/echo",
            get(|headers: HeaderMap| async move {
                let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
                names.sort_unstable();
                names.join(",")
            }),
        )
        .layer(wingspan::http::layer(&telemetry));
    let addr = support::spawn_app_with_peer(app).await;
    (receiver, telemetry, format!("http://{addr}/echo"))
}

async fn server_span(receiver: &Receiver, telemetry: &wingspan::Telemetry) -> SpanRecord {
    telemetry.force_flush().await.unwrap();
    receiver
        .wait_for_span(|s| s.name == "GET /echo" && s.kind == Kind::Server)
        .await
}

async fn call(url: &str, headers: &[(&str, &str)]) {
    let mut request = support::http_client().get(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
}

/// A format, its headers, and the trace id and parent span id they carry.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

/// Each configured format's documented example header continues the
/// caller's trace: trace id and parent span id are the caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagators_b3_jaeger_xray_ottrace_continue_the_callers_trace() {
    let cases: [Case; 5] = [
        (
            "b3",
            &[(
                "b3",
                "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
            )],
            "80f198ee56343ba864fe8b2a57d3eff7",
            "e457b5a2e4d86bd1",
        ),
        (
            "b3multi",
            &[
                ("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"),
                ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
                ("X-B3-SpanId", "e457b5a2e4d86bd1"),
                ("X-B3-Sampled", "1"),
            ],
            "80f198ee56343ba864fe8b2a57d3eff7",
            "e457b5a2e4d86bd1",
        ),
        (
            "xray",
            &[(
                "X-Amzn-Trace-Id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            )],
            "5759e988bd862e3fe1be46a994272793",
            "53995c3f42cd8ad8",
        ),
        (
            "jaeger",
            &[(
                "uber-trace-id",
                "51729f13a64c2ef3:258169797d519815:51729f13a64c2ef3:1",
            )],
            "000000000000000051729f13a64c2ef3",
            "258169797d519815",
        ),
        (
            "ottrace",
            &[
                ("ot-tracer-traceid", "80f198ee56343ba8"),
                ("ot-tracer-spanid", "e457b5a2e4d86bd1"),
                ("ot-tracer-sampled", "true"),
            ],
            "000000000000000080f198ee56343ba8",
            "e457b5a2e4d86bd1",
        ),
    ];
    let (receiver, telemetry, url) =
        serve(&[("OTEL_PROPAGATORS", "tracecontext,b3,xray,jaeger,ottrace")]).await;
    for (format, headers, trace_id, parent) in cases {
        receiver.clear();
        call(&url, headers).await;
        let span = server_span(&receiver, &telemetry).await;
        assert_eq!(span.trace_id, trace_id, "{format}");
        assert_eq!(span.parent_span_id, parent, "{format}");
    }
}

/// With the default `tracecontext,baggage` a B3 header is not read: the
/// request starts a new trace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagators_default_ignores_b3() {
    let (receiver, telemetry, url) = serve(&[]).await;
    call(
        &url,
        &[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")],
    )
    .await;
    let span = server_span(&receiver, &telemetry).await;
    assert_ne!(span.trace_id, "80f198ee56343ba864fe8b2a57d3eff7");
    assert!(span.parent_span_id.is_empty(), "{span:?}");
}

/// The instrumented client writes the configured formats (and only them);
/// the instrumented server, configured alike, continues the client's span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagators_client_injects_the_configured_formats() {
    let (receiver, telemetry, url) = serve(&[("OTEL_PROPAGATORS", "b3multi,jaeger")]).await;
    let http = HttpClient::builder(&telemetry)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let request = http.reqwest().get(&url).build().unwrap();
    let response = http.send_in(&Context::new(), request, None).await.unwrap();
    let names = response.text().await.unwrap();
    for sent in [
        "uber-trace-id",
        "x-b3-sampled",
        "x-b3-spanid",
        "x-b3-traceid",
    ] {
        assert!(names.split(',').any(|n| n == sent), "{sent}: {names}");
    }
    assert!(!names.contains("traceparent"), "{names}");

    let server = server_span(&receiver, &telemetry).await;
    let client = receiver.wait_for_span(|s| s.kind == Kind::Client).await;
    assert_eq!(server.trace_id, client.trace_id);
    assert_eq!(server.parent_span_id, client.span_id);
}
