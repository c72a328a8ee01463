//! The HTTP layer over real HTTP (axum on 127.0.0.1:0, reqwest) and the real
//! OTLP receiver.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http_body::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, Kind, Protocol, Receiver, SpanRecord, Status};
use wingspan::http::HttpLayer;

const WAIT: Duration = Duration::from_secs(10);
const DURATION: &str = "http.server.request.duration";
const ACTIVE: &str = "http.server.active_requests";
const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tracing::instrument]
async fn load_user(id: u64) -> String {
    tracing::info!(id, "loading user");
    format!("user {id}")
}

async fn user(Path(id): Path<u64>) -> String {
    load_user(id).await
}

/// A body that sends a chunk every 20 ms, forever: only a client that goes
/// away ends it.
struct Endless(tokio::time::Interval);

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.0.poll_tick(cx) {
            Poll::Ready(_) => Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"tick\n"))))),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn app(layer: HttpLayer) -> Router {
    Router::new()
        .route("/api/users/{id}", get(user))
        .route("/api/coach", post(|| async { "advice" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/bad", get(|| async { (StatusCode::BAD_REQUEST, "no") }))
        .route("/reset/{token}", get(|| async { "reset" }))
        .route(
            "/stream",
            get(|| async { Body::new(Endless(tokio::time::interval(Duration::from_millis(20)))) }),
        )
        .layer(layer)
}

struct Server {
    receiver: Receiver,
    telemetry: wingspan::Telemetry,
    addr: SocketAddr,
    client: reqwest::Client,
}

impl Server {
    async fn start(configure: impl FnOnce(HttpLayer) -> HttpLayer) -> Server {
        Self::start_with(&[], configure).await
    }

    async fn start_with(
        vars: &[(&str, &str)],
        configure: impl FnOnce(HttpLayer) -> HttpLayer,
    ) -> Server {
        Self::start_app(vars, |layer, _| app(configure(layer))).await
    }

    /// A server of the router `build` makes from the layer and the pipeline.
    async fn start_app(
        vars: &[(&str, &str)],
        build: impl FnOnce(HttpLayer, &wingspan::Telemetry) -> Router,
    ) -> Server {
        let receiver = Receiver::start().await;
        let telemetry = support::telemetry(&receiver, Protocol::Grpc, vars).await;
        let app = build(wingspan::http::layer(&telemetry), &telemetry);
        let addr = support::spawn_app_with_peer(app).await;
        Server {
            receiver,
            telemetry,
            addr,
            client: crate::support::http_client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    async fn get_with(&self, path: &str, header: (&str, &str)) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header(header.0, header.1)
            .send()
            .await
            .unwrap()
    }

    async fn flush(&self) {
        self.telemetry.force_flush().await.unwrap();
    }

    async fn span(&self, name: &str) -> SpanRecord {
        self.flush().await;
        self.receiver.wait_for_span(|s| s.name == name).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_span_is_named_by_route_with_semconv_attributes() {
    let s = Server::start(|l| l).await;
    let res = s
        .client
        .get(s.url("/api/users/42"))
        .header("user-agent", "wingspan-test/1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let traceparent = res
        .headers()
        .get("traceparent")
        .expect("response traceparent")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(res.text().await.unwrap(), "user 42");

    let span = s.span("GET /api/users/{id}").await;
    assert_eq!(span.kind, Kind::Server);
    assert_eq!(span.status, Status::Unset);
    assert!(span.is_root());
    assert_eq!(span.attr_str("http.request.method"), Some("GET"));
    assert_eq!(span.attr_str("http.route"), Some("/api/users/{id}"));
    assert_eq!(span.attr_str("url.path"), Some("/api/users/42"));
    assert_eq!(span.attr_str("url.scheme"), Some("http"));
    assert_eq!(span.attr_i64("http.response.status_code"), Some(200));
    assert_eq!(span.attr_str("client.address"), Some("127.0.0.1"));
    assert_eq!(span.attr_str("server.address"), Some("127.0.0.1"));
    assert_eq!(span.attr_i64("server.port"), Some(i64::from(s.addr.port())));
    assert_eq!(
        span.attr_str("user_agent.original"),
        Some("wingspan-test/1.0")
    );
    assert_eq!(span.attr_str("network.protocol.version"), Some("1.1"));
    assert_eq!(span.attr_str("wingspan.route.class"), Some("standard"));
    assert!(!span.has_attr("error.type"));
    assert!(!span.has_attr("url.query"));
    assert_eq!(
        traceparent,
        format!("00-{}-{}-01", span.trace_id, span.span_id),
        "the response names the exported span"
    );

    // The handler's `#[instrument]` span nests under the server span, and its
    // event carries the trace.
    let child = s.span("load_user").await;
    assert!(child.is_child_of(&span), "{child:?}");
    let log = s.receiver.wait_for_log(|r| r.body == "loading user").await;
    assert_eq!(log.trace_id, span.trace_id);

    let p = s
        .receiver
        .wait_for_point(DURATION, |p| {
            p.matches(&[("http.route", "/api/users/{id}")])
        })
        .await;
    assert_eq!(p.unit, "s");
    assert_eq!(p.count, 1);
    assert!(p.bounds.contains(&0.3), "{:?}", p.bounds);
    assert_eq!(p.bounds, wingspan::telemetry::buckets::HTTP_SERVER_DURATION);
    assert_eq!(p.attr_str("http.request.method"), Some("GET"));
    assert_eq!(p.attr_i64("http.response.status_code"), Some(200));
    assert_eq!(p.attr_str("url.scheme"), Some("http"));
    assert_eq!(p.attr_str("wingspan.route.class"), Some("standard"));
    assert!(!p.has_attr("error.type"));
    assert!(!p.has_attr("url.path"));

    let a = s
        .receiver
        .wait_for_point(ACTIVE, |p| {
            p.matches(&[("http.request.method", "GET"), ("url.scheme", "http")])
        })
        .await;
    assert_eq!(a.value, 0.0);
    assert_eq!(a.unit, "{request}");
    assert_eq!(a.attr_str("url.scheme"), Some("http"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_add_no_series_and_no_path_span_names() {
    let s = Server::start(|l| l).await;
    assert_eq!(s.get("/nope/warmup").await.status(), 404);
    s.flush().await;
    let p404 = s
        .receiver
        .wait_for_point(DURATION, |p| {
            p.matches(&[("http.response.status_code", "404")])
        })
        .await;
    let http_series = |r: &Receiver| {
        r.metrics()
            .iter()
            .filter(|p| p.name.starts_with("http."))
            .count()
    };
    let series_before = http_series(&s.receiver);
    assert!(!p404.has_attr("http.route"));

    for i in 0..1000 {
        let res = s.get(&format!("/unknown/{i}/x{i}")).await;
        assert_eq!(res.status(), 404);
    }
    s.flush().await;
    s.receiver
        .wait_for_point(DURATION, |p| {
            p.matches(&[("http.response.status_code", "404")]) && p.count == 1001
        })
        .await;
    assert_eq!(
        s.receiver.metric(DURATION).len(),
        1,
        "one series for every unmatched GET"
    );
    assert_eq!(
        http_series(&s.receiver),
        series_before,
        "no new metric series:\n{}",
        support::dump_metrics(&s.receiver.metrics())
    );

    let spans = s
        .receiver
        .wait_for_spans(
            |s| s.iter().filter(|s| s.name == "GET").count() == 1001,
            WAIT,
        )
        .await;
    for span in &spans {
        assert!(
            !span.name.contains('/'),
            "span named after a path: {span:?}"
        );
        if span.kind == Kind::Server {
            assert_eq!(span.name, "GET");
            assert!(!span.has_attr("http.route"));
            assert_eq!(span.attr_i64("http.response.status_code"), Some(404));
            assert_eq!(span.status, Status::Unset);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_traceparent_is_served_and_starts_a_new_trace() {
    let s = Server::start(|l| l).await;
    for garbage in [
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
    ] {
        let res = s.get_with("/api/users/1", ("traceparent", garbage)).await;
        assert_eq!(res.status(), 200, "{garbage}");
    }
    s.flush().await;
    let spans = s
        .receiver
        .wait_for_spans(
            |s| s.iter().filter(|s| s.name == "GET /api/users/{id}").count() == 4,
            WAIT,
        )
        .await;
    for span in spans.iter().filter(|s| s.kind == Kind::Server) {
        assert!(span.is_root(), "{span:?}");
        assert_ne!(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(span.links.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_traceparent_is_the_parent() {
    let s = Server::start(|l| l.trust_traceparent(true)).await;
    let res = s
        .client
        .get(s.url("/api/users/7"))
        .header("traceparent", INCOMING)
        .header("baggage", "tenant=acme")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let tp = res.headers()["traceparent"].to_str().unwrap().to_owned();
    let span = s.span("GET /api/users/{id}").await;
    assert_eq!(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(span.parent_span_id, "00f067aa0ba902b7");
    assert!(span.links.is_empty());
    assert_eq!(tp, format!("00-{}-{}-01", span.trace_id, span.span_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_traceparent_becomes_a_link() {
    // The environment switch, as a public edge would set it.
    let s = Server::start_with(&[("WINGSPAN_TRUST_TRACEPARENT", "false")], |l| l).await;
    let res = s.get_with("/api/users/7", ("traceparent", INCOMING)).await;
    assert_eq!(res.status(), 200);
    let span = s.span("GET /api/users/{id}").await;
    assert!(span.is_root());
    assert_ne!(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        span.links,
        vec![(
            "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
            "00f067aa0ba902b7".to_owned()
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_traceparent_can_be_switched_off() {
    let s = Server::start(|l| l.response_traceparent(false)).await;
    let res = s.get("/api/users/3").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("traceparent").is_none());
    s.span("GET /api/users/{id}").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_errors_and_client_errors_are_not() {
    let s = Server::start(|l| l).await;
    assert_eq!(s.get("/fail").await.status(), 500);
    assert_eq!(s.get("/bad").await.status(), 400);

    let fail = s.span("GET /fail").await;
    assert_eq!(fail.status, Status::Error);
    assert_eq!(fail.attr_str("error.type"), Some("500"));
    assert_eq!(fail.attr_i64("http.response.status_code"), Some(500));

    let bad = s.span("GET /bad").await;
    assert_eq!(bad.status, Status::Unset);
    assert!(!bad.has_attr("error.type"));
    assert_eq!(bad.attr_i64("http.response.status_code"), Some(400));

    let route = |r: &'static str| {
        s.receiver
            .wait_for_point(DURATION, move |p| p.matches(&[("http.route", r)]))
    };
    assert_eq!(route("/fail").await.attr_str("error.type"), Some("500"));
    assert!(!route("/bad").await.has_attr("error.type"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_routes_are_classed_llm() {
    let s = Server::start_with(&[("WINGSPAN_LLM_ROUTES", "/api/other")], |l| {
        l.llm_routes(["/api/coach"])
    })
    .await;
    let res = s.client.post(s.url("/api/coach")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(s.get("/api/users/1").await.status(), 200);
    let coach = s.span("POST /api/coach").await;
    assert_eq!(coach.attr_str("wingspan.route.class"), Some("llm"));
    let user = s.span("GET /api/users/{id}").await;
    assert_eq!(user.attr_str("wingspan.route.class"), Some("standard"));
    let p = s
        .receiver
        .wait_for_point(DURATION, |p| p.matches(&[("http.route", "/api/coach")]))
        .await;
    assert_eq!(p.attr_str("wingspan.route.class"), Some("llm"));
    assert_eq!(p.attr_str("http.request.method"), Some("POST"));
}

fn redact(path: &str) -> Cow<'_, str> {
    if path.starts_with("/reset/") {
        Cow::Borrowed("/reset/REDACTED")
    } else {
        Cow::Borrowed(path)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redaction_hook_applies_and_query_is_not_recorded() {
    let s = Server::start(|l| l.redact_path(redact)).await;
    let res = s.get("/reset/s3cr3t-token?email=a%40b.c&sig=abc123").await;
    assert_eq!(res.status(), 200);
    let span = s.span("GET /reset/{token}").await;
    assert_eq!(span.attr_str("url.path"), Some("/reset/REDACTED"));
    assert!(!span.has_attr("url.query"));
    let dump = format!("{span:?}");
    for secret in ["s3cr3t", "abc123", "a%40b.c"] {
        assert!(!dump.contains(secret), "{secret} leaked: {dump}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_is_recorded_only_on_request() {
    let s = Server::start(|l| l.record_query(true)).await;
    assert_eq!(s.get("/api/users/5?fields=name").await.status(), 200);
    let span = s.span("GET /api/users/{id}").await;
    assert_eq!(span.attr_str("url.query"), Some("fields=name"));
    assert_eq!(span.attr_str("url.path"), Some("/api/users/5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_mid_body_ends_the_span() {
    let s = Server::start(|l| l).await;
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(b"GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    // Read until the first chunk of the endless body arrived.
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("tick") {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed early");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
    drop(conn);

    let span = s.span("GET /stream").await;
    assert_eq!(span.kind, Kind::Server);
    assert_eq!(span.attr_i64("http.response.status_code"), Some(200));
    assert!(span.end_time_unix_nano > span.start_time_unix_nano);

    s.flush().await;
    // The stream's request is active until its body ends.
    s.receiver
        .wait_for_point(ACTIVE, |p| {
            p.matches(&[("http.request.method", "GET"), ("url.scheme", "http")]) && p.value == 0.0
        })
        .await;
    let p = s
        .receiver
        .wait_for_point(DURATION, |p| p.matches(&[("http.route", "/stream")]))
        .await;
    assert_eq!(p.count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_methods_are_other() {
    let s = Server::start(|l| l).await;
    let method = reqwest::Method::from_bytes(b"BREW").unwrap();
    let res = s
        .client
        .request(method, s.url("/api/users/1"))
        .send()
        .await
        .unwrap();
    // axum answers 405 for a method the route does not have.
    assert_eq!(res.status(), 405);
    s.flush().await;
    let span = s.receiver.wait_for_span(|s| s.kind == Kind::Server).await;
    assert!(
        span.name == "HTTP" || span.name == "HTTP /api/users/{id}",
        "{span:?}"
    );
    assert_eq!(span.attr_str("http.request.method"), Some("_OTHER"));
    assert_eq!(span.attr_str("http.request.method_original"), Some("BREW"));
}

/// The layer feeds the in-process view (`wingspan::stats`): one row per
/// (route, method), 5xx as errors, 4xx as client errors, LLM routes apart,
/// unmatched paths in one row, and the slowest request's trace ID is the
/// one the response's `traceparent` names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_view_counts_each_route() {
    let s = Server::start(|l| l.llm_routes(["/api/coach"])).await;
    let mut trace_ids = Vec::new();
    for id in 0..3 {
        let r = s.get(&format!("/api/users/{id}")).await;
        let tp = r.headers()["traceparent"].to_str().unwrap().to_owned();
        trace_ids.push(tp.split('-').nth(1).unwrap().to_owned());
    }
    assert_eq!(s.get("/fail").await.status(), 500);
    assert_eq!(s.get("/bad").await.status(), 400);
    assert_eq!(s.get("/no/such/path").await.status(), 404);
    s.client.post(s.url("/api/coach")).send().await.unwrap();

    // The current minute and the one before: the records above may
    // straddle a minute boundary.
    let snap = s.telemetry.stats().expect("on by default").snapshot(2);
    let row = |name: &str| {
        snap.routes
            .iter()
            .find(|r| r.route == name)
            .unwrap_or_else(|| panic!("no row {name}: {:?}", snap.routes))
    };
    let users = row("GET /api/users/{id}");
    assert_eq!((users.figures.count, users.figures.errors), (3, 0));
    assert!(users.figures.p95_ms > 0.0);
    let slowest = &users.slowest[0];
    assert!(
        trace_ids.contains(&slowest.trace_id),
        "{slowest:?} not in {trace_ids:?}"
    );
    assert_eq!(row("GET /fail").figures.errors, 1);
    assert_eq!(row("GET /bad").client_errors, 1);
    assert_eq!(row("GET (no route)").client_errors, 1);
    assert_eq!(snap.llm.count, 1, "the coach route is counted apart");
    assert_eq!(snap.api.count, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_view_off_is_absent() {
    let s = Server::start_with(&[("WINGSPAN_STATS", "false")], |l| l).await;
    assert_eq!(s.get("/api/users/1").await.status(), 200);
    assert!(s.telemetry.stats().is_none());
}

/// A hand-written accept loop (hyper's HTTP/1 builder) gives the layer the
/// peer address through `wingspan::http::with_peer`; the spans name the
/// semantic conventions' version they follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_accept_loop_hands_the_peer_address_to_the_layer() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    let app = app(wingspan::http::layer(&telemetry));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, peer)) = listener.accept().await {
            let service = wingspan::http::with_peer(app.clone(), peer);
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(
                hyper_util::rt::TokioIo::new(tcp),
                hyper_util::service::TowerToHyperService::new(service),
            );
            tokio::spawn(conn);
        }
    });
    let res = support::http_client()
        .get(format!("http://{addr}/api/users/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    telemetry.force_flush().await.unwrap();
    let span = receiver
        .wait_for_span(|s| s.name == "GET /api/users/{id}")
        .await;
    assert_eq!(span.attr_str("client.address"), Some("127.0.0.1"));
    assert_eq!(span.schema_url, "https://opentelemetry.io/schemas/1.44.0");
}

/// The layered app with probe-like routes beside a traced one.
fn probes(layer: HttpLayer) -> Router {
    Router::new()
        .route("/api/users/{id}", get(user))
        .route("/internal/ping", get(|| async { "pong" }))
        .layer(layer)
}

fn server_spans(r: &Receiver) -> Vec<SpanRecord> {
    r.spans()
        .into_iter()
        .filter(|s| s.kind == Kind::Server)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_routes_and_requests_make_no_span_but_keep_their_metrics() {
    let s = Server::start_app(&[], |l, _| {
        probes(
            l.skip_routes(["/internal/ping"])
                .skip_when(|req| req.headers.contains_key("x-synthetic")),
        )
    })
    .await;
    let res = s.get("/internal/ping").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("traceparent").is_none());
    assert_eq!(
        s.get_with("/api/users/7", ("x-synthetic", "1"))
            .await
            .status(),
        200
    );
    // The positive control, sent last: once its span is here the others
    // would be too.
    assert_eq!(s.get("/api/users/1").await.status(), 200);
    let traced = s.span("GET /api/users/{id}").await;
    assert_eq!(traced.attr_str("url.path"), Some("/api/users/1"));
    let servers = server_spans(&s.receiver);
    assert_eq!(servers.len(), 1, "{}", support::dump_spans(&servers));
    // The synthetic request's handler span has no server span to nest under.
    let loads = s.receiver.spans_named("load_user");
    assert!(loads.iter().all(|l| l.is_child_of(&traced) || l.is_root()));

    // Skip::Span (the default) keeps the metrics of both.
    let ping = s
        .receiver
        .wait_for_point(DURATION, |p| p.matches(&[("http.route", "/internal/ping")]))
        .await;
    assert_eq!(ping.count, 1);
    s.receiver
        .wait_for_point(DURATION, |p| {
            p.matches(&[("http.route", "/api/users/{id}")]) && p.count == 2
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_span_and_metrics_leaves_no_duration_point() {
    let s = Server::start_app(&[], |l, _| {
        probes(
            l.skip_routes(["/internal/ping"])
                .skip_mode(wingspan::http::Skip::SpanAndMetrics),
        )
    })
    .await;
    for _ in 0..3 {
        assert_eq!(s.get("/internal/ping").await.status(), 200);
    }
    assert_eq!(s.get("/api/users/1").await.status(), 200);
    s.span("GET /api/users/{id}").await;
    s.receiver
        .wait_for_point(DURATION, |p| {
            p.matches(&[("http.route", "/api/users/{id}")])
        })
        .await;
    let durations = s.receiver.metric(DURATION);
    assert!(
        durations
            .iter()
            .all(|p| p.attr_str("http.route") != Some("/internal/ping")),
        "{}",
        support::dump_metrics(&durations)
    );
    assert_eq!(server_spans(&s.receiver).len(), 1);
    // The in-process view did not count them either.
    let view = s.telemetry.stats().unwrap().snapshot(1);
    assert!(
        view.routes
            .iter()
            .all(|r| !r.route.contains("/internal/ping")),
        "{:?}",
        view.routes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_router_under_the_layer_is_skipped_by_default() {
    let s = Server::start_app(&[], |l, telemetry| {
        let health = wingspan::health::Health::for_telemetry(telemetry).build();
        Router::new()
            .route("/api/users/{id}", get(user))
            .merge(health.router())
            .merge(telemetry.prometheus_router())
            .layer(l)
    })
    .await;
    for path in [
        "/health",
        "/health/ready",
        "/observability",
        "/metrics",
        "/health/detailed",
    ] {
        let res = s.get(path).await;
        assert!(res.headers().get("traceparent").is_none(), "{path}");
    }
    assert_eq!(s.get("/api/users/1").await.status(), 200);
    s.span("GET /api/users/{id}").await;
    let servers = server_spans(&s.receiver);
    assert_eq!(servers.len(), 1, "{}", support::dump_spans(&servers));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_skip_list_traces_the_health_routes() {
    let s = Server::start_app(&[("WINGSPAN_HTTP_SKIP_ROUTES", "none")], |l, telemetry| {
        let health = wingspan::health::Health::for_telemetry(telemetry).build();
        Router::new().merge(health.router()).layer(l)
    })
    .await;
    assert_eq!(s.get("/health").await.status(), 200);
    s.span("GET /health").await;
}

struct Tenant;

impl wingspan::http::SpanAttributes for Tenant {
    fn on_request(&self, req: &http::request::Parts, attrs: &mut wingspan::http::Attributes<'_>) {
        let tenant = req.headers.get("x-tenant").and_then(|v| v.to_str().ok());
        attrs.add("app.tenant", tenant.unwrap_or("none").to_owned());
        // Two more than the cap of 8.
        for i in 0..9 {
            attrs.add(format!("app.extra.{i}"), i64::from(i));
        }
    }

    fn on_response(&self, res: &http::response::Parts, attrs: &mut wingspan::http::Attributes<'_>) {
        attrs.add(
            "app.content_type_set",
            res.headers.contains_key("content-type"),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attribute_hook_adds_capped_attributes_to_the_span_only() {
    let s = Server::start(|l| l.span_attributes(Tenant)).await;
    let long = "t".repeat(5000);
    assert_eq!(
        s.get_with("/api/users/5", ("x-tenant", &long))
            .await
            .status(),
        200
    );
    let span = s.span("GET /api/users/{id}").await;
    let tenant = span.attr_str("app.tenant").expect("app.tenant");
    assert_eq!(tenant.len(), wingspan::http::HEADER_VALUE_LIMIT);
    for i in 0..7 {
        assert_eq!(
            span.attr_i64(&format!("app.extra.{i}")),
            Some(i64::from(i)),
            "{span:?}"
        );
    }
    assert!(!span.has_attr("app.extra.7"), "over the cap of 8: {span:?}");
    assert!(!span.has_attr("app.extra.8"));
    assert!(span.has_attr("app.content_type_set"), "{span:?}");
    assert_eq!(span.attr_str("http.route"), Some("/api/users/{id}"));

    let p = s
        .receiver
        .wait_for_point(DURATION, |p| {
            p.matches(&[("http.route", "/api/users/{id}")])
        })
        .await;
    assert!(
        !p.has_attr("app.tenant"),
        "hook attributes never reach the metrics"
    );
}

/// `OTEL_SDK_DISABLED=true` is the specification's no-op SDK: a request is
/// served without a span, the caller's context is neither continued nor
/// answered with a `traceparent`, nothing reaches the collector, and the
/// in-process view (independent of the SDK) still counts the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_disabled_makes_no_span_and_answers_no_traceparent_but_keeps_the_view() {
    let s = Server::start_with(&[("OTEL_SDK_DISABLED", "true")], |l| {
        l.trust_traceparent(true)
    })
    .await;
    let res = s.get_with("/api/users/1", ("traceparent", INCOMING)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("traceparent").is_none(), "{res:?}");
    s.flush().await;
    let snap = s.telemetry.stats().expect("on by default").snapshot(2);
    let users = snap
        .routes
        .iter()
        .find(|r| r.route == "GET /api/users/{id}")
        .expect("the view counts the request");
    assert_eq!(users.figures.count, 1);
    assert_eq!(s.receiver.request_count(), 0);
}

/// A caller that did not sample: the request's span is built without
/// attributes and never recorded, yet the caller's trace continues through
/// it (the answered `traceparent` carries its trace id, unsampled).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsampled_caller_continues_through_a_span_that_records_nothing() {
    let s = Server::start(|l| l.trust_traceparent(true)).await;
    let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    let res = s.get_with("/api/users/2", ("traceparent", unsampled)).await;
    assert_eq!(res.status(), 200);
    let tp = res.headers()["traceparent"].to_str().unwrap().to_owned();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && tp.ends_with("-00"),
        "{tp}"
    );
    // A sampled request after it: its span arrives, the unsampled one never.
    assert_eq!(s.get("/api/users/3").await.status(), 200);
    let sampled = s.span("GET /api/users/{id}").await;
    assert_ne!(sampled.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    s.flush().await;
    let all = s.receiver.spans();
    assert!(
        all.iter()
            .all(|sp| sp.trace_id != "4bf92f3577b34da6a3ce929d0e0e4736"),
        "{all:?}"
    );
}
