//! [`Anthropic`]: one Messages call, whole or streamed, as a gen_ai span
//! over the instrumented client's attempts.

use opentelemetry::Context;

use super::request::MessagesRequest;
use super::stream::{MessageStream, MAX_CAPTURED_PARTS};
use super::wire::{self, Message};
use super::{AnthropicBuilder, AnthropicError};
use crate::client::{HttpClient, HttpError};
use crate::llm::{Call, Llm, OutputPart, Response};
use crate::telemetry::Telemetry;

/// The `anthropic-version` header sent.
pub const API_VERSION: &str = "2023-06-01";
/// The span name's target for each attempt: `POST /v1/messages`.
pub(super) const MESSAGES_PATH: &str = "/v1/messages";
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

/// The adapter; cheap to clone.
#[derive(Debug, Clone)]
pub struct Anthropic {
    pub(super) llm: Llm,
    pub(super) http: HttpClient,
    pub(super) url: reqwest::Url,
    pub(super) server: (String, u16),
    /// `x-api-key`, marked sensitive: kept out of `Debug` output and HPACK
    /// tables, and never sent across origins (see
    /// `client::CROSS_ORIGIN_HEADERS`).
    pub(super) api_key: Option<http::HeaderValue>,
    pub(super) max_body: usize,
    pub(super) max_event: usize,
}

impl Anthropic {
    /// A builder with the settings of `telemetry.config().llm`.
    pub fn builder(telemetry: &Telemetry) -> AnthropicBuilder {
        AnthropicBuilder::new(telemetry)
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
                    let inputs = tool_inputs(message);
                    call.capture_output_parts(
                        &parts(message, &inputs),
                        message.stop_reason.as_deref(),
                    );
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
            builder = builder.header("x-api-key", key.clone());
        }
        let http_request = builder.build().map_err(|e| {
            AnthropicError::Http(HttpError::Transport {
                kind: "request",
                source: e.without_url(),
            })
        })?;
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
            error_type: wire::error_type(&body).unwrap_or_else(|| status.as_str().to_owned()),
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
        .id(message.id.clone());
    // No usage at all: the call is unpriced, never $0.00.
    if let Some(usage) = message.usage.filter(|u| !u.is_empty()) {
        r = r.usage(usage.usage());
        if let Some(n) = usage.thinking_tokens() {
            r = r.reasoning_output_tokens(n);
        }
    }
    if let Some(reason) = &message.stop_reason {
        r = r.finish_reason(reason.clone());
    }
    r
}

/// The captured parts of an answer: `text`, `thinking` (as reasoning) and
/// `tool_use` (as a tool call) blocks, at most `MAX_CAPTURED_PARTS`; other
/// block types are not recorded.
fn parts<'a>(message: &'a Message, inputs: &'a [String]) -> Vec<OutputPart<'a>> {
    message
        .content
        .iter()
        .zip(inputs)
        .filter_map(|(b, input)| match b.kind.as_str() {
            "text" => b.text.as_deref().map(OutputPart::Text),
            "thinking" => b.thinking.as_deref().map(OutputPart::Reasoning),
            "tool_use" => Some(OutputPart::ToolCall {
                id: b.id.as_deref().unwrap_or(""),
                name: b.name.as_deref().unwrap_or(""),
                arguments: input,
            }),
            _ => None,
        })
        .take(MAX_CAPTURED_PARTS)
        .collect()
}

/// Each block's tool-call arguments as JSON text (empty for other blocks).
fn tool_inputs(message: &Message) -> Vec<String> {
    message
        .content
        .iter()
        .map(|b| match (b.kind.as_str(), &b.input) {
            ("tool_use", Some(input)) => input.to_string(),
            ("tool_use", None) => "{}".to_owned(),
            _ => String::new(),
        })
        .collect()
}
