//! The Messages API JSON, as much of it as the adapter reads or writes.

use serde::{Deserialize, Serialize};

use crate::llm::Usage;

/// One message of the conversation: a role and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// `usage` of a response or a stream event.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) output_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Overlays the counts present in `other` (a `message_delta` carries
    /// the final output count, and sometimes the input ones).
    pub(crate) fn merge(&mut self, other: &WireUsage) {
        let pick = |a: &mut Option<u64>, b: Option<u64>| {
            if b.is_some() {
                *a = b;
            }
        };
        pick(&mut self.input_tokens, other.input_tokens);
        pick(&mut self.output_tokens, other.output_tokens);
        pick(
            &mut self.cache_creation_input_tokens,
            other.cache_creation_input_tokens,
        );
        pick(
            &mut self.cache_read_input_tokens,
            other.cache_read_input_tokens,
        );
    }

    pub(crate) fn usage(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            cache_read_input_tokens: self.cache_read_input_tokens.unwrap_or(0),
            cache_creation_input_tokens: self.cache_creation_input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
        }
    }
}

/// One content block of a response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ContentBlock {
    /// `text`, `tool_use`, `thinking`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` block.
    #[serde(default)]
    pub text: Option<String>,
}

/// A Messages API response (non-streamed), or the one a stream assembles.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// `msg_...`.
    pub id: String,
    /// The model that answered.
    pub model: String,
    /// `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, ...
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The answer's blocks.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    #[serde(default)]
    pub(crate) usage: WireUsage,
}

impl Message {
    /// The text blocks, concatenated.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| b.text.as_deref())
            .collect()
    }

    /// Token usage.
    pub fn usage(&self) -> Usage {
        self.usage.usage()
    }
}

/// `{"type": "error", "error": {"type": "overloaded_error", ...}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

/// The Messages API's documented error types: only these become
/// `error.type` (anything else is the HTTP status), so the label stays
/// bounded whatever a proxy answers.
pub(crate) const ERROR_TYPES: &[&str] = &[
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
];

/// The bounded `error.type` of an error body (or `None`).
pub(crate) fn error_type(body: &[u8]) -> Option<&'static str> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    ERROR_TYPES
        .iter()
        .find(|t| **t == parsed.error.kind)
        .copied()
}

/// A stream event's JSON (`data:`), the fields the adapter reads.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamData {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) message: Option<StreamMessage>,
    #[serde(default)]
    pub(crate) delta: Option<Delta>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
    #[serde(default)]
    pub(crate) error: Option<ErrorDetail>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamMessage {
    pub(crate) id: String,
    pub(crate) model: String,
    #[serde(default)]
    pub(crate) usage: WireUsage,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    #[serde(rename = "type", default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) stop_reason: Option<String>,
}
