//! What the Anthropic adapter and the fake Messages API hold in memory is
//! bounded: one SSE event, one non-streamed body, the fake's request log;
//! and a long event arriving in small pieces is read in linear time.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use wingspan::client::RetryPolicy;
use wingspan::llm::anthropic::{Anthropic, MessagesRequest};
use wingspan::llm::fake::{Behaviour, FakeAnthropic};

use crate::support::{self, Protocol, Receiver};

const MIB: usize = 1 << 20;

fn request() -> MessagesRequest {
    MessagesRequest::new("claude-sonnet-4-5", 64).user("Say hello.")
}

async fn telemetry() -> (Receiver, wingspan::Telemetry) {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
    (receiver, telemetry)
}

fn adapter(telemetry: &wingspan::Telemetry, base: &str) -> Anthropic {
    Anthropic::builder(telemetry)
        .base_url(base)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Serves `POST /v1/messages` with `pieces` as the body, one HTTP chunk
/// each, under `content_type`; the base URL.
async fn serve(content_type: &'static str, pieces: Vec<Bytes>) -> String {
    let app = Router::new().route(
        "/v1/messages",
        post(move || {
            let pieces = pieces.clone();
            async move {
                let body = Body::new(Pieces(pieces.into_iter().collect()));
                ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response()
            }
        }),
    );
    format!("http://{}", support::spawn_app(app).await)
}

/// A body of `pieces`, one data frame (one HTTP chunk) each.
struct Pieces(VecDeque<Bytes>);

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }
}

fn sse(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

const START: &str = r#"{"type":"message_start","message":{"id":"msg_b","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}"#;

/// A stream whose one `content_block_delta` carries `text`, that event cut
/// into pieces of `piece` bytes (one HTTP chunk each).
fn stream_pieces(text: &str, piece: usize) -> Vec<Bytes> {
    let delta = sse(
        "content_block_delta",
        &format!(
            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{text}"}}}}"#
        ),
    );
    let mut pieces = vec![sse("message_start", START)];
    pieces.extend(delta.chunks(piece).map(Bytes::copy_from_slice));
    pieces.push(sse(
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#,
    ));
    pieces.push(sse("message_stop", r#"{"type":"message_stop"}"#));
    pieces
}

/// A 256 KiB event in 16-byte HTTP chunks (16 384 of them): read in linear
/// time. The old reader rescanned the whole buffer on every chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_long_event_in_small_chunks_is_read_in_linear_time() {
    let (_r, telemetry) = telemetry().await;
    let text = "a".repeat(256 * 1024);
    let base = serve("text/event-stream", stream_pieces(&text, 16)).await;
    let claude = adapter(&telemetry, &base);
    let t = Instant::now();
    let got = claude
        .stream(&request())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let took = t.elapsed();
    assert_eq!(got.len(), text.len());
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// An event over the bound (1 MiB by default) ends the stream with
/// `error.type=response_too_large`; it was buffered without a bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_oversized_event_is_a_typed_error() {
    let (_r, telemetry) = telemetry().await;
    let text = "b".repeat(MIB + 1);
    let base = serve("text/event-stream", stream_pieces(&text, 64 * 1024)).await;
    let claude = adapter(&telemetry, &base);
    let result = claude.stream(&request()).await.unwrap().text().await;
    let Err(e) = result else {
        panic!("an event of more than 1 MiB was accepted");
    };
    assert_eq!(e.error_type(), "response_too_large", "{e}");
}

/// A non-streamed body over the bound (16 MiB by default) is a typed error;
/// it was read whole, whatever its size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_oversized_body_is_a_typed_error() {
    let (_r, telemetry) = telemetry().await;
    let text = "c".repeat(16 * MIB + 1);
    let body = format!(
        r#"{{"id":"msg_b","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","usage":{{"input_tokens":3,"output_tokens":1}}}}"#
    );
    let pieces: Vec<Bytes> = body
        .as_bytes()
        .chunks(64 * 1024)
        .map(Bytes::copy_from_slice)
        .collect();
    let base = serve("application/json", pieces).await;
    let Err(e) = adapter(&telemetry, &base).messages(&request()).await else {
        panic!("a body of more than 16 MiB was accepted");
    };
    assert_eq!(e.error_type(), "response_too_large", "{e}");
}

/// The fake's request log keeps the last requests only (256 by default,
/// settable) and counts them all; it grew for the life of the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_fake_request_log_is_bounded() {
    let (_r, telemetry) = telemetry().await;
    let fake = FakeAnthropic::start(Behaviour::default()).await.unwrap();
    let claude = adapter(&telemetry, &fake.base_url());
    let call = |i: usize| {
        let claude = claude.clone();
        async move {
            claude
                .messages(&MessagesRequest::new(format!("model-{i}"), 8).user("hi"))
                .await
                .unwrap();
        }
    };
    for i in 0..300 {
        call(i).await;
    }
    let kept = fake.received();
    assert!(kept.len() <= 256, "{} requests kept", kept.len());
    assert_eq!(kept.len(), 256);
    assert_eq!(kept.first().unwrap().model, "model-44");
    assert_eq!(kept.last().unwrap().model, "model-299");
    assert_eq!(fake.received_count(), 300);

    fake.set_received_max(4);
    assert_eq!(fake.received().len(), 4);
    for i in 300..310 {
        call(i).await;
    }
    let models: Vec<String> = fake.received().into_iter().map(|r| r.model).collect();
    assert_eq!(models, ["model-306", "model-307", "model-308", "model-309"]);
    assert_eq!(fake.received_count(), 310);
}
