//! A thin Anthropic Messages API adapter over the instrumented
//! [`HttpClient`]: one call sends a request, reads model, id, usage and stop
//! reason from the JSON answer or the SSE stream, retries 408/409/429/5xx/529
//! and timeouts (honouring `retry-after`, bounded), and fills the gen_ai
//! span. Not an SDK: text messages in, text out.

mod sse;
mod stream;
mod wire;

use std::time::Duration;

use opentelemetry::Context;

pub use stream::{MessageStream, StreamEvent};
pub use wire::{ContentBlock, InputMessage, Message};

use super::{Call, Llm, Request, Response, ANTHROPIC};
use crate::client::{HttpClient, HttpError, RetryPolicy};
use crate::config::{LlmConfig, Secret};
use crate::names;
use crate::Telemetry;

/// The `anthropic-version` header sent.
pub const API_VERSION: &str = "2023-06-01";
/// The span name's target for each attempt: `POST /v1/messages`.
const MESSAGES_PATH: &str = "/v1/messages";
/// Error bodies are read up to this size (they are small JSON).
const ERROR_BODY_MAX: usize = 64 * 1024;
/// The largest non-streamed answer read, in bytes: 16 MiB, far above the
/// biggest answer `max_tokens` allows. Larger is
/// [`AnthropicError::TooLarge`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;
/// The largest stream event read, in bytes: 1 MiB (a text delta is a few
/// bytes; `message_start` a few hundred). Larger is
/// [`AnthropicError::TooLarge`].
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

/// A Messages API request: model, `max_tokens`, text messages, optional
/// system prompt and sampling parameters, and the wingspan task label.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct MessagesRequest {
    model: String,
    max_tokens: u64,
    system: Option<String>,
    messages: Vec<InputMessage>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    top_k: Option<u64>,
    stop_sequences: Vec<String>,
    task: Option<String>,
}

impl MessagesRequest {
    /// A request to `model` for at most `max_tokens` output tokens.
    pub fn new(model: impl Into<String>, max_tokens: u64) -> Self {
        Self {
            model: model.into(),
            max_tokens,
            system: None,
            messages: Vec::new(),
            temperature: None,
            top_p: None,
            top_k: None,
            stop_sequences: Vec::new(),
            task: None,
        }
    }

    /// The system prompt. Defaults to none.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.system = Some(text.into());
        self
    }

    /// Adds a `user` message.
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(InputMessage {
            role: "user".to_owned(),
            content: text.into(),
        });
        self
    }

    /// Adds an `assistant` message (a previous turn).
    pub fn assistant(mut self, text: impl Into<String>) -> Self {
        self.messages.push(InputMessage {
            role: "assistant".to_owned(),
            content: text.into(),
        });
        self
    }

    /// `temperature`. Defaults to the API's.
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }

    /// `top_p`. Defaults to the API's.
    pub fn top_p(mut self, p: f64) -> Self {
        self.top_p = Some(p);
        self
    }

    /// `top_k`. Defaults to the API's.
    pub fn top_k(mut self, k: u64) -> Self {
        self.top_k = Some(k);
        self
    }

    /// `stop_sequences`. Defaults to none.
    pub fn stop_sequences<I, S>(mut self, stops: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.stop_sequences = stops.into_iter().map(Into::into).collect();
        self
    }

    /// `wingspan.gen_ai.task` (`coach`, `summary`). Defaults to none.
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    fn body(&self, stream: bool) -> serde_json::Value {
        let mut body = serde_json::json!({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": self.messages,
        });
        if let Some(obj) = body.as_object_mut() {
            let mut put = |k: &str, v: serde_json::Value| {
                obj.insert(k.to_owned(), v);
            };
            if let Some(s) = &self.system {
                put("system", s.as_str().into());
            }
            if let Some(t) = self.temperature {
                put("temperature", t.into());
            }
            if let Some(p) = self.top_p {
                put("top_p", p.into());
            }
            if let Some(k) = self.top_k {
                put("top_k", k.into());
            }
            if !self.stop_sequences.is_empty() {
                put("stop_sequences", self.stop_sequences.clone().into());
            }
            if stream {
                put("stream", true.into());
            }
        }
        body
    }

    fn gen_ai(&self, stream: bool, server: &(String, u16)) -> Request {
        let mut r = Request::chat(ANTHROPIC, self.model.clone())
            .max_tokens(self.max_tokens)
            .stream(stream)
            .server(server.0.clone(), server.1)
            .stop_sequences(self.stop_sequences.iter().cloned());
        if let Some(t) = self.temperature {
            r = r.temperature(t);
        }
        if let Some(p) = self.top_p {
            r = r.top_p(p);
        }
        if let Some(k) = self.top_k {
            r = r.top_k(k as f64);
        }
        if let Some(task) = &self.task {
            r = r.task(task.clone());
        }
        r
    }
}

/// Why a Messages call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnthropicError {
    /// No response (timeout, connection failure) after the retries.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The API answered with an error (after the retries). The message is
    /// not kept: it can quote the prompt.
    #[error("Anthropic API error {status}: {error_type}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The API's error type (`rate_limit_error`, `overloaded_error`,
        /// ...) or, when the body names none, the status.
        error_type: String,
    },
    /// The body (or the next stream event) did not arrive in time.
    #[error("response body timed out after {0:?}")]
    BodyTimeout(Duration),
    /// The answer could not be read (the message names the field, never
    /// the content).
    #[error("unreadable answer: {0}")]
    Decode(String),
    /// The answer's body (`what` = `body`) or one stream event (`event`)
    /// is larger than its bound; reading stopped there.
    #[error("response {what} larger than {limit} bytes")]
    TooLarge {
        /// `body` or `event`.
        what: &'static str,
        /// The bound, in bytes.
        limit: usize,
    },
    /// A setting is invalid (the base URL).
    #[error("Anthropic adapter: {0}")]
    Config(String),
}

impl AnthropicError {
    /// The `error.type` recorded on the gen_ai span.
    pub fn error_type(&self) -> &str {
        match self {
            AnthropicError::Http(e) => e.error_type(),
            AnthropicError::Api { error_type, .. } => error_type,
            AnthropicError::BodyTimeout(_) => names::ERROR_TIMEOUT,
            AnthropicError::Decode(_) => "decode",
            AnthropicError::TooLarge { .. } => "response_too_large",
            AnthropicError::Config(_) => names::ERROR_OTHER,
        }
    }
}

/// The adapter; cheap to clone.
#[derive(Debug, Clone)]
pub struct Anthropic {
    llm: Llm,
    http: HttpClient,
    url: reqwest::Url,
    server: (String, u16),
    api_key: Option<Secret>,
    max_body: usize,
    max_event: usize,
}

impl Anthropic {
    /// A builder with the settings of `telemetry.config().llm`.
    pub fn builder(telemetry: &Telemetry) -> AnthropicBuilder {
        AnthropicBuilder {
            telemetry: telemetry.clone(),
            config: telemetry.config().llm.clone(),
            llm: None,
            http: None,
            retry: None,
            timeout: None,
            max_body: DEFAULT_MAX_BODY_BYTES,
            max_event: DEFAULT_MAX_EVENT_BYTES,
        }
    }

    /// The gen_ai instrumentation it records into.
    pub fn llm(&self) -> &Llm {
        &self.llm
    }

    /// Sends `request` and waits for the whole answer.
    pub async fn messages(&self, request: &MessagesRequest) -> Result<Message, AnthropicError> {
        let mut call = self.start(request, false);
        let result = self.exchange(&mut call, request).await;
        match &result {
            Ok(message) => {
                if call.captures_content() {
                    call.capture_output(&message.text(), message.stop_reason.as_deref());
                }
                call.ok(&describe(message));
            }
            Err(e) => {
                call.fail(e.error_type());
            }
        }
        result
    }

    /// Sends `request` with `"stream": true`; the answer arrives through
    /// [`MessageStream::next`]. The gen_ai span ends at `message_stop` (or
    /// an error, or when the stream is dropped first: `canceled`).
    pub async fn stream(&self, request: &MessagesRequest) -> Result<MessageStream, AnthropicError> {
        let call = self.start(request, true);
        match self.send(&call.context(), request, true).await {
            Ok(response) => Ok(MessageStream::new(
                call,
                response,
                self.http.timeout(),
                self.max_event,
            )),
            Err(e) => {
                call.fail(e.error_type());
                Err(e)
            }
        }
    }

    fn start(&self, request: &MessagesRequest, stream: bool) -> Call {
        let mut call = self.llm.start(&request.gen_ai(stream, &self.server));
        if call.captures_content() {
            if let Some(system) = &request.system {
                call.capture_system(system);
            }
            let messages: Vec<(&str, &str)> = request
                .messages
                .iter()
                .map(|m| (m.role.as_str(), m.content.as_str()))
                .collect();
            call.capture_input(&messages);
        }
        call
    }

    async fn exchange(
        &self,
        call: &mut Call,
        request: &MessagesRequest,
    ) -> Result<Message, AnthropicError> {
        let response = self.send(&call.context(), request, false).await?;
        let timeout = self.http.timeout();
        let body = tokio::time::timeout(timeout, read_bounded(response, self.max_body))
            .await
            .map_err(|_| AnthropicError::BodyTimeout(timeout))??;
        serde_json::from_slice(&body).map_err(|e| {
            AnthropicError::Decode(format!(
                "message JSON at line {} column {}",
                e.line(),
                e.column()
            ))
        })
    }

    /// One request with retries; an error status becomes [`AnthropicError::Api`].
    async fn send(
        &self,
        parent: &Context,
        request: &MessagesRequest,
        stream: bool,
    ) -> Result<reqwest::Response, AnthropicError> {
        let body = serde_json::to_vec(&request.body(stream))
            .map_err(|e| AnthropicError::Decode(e.to_string()))?;
        let mut builder = self
            .http
            .reqwest()
            .post(self.url.clone())
            .header("anthropic-version", API_VERSION)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.api_key {
            let mut value = http::HeaderValue::from_str(key.expose()).map_err(|_| {
                AnthropicError::Config("ANTHROPIC_API_KEY: not a header value".into())
            })?;
            // Kept out of `Debug` output and HPACK tables, and never sent
            // across origins (see `client::CROSS_ORIGIN_HEADERS`).
            value.set_sensitive(true);
            builder = builder.header("x-api-key", value);
        }
        let http_request = builder
            .build()
            .map_err(|e| AnthropicError::Config(e.without_url().to_string()))?;
        let response = self
            .http
            .send_in(parent, http_request, Some(MESSAGES_PATH))
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let timeout = self.http.timeout();
        let body = tokio::time::timeout(timeout, read_capped(response, ERROR_BODY_MAX))
            .await
            .unwrap_or_default();
        Err(AnthropicError::Api {
            status: status.as_u16(),
            error_type: wire::error_type(&body)
                .map_or_else(|| status.as_str().to_owned(), str::to_owned),
        })
    }
}

/// The whole body, or [`AnthropicError::TooLarge`] as soon as it (or its
/// `content-length`) exceeds `max` bytes.
async fn read_bounded(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, AnthropicError> {
    let too_large = || AnthropicError::TooLarge {
        what: "body",
        limit: max,
    };
    let announced = response.content_length().unwrap_or(0);
    if announced > max as u64 {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(announced.min(1 << 20) as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| AnthropicError::Decode(format!("body: {}", e.without_url())))?
    {
        if chunk.len() > max - out.len() {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn read_capped(mut response: reqwest::Response, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        out.extend_from_slice(&chunk);
        if out.len() >= max {
            break;
        }
    }
    out
}

fn describe(message: &Message) -> Response {
    let mut r = Response::new()
        .model(message.model.clone())
        .id(message.id.clone())
        .usage(message.usage());
    if let Some(reason) = &message.stop_reason {
        r = r.finish_reason(reason.clone());
    }
    r
}

/// Builds an [`Anthropic`]; made by [`Anthropic::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct AnthropicBuilder {
    telemetry: Telemetry,
    config: LlmConfig,
    llm: Option<Llm>,
    http: Option<HttpClient>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    max_body: usize,
    max_event: usize,
}

impl AnthropicBuilder {
    /// Replaces the LLM configuration. Defaults to `telemetry.config().llm`.
    pub fn config(mut self, config: LlmConfig) -> Self {
        self.config = config;
        self
    }

    /// The API's base URL. Defaults to `ANTHROPIC_BASE_URL`
    /// (`https://api.anthropic.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.anthropic_base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The API key sent as `x-api-key`. Defaults to `ANTHROPIC_API_KEY`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.anthropic_api_key = Some(Secret::new(key));
        self
    }

    /// Records into this [`Llm`] (shares its instruments, pricing and task
    /// labels). Defaults to a new one from the configuration.
    pub fn llm(mut self, llm: Llm) -> Self {
        self.llm = Some(llm);
        self
    }

    /// Sends through this client. Defaults to a new one from the
    /// configuration.
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The retry policy of the client built here. Defaults to
    /// `WINGSPAN_LLM_MAX_RETRIES` (2) and `WINGSPAN_LLM_MAX_RETRY_WAIT` (30 s).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The per-attempt timeout of the client built here. Defaults to
    /// `WINGSPAN_LLM_TIMEOUT` (60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest non-streamed answer read, in bytes. Defaults to
    /// [`DEFAULT_MAX_BODY_BYTES`] (16 MiB).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }

    /// The largest stream event read, in bytes. Defaults to
    /// [`DEFAULT_MAX_EVENT_BYTES`] (1 MiB).
    pub fn max_event_bytes(mut self, max: usize) -> Self {
        self.max_event = max;
        self
    }

    /// Builds the adapter.
    pub fn build(self) -> Result<Anthropic, AnthropicError> {
        let base = &self.config.anthropic_base_url;
        let url = reqwest::Url::parse(&format!("{base}{MESSAGES_PATH}"))
            .map_err(|e| AnthropicError::Config(format!("ANTHROPIC_BASE_URL {base:?}: {e}")))?;
        let server = (
            url.host_str().unwrap_or_default().to_owned(),
            url.port_or_known_default().unwrap_or(443),
        );
        let llm = match self.llm {
            Some(llm) => llm,
            None => Llm::builder(&self.telemetry)
                .config(self.config.clone())
                .build()
                .map_err(|e| AnthropicError::Config(e.to_string()))?,
        };
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut b = HttpClient::builder(&self.telemetry)
                    .timeout(self.timeout.unwrap_or(self.config.timeout))
                    .cross_origin_redirects(self.config.cross_origin_redirects);
                b = b.retry(self.retry.unwrap_or_else(|| {
                    RetryPolicy::retries(self.config.max_retries)
                        .max_retry_wait(self.config.max_retry_wait)
                }));
                b.build()?
            }
        };
        Ok(Anthropic {
            llm,
            http,
            url,
            server,
            api_key: self.config.anthropic_api_key,
            max_body: self.max_body,
            max_event: self.max_event,
        })
    }
}
