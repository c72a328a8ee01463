//! Redirects seen by the instrumented client (`wingspan::client`) and the
//! Anthropic adapter: two real servers on different loopback ports (two
//! origins), the first answering 3xx towards the second.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::{Context, KeyValue};
use wingspan::client::{HttpClient, HttpError, RedirectRefused, RetryPolicy, CROSS_ORIGIN_HEADERS};
use wingspan::llm::anthropic::{Anthropic, AnthropicError, MessagesRequest};

use crate::support::{self, Kind, Protocol, Receiver, SpanRecord, Status};

const WAIT: Duration = Duration::from_secs(10);

const KEY: &str = "sk-ant-redirect-secret";
const PROMPT: &str = "PROMPT-MARKER-51d0";

/// One request as a server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

type Answer = Arc<dyn Fn(&Seen) -> Response + Send + Sync>;

#[derive(Clone)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
    answer: Answer,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(
    State(s): State<Server>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_owned(),
        headers,
        body,
    };
    s.seen.lock().unwrap().push(seen.clone());
    (s.answer)(&seen)
}

/// A server on its own ephemeral port (its own origin) that records every
/// request and answers with `answer`; its base URL.
async fn server(answer: impl Fn(&Seen) -> Response + Send + Sync + 'static) -> (String, Server) {
    let s = Server {
        seen: Arc::default(),
        answer: Arc::new(answer),
    };
    let app = Router::new().fallback(record).with_state(s.clone());
    let addr = support::spawn_app(app).await;
    (format!("http://{addr}"), s)
}

/// A Messages API answer.
fn message(_: &Seen) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        r#"{"id":"msg_r","type":"message","role":"assistant","model":"claude-sonnet-4-5",
            "content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn",
            "usage":{"input_tokens":3,"output_tokens":1}}"#,
    )
        .into_response()
}

fn redirect(status: u16, location: String) -> impl Fn(&Seen) -> Response + Send + Sync {
    move |_| {
        (
            StatusCode::from_u16(status).unwrap(),
            [(axum::http::header::LOCATION, location.clone())],
        )
            .into_response()
    }
}

fn request() -> MessagesRequest {
    MessagesRequest::new("claude-sonnet-4-5", 64).user(PROMPT)
}

async fn telemetry(extra: &[(&str, &str)]) -> (Receiver, wingspan::Telemetry) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, extra).await;
    (receiver, telemetry)
}

fn adapter(telemetry: &wingspan::Telemetry, base: &str) -> Anthropic {
    Anthropic::builder(telemetry)
        .base_url(base)
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The finding: a Messages base URL answering 307/308/302 to another port
/// made the client send `x-api-key` and the prompt there. By default the
/// other origin now gets no request at all, and the call fails with
/// `HttpError::Redirect` (`error.type=redirect`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_client_cross_origin_redirects_are_refused_by_default() {
    let (_receiver, telemetry) = telemetry(&[]).await;
    for status in [307, 308, 302, 301, 303] {
        let (other, other_server) = server(message).await;
        let (first, first_server) = server(redirect(status, format!("{other}/v1/messages"))).await;
        let result = adapter(&telemetry, &first).messages(&request()).await;
        assert!(
            other_server.seen().is_empty(),
            "{status}: the other origin received {:?}",
            other_server.seen()
        );
        let Err(e) = result else {
            panic!("{status}: a cross-origin redirect was followed");
        };
        assert_eq!(e.error_type(), "redirect", "{status}: {e}");
        assert!(
            matches!(
                e,
                AnthropicError::Http(HttpError::Redirect {
                    status: s,
                    reason: RedirectRefused::CrossOrigin,
                }) if s == status
            ),
            "{status}: {e:?}"
        );
        assert_eq!(first_server.seen().len(), 1, "{status}");
    }
}

/// The refused hop is an attempt span with the 3xx and
/// `error.type=redirect`, and so is the gen_ai call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_client_refused_redirect_is_recorded_on_both_spans() {
    let (receiver, telemetry) = telemetry(&[]).await;
    let (other, _other_server) = server(message).await;
    let (first, _) = server(redirect(307, format!("{other}/v1/messages"))).await;
    adapter(&telemetry, &first)
        .messages(&request())
        .await
        .unwrap_err();
    telemetry.force_flush().await.unwrap();
    let chat = receiver
        .wait_for_span(|s| s.name.starts_with("chat "))
        .await;
    let hop = receiver.wait_for_span(|s| s.name.starts_with("POST")).await;
    let spans = receiver.spans();
    let attempts = spans.iter().filter(|s| s.name.starts_with("POST")).count();
    assert_eq!(attempts, 1, "{}", support::dump_spans(&spans));
    assert!(hop.is_child_of(&chat));
    assert_eq!(hop.kind, Kind::Client);
    assert_eq!(hop.attr_i64("http.response.status_code"), Some(307));
    assert_eq!(hop.attr_str("error.type"), Some("redirect"));
    assert_eq!(hop.status, Status::Error);
    assert_eq!(chat.attr_str("error.type"), Some("redirect"));
    assert!(
        !format!("{spans:?}").contains(KEY),
        "the key reached a span"
    );
}

/// The headers a cross-origin hop must never carry.
const CREDENTIALS: &[&str] = &[
    "x-api-key",
    "authorization",
    "proxy-authorization",
    "cookie",
];

/// With `WINGSPAN_LLM_CROSS_ORIGIN_REDIRECTS=true` the adapter follows, but
/// the other origin never gets the key; 301/302/303 reach it as a GET
/// without the prompt, 307/308 repeat the POST and its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_client_allowed_cross_origin_redirect_carries_no_key() {
    let (_receiver, telemetry) =
        telemetry(&[("WINGSPAN_LLM_CROSS_ORIGIN_REDIRECTS", "true")]).await;
    for status in [307, 308, 302, 301, 303] {
        let (other, other_server) = server(message).await;
        let (first, first_server) = server(redirect(status, format!("{other}/v1/messages"))).await;
        let result = adapter(&telemetry, &first).messages(&request()).await;
        assert!(result.is_ok(), "{status}: {result:?}");
        assert!(
            first_server.seen()[0].headers.contains_key("x-api-key"),
            "the configured origin gets the key"
        );
        let seen = other_server.seen();
        assert_eq!(seen.len(), 1, "{status}");
        let hop = &seen[0];
        for h in CREDENTIALS {
            assert!(
                !hop.headers.contains_key(*h),
                "{status}: {h} crossed origins"
            );
        }
        let body = String::from_utf8_lossy(&hop.body);
        if status == 307 || status == 308 {
            assert_eq!(hop.method, Method::POST, "{status}");
            assert!(body.contains(PROMPT), "{status}: 307/308 repeat the body");
        } else {
            assert_eq!(hop.method, Method::GET, "{status}");
            assert!(hop.body.is_empty(), "{status}: body {body:?}");
            assert!(!hop.headers.contains_key("content-type"), "{status}");
        }
    }
}

/// A redirect within the origin is followed: each hop its own attempt span
/// (the second numbered by `http.request.resend_count`, without the first
/// one's `url.template`), the key sent to both (the same origin).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_client_same_origin_redirect_is_followed_hop_by_hop() {
    let (receiver, telemetry) = telemetry(&[]).await;
    let (base, first) = server(|seen: &Seen| {
        if seen.path == "/v1/messages" {
            redirect(307, "/v1/moved".to_owned())(seen)
        } else {
            message(seen)
        }
    })
    .await;
    let answer = adapter(&telemetry, &base)
        .messages(&request())
        .await
        .unwrap();
    assert_eq!(answer.text(), "ok");
    let seen = first.seen();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["/v1/messages", "/v1/moved"]);
    for hop in &seen {
        assert_eq!(hop.method, Method::POST);
        assert_eq!(hop.headers.get("x-api-key").unwrap(), KEY);
        assert!(String::from_utf8_lossy(&hop.body).contains(PROMPT));
    }

    telemetry.force_flush().await.unwrap();
    let chat = receiver
        .wait_for_span(|s| s.name.starts_with("chat "))
        .await;
    assert_eq!(chat.status, Status::Unset);
    let spans = receiver
        .wait_for_spans(
            |s| s.iter().filter(|s| s.name.starts_with("POST")).count() >= 2,
            WAIT,
        )
        .await;
    let mut hops: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name.starts_with("POST"))
        .collect();
    hops.sort_by_key(|s| s.attr_i64("http.request.resend_count").unwrap_or(0));
    assert_eq!(hops.len(), 2, "{}", support::dump_spans(&spans));
    assert_eq!(hops[0].name, "POST /v1/messages");
    assert_eq!(hops[0].attr_i64("http.response.status_code"), Some(307));
    assert_eq!(hops[0].status, Status::Unset);
    assert_eq!(hops[1].name, "POST");
    assert_eq!(hops[1].attr_i64("http.request.resend_count"), Some(1));
    assert_eq!(hops[1].attr_i64("http.response.status_code"), Some(200));
    assert!(hops[1].attr_str("url.full").unwrap().ends_with("/v1/moved"));
    assert!(!hops[1].has_attr("url.template"));
    for h in &hops {
        assert!(h.is_child_of(&chat));
    }
}

/// Hops are bounded (`max_redirects`), and a `Location` that is not an
/// http(s) URL is refused; both without a further request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_client_redirect_loops_and_bad_locations_are_refused() {
    let (_receiver, telemetry) = telemetry(&[]).await;
    let http = HttpClient::builder(&telemetry)
        .retry(RetryPolicy::none())
        .max_redirects(2)
        .build()
        .unwrap();
    let (base, looping) = server(redirect(302, "/again".to_owned())).await;
    let e = http
        .send(http.reqwest().get(format!("{base}/start")).build().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            HttpError::Redirect {
                status: 302,
                reason: RedirectRefused::TooMany
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.error_type(), "redirect");
    assert_eq!(looping.seen().len(), 3, "the first request and 2 hops");

    for location in ["file:///etc/passwd", "http://", "ftp://127.0.0.1/x"] {
        let (base, _) = server(redirect(302, location.to_owned())).await;
        let e = http
            .send(http.reqwest().get(&base).build().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                HttpError::Redirect {
                    reason: RedirectRefused::InvalidLocation,
                    ..
                }
            ),
            "{location}: {e:?}"
        );
    }

    // No Location: the 3xx is the answer.
    let (base, _) = server(|_: &Seen| StatusCode::FOUND.into_response()).await;
    let response = http
        .send(http.reqwest().get(&base).build().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
}

/// Allowed cross-origin hops (`cross_origin_redirects(true)`) carry only
/// the listed headers: no credential under any name, nothing marked
/// sensitive, no `baggage`; each hop gets its own `traceparent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_cross_origin_hop_keeps_only_the_listed_headers() {
    let (_receiver, telemetry) = telemetry(&[]).await;
    let http = HttpClient::builder(&telemetry)
        .retry(RetryPolicy::none())
        .cross_origin_redirects(true)
        .baggage(true)
        .build()
        .unwrap();
    for status in [303, 307] {
        let (other, other_server) = server(message).await;
        let (first, first_server) = server(redirect(status, format!("{other}/next"))).await;
        let mut beta = axum::http::HeaderValue::from_static("listed-but-marked-sensitive");
        beta.set_sensitive(true);
        let request = http
            .reqwest()
            .post(format!("{first}/v1/messages"))
            .bearer_auth("bearer-secret")
            .header("x-api-key", KEY)
            .header("api-key", "azure-style-secret")
            .header("cookie", "session=secret")
            .header("proxy-authorization", "Basic c2VjcmV0")
            .header("anthropic-beta", beta)
            .header("anthropic-version", "2023-06-01")
            .header("accept-language", "en")
            .header("content-type", "application/json")
            .body(format!(r#"{{"prompt":"{PROMPT}"}}"#))
            .build()
            .unwrap();
        let cx = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
        let response = http.send_in(&cx, request, None).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{status}");

        let home = &first_server.seen()[0];
        assert!(home.headers.contains_key("authorization"));
        assert_eq!(home.headers.get("baggage").unwrap(), "tenant=acme");

        let seen = other_server.seen();
        assert_eq!(seen.len(), 1, "{status}");
        let hop = &seen[0];
        // What reqwest and hyper add to every request, and the attempt's
        // own trace context.
        let added = ["host", "content-length", "traceparent", "tracestate"];
        for name in hop.headers.keys() {
            let name = name.as_str();
            assert!(
                CROSS_ORIGIN_HEADERS.contains(&name) || added.contains(&name),
                "{status}: {name} crossed origins"
            );
        }
        for name in ["anthropic-version", "accept-language", "traceparent"] {
            assert!(hop.headers.contains_key(name), "{status}: {name} missing");
        }
        assert!(
            !hop.headers.contains_key("anthropic-beta"),
            "{status}: a header marked sensitive crossed origins"
        );
        assert_eq!(hop.headers.contains_key("content-type"), status == 307);
        assert_ne!(
            hop.headers.get("traceparent"),
            home.headers.get("traceparent"),
            "each hop is its own attempt"
        );
        if status == 307 {
            assert_eq!(hop.method, Method::POST);
            assert!(String::from_utf8_lossy(&hop.body).contains(PROMPT));
        } else {
            assert_eq!(hop.method, Method::GET);
            assert!(hop.body.is_empty());
        }
    }
}
