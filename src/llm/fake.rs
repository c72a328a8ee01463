//! A fake Anthropic Messages API (feature `llm-fake`): a small local axum
//! server speaking the documented JSON and SSE formats, for tests, benches
//! and demos that must not call (or pay for) the real API.
//!
//! `POST /v1/messages` answers like the real endpoint:
//!
//! - without `"stream": true`, one JSON message:
//!   `{"id": "msg_fake_1", "type": "message", "role": "assistant", "model": ...,
//!   "content": [{"type": "text", "text": ...}], "stop_reason": "end_turn",
//!   "stop_sequence": null, "usage": {"input_tokens": .., "output_tokens": ..,
//!   "cache_creation_input_tokens": .., "cache_read_input_tokens": ..}}`;
//! - with it, `text/event-stream`: `message_start` (the usage's input
//!   counts, `output_tokens: 1`), `content_block_start`, `ping`, one
//!   `content_block_delta` (`text_delta`) per chunk, `content_block_stop`,
//!   `message_delta` (`stop_reason`, final `output_tokens`), `message_stop`.
//!
//! [`Behaviour`] sets the latency distribution before the answer (fixed,
//! uniform or log-normal), the token counts (cache reads and writes
//! included), the text and its chunking, and the answering model; and the
//! shapes an answer can take: a `thinking` block (`thinking_delta`,
//! `signature_delta`, `output_tokens_details.thinking_tokens`), a
//! `tool_use` block (`input_json_delta`), cumulative usage in
//! `message_delta`, server-tool usage (`server_tool_use`), an `error`
//! event in the middle of the stream, and the stream's [`Ending`] (whole,
//! without the last blank line, cut before or after `message_delta`).
//! [`FakeAnthropic::fail_next`] queues injected failures: 429
//! `rate_limit_error` with `retry-after`, 529 `overloaded_error`, any other
//! status with the error type the API documents for it
//! ([`error_type_of`]).
//!
//! Like the API, every answer carries a `request-id` header (and an error
//! body its `request_id`), and a body without `max_tokens` is refused with
//! 400 `invalid_request_error`. The official Python SDK parses every answer
//! (`make sdk-conformance`). The last requests' `traceparent` and `baggage` are recorded
//! ([`FakeAnthropic::received`], a ring of [`DEFAULT_RECEIVED_MAX`]), and
//! every request is counted ([`FakeAnthropic::received_count`]): a fake
//! serving a long-running process (wingman runs one in-process) holds a
//! bounded log.
//!
//! ```no_run
//! # async fn f(telemetry: &wingspan::Telemetry) -> Result<(), Box<dyn std::error::Error>> {
//! use wingspan::llm::anthropic::{Anthropic, MessagesRequest};
//! use wingspan::llm::fake::{Behaviour, FakeAnthropic};
//! let fake = FakeAnthropic::start(Behaviour::default()).await?;
//! let claude = Anthropic::builder(telemetry).base_url(fake.base_url()).build()?;
//! let message = claude
//!     .messages(&MessagesRequest::new("claude-sonnet-4-5", 64).user("hi"))
//!     .await?;
//! assert!(!message.text().is_empty());
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http_body::Frame;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Usage;

/// The requests [`FakeAnthropic::received`] keeps by default (the latest).
pub const DEFAULT_RECEIVED_MAX: usize = 256;

/// How long the fake waits before answering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Always this long.
    Fixed(Duration),
    /// Uniformly between the two.
    Uniform(Duration, Duration),
    /// Log-normal with this median and 95th percentile (an LLM's long tail).
    LogNormal {
        /// The median.
        median: Duration,
        /// The 95th percentile (≥ the median).
        p95: Duration,
    },
}

/// What the fake answers with.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Behaviour {
    /// The wait before the answer (the headers). Defaults to none.
    pub latency: Latency,
    /// The usage reported. Defaults to 25 input and 10 output tokens.
    pub usage: Usage,
    /// The answer's text. Defaults to `"Hello from the fake Messages API."`.
    pub text: String,
    /// How many `content_block_delta` events a stream splits the text into.
    /// Defaults to 5.
    pub chunks: usize,
    /// The pause between two deltas. Defaults to 2 ms.
    pub chunk_interval: Duration,
    /// The model named in the answer. Defaults to the requested model.
    pub response_model: Option<String>,
    /// `stop_reason`. Defaults to `end_turn` (`tool_use` once
    /// [`tool_use`](Self::tool_use) is set).
    pub stop_reason: String,
    /// A `thinking` block before the text. Defaults to none.
    pub thinking: Option<String>,
    /// `usage.output_tokens_details.thinking_tokens`. Defaults to none.
    pub thinking_tokens: Option<u64>,
    /// A `tool_use` block after the text. Defaults to none.
    pub tool_use: Option<ToolUse>,
    /// `message_delta` repeats the input and cache counts (they are
    /// cumulative) instead of only the output count. Defaults to false.
    pub cumulative_usage: bool,
    /// `usage.server_tool_use.web_search_requests`. Defaults to none.
    pub web_search_requests: Option<u64>,
    /// An `error` event of this type after this many text deltas, ending
    /// the stream. Defaults to none.
    pub error_mid_stream: Option<(usize, String)>,
    /// How a stream ends. Defaults to [`Ending::Complete`].
    pub ending: Ending,
}

/// A `tool_use` block: the model asks for a tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolUse {
    /// `toolu_...`.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, a JSON object as text (streamed in pieces as
    /// `input_json_delta`).
    pub input_json: String,
}

/// How a streamed answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Ending {
    /// `message_stop`, then the body ends.
    #[default]
    Complete,
    /// As `Complete`, but the last event has no closing blank line.
    NoFinalBlankLine,
    /// The connection breaks right after `message_delta` (no
    /// `message_stop`): the answer and its usage are all there.
    DropAfterMessageDelta,
    /// The connection breaks after the content, before `message_delta`:
    /// truly truncated.
    DropBeforeMessageDelta,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            latency: Latency::Fixed(Duration::ZERO),
            usage: Usage {
                input_tokens: 25,
                output_tokens: 10,
                ..Usage::default()
            },
            text: "Hello from the fake Messages API.".to_owned(),
            chunks: 5,
            chunk_interval: Duration::from_millis(2),
            response_model: None,
            stop_reason: "end_turn".to_owned(),
            thinking: None,
            thinking_tokens: None,
            tool_use: None,
            cumulative_usage: false,
            web_search_requests: None,
            error_mid_stream: None,
            ending: Ending::Complete,
        }
    }
}

impl Behaviour {
    /// Sets the latency. Defaults to none.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the usage reported. Defaults to 25 input, 10 output tokens.
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// Sets the answer text. Defaults to a greeting.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Sets the number of stream deltas and the pause between them.
    /// Defaults to 5 deltas, 2 ms apart.
    pub fn chunks(mut self, chunks: usize, interval: Duration) -> Self {
        self.chunks = chunks.max(1);
        self.chunk_interval = interval;
        self
    }

    /// Sets the answering model. Defaults to the requested one.
    pub fn response_model(mut self, model: impl Into<String>) -> Self {
        self.response_model = Some(model.into());
        self
    }

    /// Sets `stop_reason`. Defaults to `end_turn`.
    pub fn stop_reason(mut self, reason: impl Into<String>) -> Self {
        self.stop_reason = reason.into();
        self
    }

    /// Adds a `thinking` block (streamed as `thinking_delta`s and a
    /// `signature_delta`) and reports `thinking_tokens` of the output
    /// tokens as reasoning. Defaults to none.
    pub fn thinking(mut self, text: impl Into<String>, thinking_tokens: u64) -> Self {
        self.thinking = Some(text.into());
        self.thinking_tokens = Some(thinking_tokens);
        self
    }

    /// Adds a `tool_use` block (arguments streamed as `input_json_delta`s)
    /// and sets `stop_reason` to `tool_use`. Defaults to none.
    pub fn tool_use(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        input_json: impl Into<String>,
    ) -> Self {
        self.tool_use = Some(ToolUse {
            id: id.into(),
            name: name.into(),
            input_json: input_json.into(),
        });
        self.stop_reason = "tool_use".to_owned();
        self
    }

    /// `message_delta` carries every count, cumulative. Defaults to only
    /// the output count.
    pub fn cumulative_usage(mut self, on: bool) -> Self {
        self.cumulative_usage = on;
        self
    }

    /// Reports `n` web searches in `usage.server_tool_use`. Defaults to
    /// none.
    pub fn web_search_requests(mut self, n: u64) -> Self {
        self.web_search_requests = Some(n);
        self
    }

    /// Sends an `error` event of `error_type` after `after_deltas` text
    /// deltas and ends the stream there. Defaults to none.
    pub fn error_mid_stream(mut self, after_deltas: usize, error_type: impl Into<String>) -> Self {
        self.error_mid_stream = Some((after_deltas, error_type.into()));
        self
    }

    /// How a stream ends. Defaults to [`Ending::Complete`].
    pub fn ending(mut self, ending: Ending) -> Self {
        self.ending = ending;
        self
    }
}

/// An injected failure, answered instead of the next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429 `rate_limit_error` with `retry-after` (seconds).
    RateLimited {
        /// The `retry-after` value, in seconds.
        retry_after_secs: u64,
    },
    /// 529 `overloaded_error`.
    Overloaded,
    /// Any status, with the error type the API documents for it
    /// ([`error_type_of`]).
    Status(u16),
}

/// The `error.type` the Messages API documents for an HTTP status: 400
/// `invalid_request_error`, 401 `authentication_error`, 402
/// `billing_error`, 403 `permission_error`, 404 `not_found_error`, 409
/// `conflict_error`, 413 `request_too_large`, 429 `rate_limit_error`, 500
/// `api_error`, 504 `timeout_error`, 529 `overloaded_error`; another 4xx
/// `invalid_request_error` (the API "may also use this error type for
/// other 4XX status codes"), anything else `api_error`.
pub fn error_type_of(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        409 => "conflict_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// What the fake saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The `traceparent` header.
    pub traceparent: Option<String>,
    /// The `baggage` header.
    pub baggage: Option<String>,
    /// Whether a key came: an `x-api-key` header or `Authorization:
    /// Bearer`.
    pub api_key: bool,
    /// The requested model.
    pub model: String,
    /// Whether it asked for a stream.
    pub stream: bool,
}

/// The last requests, at most `max`, and the count of all of them.
#[derive(Debug)]
struct Log {
    last: VecDeque<Received>,
    max: usize,
    count: u64,
}

impl Log {
    fn new(max: usize) -> Self {
        Self {
            last: VecDeque::new(),
            max,
            count: 0,
        }
    }

    fn push(&mut self, r: Received) {
        self.count += 1;
        if self.max == 0 {
            return;
        }
        while self.last.len() >= self.max {
            self.last.pop_front();
        }
        self.last.push_back(r);
    }

    fn set_max(&mut self, max: usize) {
        self.max = max;
        while self.last.len() > max {
            self.last.pop_front();
        }
    }
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    failures: Mutex<VecDeque<Failure>>,
    received: Mutex<Log>,
    next_id: AtomicU64,
    next_request: AtomicU64,
    rng: Mutex<u64>,
}

impl Shared {
    fn uniform(&self) -> f64 {
        // xorshift64*: plenty for latency jitter.
        let mut s = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        let v = s.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (v >> 11) as f64 / (1u64 << 53) as f64
    }

    fn delay(&self, latency: Latency) -> Duration {
        match latency {
            Latency::Fixed(d) => d,
            Latency::Uniform(a, b) => {
                let (lo, hi) = (a.min(b), a.max(b));
                lo + (hi - lo).mul_f64(self.uniform())
            }
            Latency::LogNormal { median, p95 } => {
                let sigma = (p95.as_secs_f64() / median.as_secs_f64().max(1e-9))
                    .max(1.0)
                    .ln()
                    / 1.645;
                // Box-Muller.
                let (u1, u2) = (self.uniform().max(1e-12), self.uniform());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                Duration::from_secs_f64((median.as_secs_f64() * (sigma * z).exp()).min(3600.0))
            }
        }
    }
}

/// The running fake; dropping it stops the server.
pub struct FakeAnthropic {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FakeAnthropic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAnthropic")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAnthropic {
    /// Starts on an ephemeral port of 127.0.0.1 with `behaviour`.
    pub async fn start(behaviour: Behaviour) -> std::io::Result<Self> {
        Self::bind("127.0.0.1:0".parse().expect("a socket address"), behaviour).await
    }

    /// Starts on `addr` with `behaviour`.
    pub async fn bind(addr: SocketAddr, behaviour: Behaviour) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(behaviour),
            failures: Mutex::new(VecDeque::new()),
            received: Mutex::new(Log::new(DEFAULT_RECEIVED_MAX)),
            next_id: AtomicU64::new(1),
            next_request: AtomicU64::new(1),
            rng: Mutex::new(0x9e37_79b9_7f4a_7c15 ^ u64::from(addr.port())),
        });
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>`: the adapter's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the behaviour for the following requests.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self
            .shared
            .behaviour
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = behaviour;
    }

    /// Queues failures answered, in order, instead of the next messages.
    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.shared
            .failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(failures);
    }

    /// The last requests received, oldest first: at most
    /// [`DEFAULT_RECEIVED_MAX`] (256), or what
    /// [`set_received_max`](Self::set_received_max) set.
    pub fn received(&self) -> Vec<Received> {
        self.log().last.iter().cloned().collect()
    }

    /// How many requests were received in all (those `received` no longer
    /// holds included).
    pub fn received_count(&self) -> u64 {
        self.log().count
    }

    /// Keeps the last `max` requests (0: none, only the count). Defaults to
    /// [`DEFAULT_RECEIVED_MAX`] (256).
    pub fn set_received_max(&self, max: usize) {
        self.log().set_max(max);
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(serde::Deserialize)]
struct Incoming {
    #[serde(default)]
    model: String,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    max_tokens: Option<serde_json::Value>,
}

async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = format!(
        "req_fake_{}",
        shared.next_request.fetch_add(1, Ordering::Relaxed)
    );
    let mut response = answer(&shared, &headers, &body, &request_id).await;
    if let Ok(v) = http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("request-id", v);
    }
    response
}

async fn answer(shared: &Shared, headers: &HeaderMap, body: &[u8], request_id: &str) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let Ok(incoming) = serde_json::from_slice::<Incoming>(body) else {
        return error(StatusCode::BAD_REQUEST, request_id, None);
    };
    let bearer = header("authorization").is_some_and(|v| {
        v.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    });
    shared
        .received
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Received {
            traceparent: header("traceparent"),
            baggage: header("baggage"),
            api_key: headers.contains_key("x-api-key") || bearer,
            model: incoming.model.clone(),
            stream: incoming.stream,
        });
    if incoming
        .max_tokens
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .is_none_or(|n| n == 0)
    {
        // The API requires max_tokens (a positive integer).
        return error(StatusCode::BAD_REQUEST, request_id, None);
    }
    let behaviour = shared
        .behaviour
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let delay = shared.delay(behaviour.latency);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let failure = shared
        .failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front();
    if let Some(failure) = failure {
        return failed(failure, request_id);
    }
    let id = format!(
        "msg_fake_{}",
        shared.next_id.fetch_add(1, Ordering::Relaxed)
    );
    let model = behaviour
        .response_model
        .clone()
        .unwrap_or_else(|| incoming.model.clone());
    if incoming.stream {
        stream(behaviour, id, model)
    } else {
        let mut content = Vec::new();
        if let Some(thinking) = &behaviour.thinking {
            content.push(serde_json::json!({"type": "thinking", "thinking": thinking,
                "signature": SIGNATURE}));
        }
        content.push(serde_json::json!({"type": "text", "text": behaviour.text}));
        if let Some(tool) = &behaviour.tool_use {
            let input: serde_json::Value =
                serde_json::from_str(&tool.input_json).unwrap_or_else(|_| serde_json::json!({}));
            content.push(serde_json::json!({"type": "tool_use", "id": tool.id,
                "name": tool.name, "input": input}));
        }
        let body = serde_json::json!({
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": behaviour.stop_reason,
            "stop_sequence": null,
            "usage": usage_json(&behaviour, behaviour.usage.output_tokens, true, true),
        });
        (
            [(http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// The `signature` of the fake's thinking blocks (opaque, as the API's).
const SIGNATURE: &str = "ZmFrZS1zaWduYXR1cmU=";

/// The error answer of an injected failure.
fn failed(failure: Failure, request_id: &str) -> Response {
    match failure {
        Failure::RateLimited { retry_after_secs } => error(
            StatusCode::TOO_MANY_REQUESTS,
            request_id,
            Some(retry_after_secs),
        ),
        Failure::Overloaded => {
            let status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            error(status, request_id, None)
        }
        Failure::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, request_id, None)
        }
    }
}

/// The usage object: the behaviour's counts with `output` output tokens;
/// `full` adds the input and cache counts (a message, a `message_start`,
/// a cumulative `message_delta`); `last` the thinking and server-tool
/// counts (known once the answer is done).
fn usage_json(b: &Behaviour, output: u64, full: bool, last: bool) -> serde_json::Value {
    let u = &b.usage;
    let mut v = serde_json::json!({"output_tokens": output});
    if full {
        v["input_tokens"] = u.input_tokens.into();
        v["cache_creation_input_tokens"] = u.cache_creation_input_tokens.into();
        v["cache_read_input_tokens"] = u.cache_read_input_tokens.into();
    }
    if !last {
        return v;
    }
    if let Some(n) = b.thinking_tokens {
        v["output_tokens_details"] = serde_json::json!({"thinking_tokens": n});
    }
    if let Some(n) = b.web_search_requests {
        v["server_tool_use"] =
            serde_json::json!({"web_search_requests": n, "web_fetch_requests": 0});
    }
    v
}

fn error(status: StatusCode, request_id: &str, retry_after: Option<u64>) -> Response {
    let kind = error_type_of(status.as_u16());
    let body = serde_json::json!({
        "type": "error",
        "error": {"type": kind, "message": format!("fake {kind}")},
        "request_id": request_id,
    });
    let mut response = (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if let Some(secs) = retry_after {
        if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
    }
    response
}

/// The SSE answer, written by a task at the behaviour's pace.
fn stream(behaviour: Behaviour, id: String, model: String) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        for (i, e) in events(&behaviour, &id, &model).into_iter().enumerate() {
            if i > 3 && !behaviour.chunk_interval.is_zero() {
                tokio::time::sleep(behaviour.chunk_interval).await;
            }
            if tx.send(e).await.is_err() {
                return; // the client went away
            }
        }
    });
    let mut response = Response::new(Body::new(ChannelBody { rx }));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// The stream's pieces, in order; an `Err` breaks the connection.
fn events(b: &Behaviour, id: &str, model: &str) -> Vec<Result<Bytes, std::io::Error>> {
    let event = |name: &str, data: serde_json::Value| {
        Ok(Bytes::from(format!("event: {name}\ndata: {data}\n\n")))
    };
    let cut = || Err(std::io::Error::other("connection cut by the fake"));
    let delta = |index: usize, delta: serde_json::Value| {
        event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": index, "delta": delta}),
        )
    };
    let stop = |index: usize| {
        event(
            "content_block_stop",
            serde_json::json!({"type": "content_block_stop", "index": index}),
        )
    };
    let mut out = vec![event(
        "message_start",
        serde_json::json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "content": [],
            "model": model, "stop_reason": null, "stop_sequence": null,
            "usage": usage_json(b, 1, true, false)}}),
    )];
    let mut index = 0;
    if let Some(thinking) = &b.thinking {
        out.push(event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": index,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ));
        for piece in split(thinking, b.chunks) {
            out.push(delta(
                index,
                serde_json::json!({"type": "thinking_delta", "thinking": piece}),
            ));
        }
        out.push(delta(
            index,
            serde_json::json!({"type": "signature_delta", "signature": SIGNATURE}),
        ));
        out.push(stop(index));
        index += 1;
    }
    out.push(event(
        "content_block_start",
        serde_json::json!({"type": "content_block_start", "index": index,
            "content_block": {"type": "text", "text": ""}}),
    ));
    out.push(event("ping", serde_json::json!({"type": "ping"})));
    for (n, piece) in split(&b.text, b.chunks).into_iter().enumerate() {
        if let Some((after, kind)) = &b.error_mid_stream {
            if n == *after {
                out.push(event(
                    "error",
                    serde_json::json!({"type": "error",
                        "error": {"type": kind, "message": format!("fake {kind}")}}),
                ));
                return out;
            }
        }
        out.push(delta(
            index,
            serde_json::json!({"type": "text_delta", "text": piece}),
        ));
    }
    out.push(stop(index));
    index += 1;
    if let Some(tool) = &b.tool_use {
        out.push(event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": index,
                "content_block": {"type": "tool_use", "id": tool.id, "name": tool.name,
                    "input": {}}}),
        ));
        out.push(delta(
            index,
            serde_json::json!({"type": "input_json_delta", "partial_json": ""}),
        ));
        for piece in split(&tool.input_json, 3) {
            out.push(delta(
                index,
                serde_json::json!({"type": "input_json_delta", "partial_json": piece}),
            ));
        }
        out.push(stop(index));
    }
    if b.ending == Ending::DropBeforeMessageDelta {
        out.push(cut());
        return out;
    }
    out.push(event(
        "message_delta",
        serde_json::json!({"type": "message_delta",
            "delta": {"stop_reason": b.stop_reason, "stop_sequence": null},
            "usage": usage_json(b, b.usage.output_tokens, b.cumulative_usage, true)}),
    ));
    match b.ending {
        Ending::DropAfterMessageDelta => out.push(cut()),
        Ending::NoFinalBlankLine => out.push(Ok(Bytes::from_static(
            b"event: message_stop\ndata: {\"type\":\"message_stop\"}",
        ))),
        _ => out.push(event(
            "message_stop",
            serde_json::json!({"type": "message_stop"}),
        )),
    }
    out
}

/// `text` in `n` pieces of about equal length, cut on character boundaries.
fn split(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let n = n.max(1).min(chars.len().max(1));
    let size = chars.len().div_ceil(n).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// A response body fed by a channel; an `Err` breaks the connection.
struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_into_pieces() {
        assert_eq!(split("abcdef", 3), vec!["ab", "cd", "ef"]);
        assert_eq!(split("ab", 5), vec!["a", "b"]);
        assert_eq!(split("héllo", 2).concat(), "héllo");
    }

    #[test]
    fn latencies_stay_in_range() {
        let s = Shared {
            behaviour: Mutex::new(Behaviour::default()),
            failures: Mutex::new(VecDeque::new()),
            received: Mutex::new(Log::new(DEFAULT_RECEIVED_MAX)),
            next_id: AtomicU64::new(1),
            next_request: AtomicU64::new(1),
            rng: Mutex::new(42),
        };
        let (a, b) = (Duration::from_millis(10), Duration::from_millis(20));
        for _ in 0..1000 {
            let d = s.delay(Latency::Uniform(a, b));
            assert!(d >= a && d <= b, "{d:?}");
        }
        let mut v: Vec<f64> = (0..4000)
            .map(|_| {
                s.delay(Latency::LogNormal {
                    median: Duration::from_millis(100),
                    p95: Duration::from_millis(400),
                })
                .as_secs_f64()
            })
            .collect();
        v.sort_by(f64::total_cmp);
        let median = v[2000];
        assert!((0.08..0.125).contains(&median), "median {median}");
        let p95 = v[3800];
        assert!((0.3..0.55).contains(&p95), "p95 {p95}");
    }

    fn seen(model: &str) -> Received {
        Received {
            traceparent: None,
            baggage: None,
            api_key: false,
            model: model.to_owned(),
            stream: false,
        }
    }

    #[test]
    fn the_log_keeps_the_last_requests_and_counts_all() {
        let mut log = Log::new(3);
        for i in 0..10 {
            log.push(seen(&i.to_string()));
        }
        let models: Vec<&str> = log.last.iter().map(|r| r.model.as_str()).collect();
        assert_eq!(models, ["7", "8", "9"]);
        assert_eq!(log.count, 10);
        log.set_max(1);
        assert_eq!(log.last.len(), 1);
        assert_eq!(log.last[0].model, "9");
        log.set_max(0);
        log.push(seen("10"));
        assert!(log.last.is_empty());
        assert_eq!(log.count, 11);
    }
}
