//! The Messages API JSON, as much of it as the adapter reads or writes.
//! Every field read is optional or lenient, so new fields, event types and
//! content-block types pass through without failing the call.

use serde::{Deserialize, Deserializer, Serialize};

use crate::llm::Usage;

/// One message of the conversation: a role and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// A string field, or `None` when it is absent, `null` or of another JSON
/// type (a later API version may change a field's shape; the call does not
/// fail for it).
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// A count, or `None` when absent, `null` or not a non-negative integer.
fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(serde_json::Value::deserialize(d)?.as_u64())
}

/// `usage.output_tokens_details`: the thinking tokens among the output.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct OutputTokensDetails {
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) thinking_tokens: Option<u64>,
}

/// `usage` of a response or a stream event. `message_delta`'s counts are
/// cumulative (they replace, never add to, what `message_start` said).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) output_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) cache_creation_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) cache_read_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_details")]
    pub(crate) output_tokens_details: Option<OutputTokensDetails>,
}

fn lenient_details<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<OutputTokensDetails>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
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
        if let Some(t) = other.output_tokens_details.and_then(|d| d.thinking_tokens) {
            self.output_tokens_details = Some(OutputTokensDetails {
                thinking_tokens: Some(t),
            });
        }
    }

    /// Whether no count at all was reported.
    pub(crate) fn is_empty(&self) -> bool {
        self.input_tokens.is_none()
            && self.output_tokens.is_none()
            && self.cache_creation_input_tokens.is_none()
            && self.cache_read_input_tokens.is_none()
    }

    /// `output_tokens_details.thinking_tokens`, when reported.
    pub(crate) fn thinking_tokens(&self) -> Option<u64> {
        self.output_tokens_details.and_then(|d| d.thinking_tokens)
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

/// One content block of a response. The adapter models `text`, `tool_use`
/// and `thinking`; every other type (`redacted_thinking`,
/// `server_tool_use`, `web_search_tool_result`, types added later) comes
/// through with its `kind` and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ContentBlock {
    /// `text`, `tool_use`, `thinking`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` block.
    #[serde(default, deserialize_with = "lenient_string")]
    pub text: Option<String>,
    /// The id of a `tool_use` block (`toolu_...`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    /// The tool name of a `tool_use` block.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// The arguments of a `tool_use` block (a JSON object).
    #[serde(default)]
    pub input: Option<serde_json::Value>,
    /// The reasoning of a `thinking` block.
    #[serde(default, deserialize_with = "lenient_string")]
    pub thinking: Option<String>,
}

/// A Messages API response (non-streamed), or the one a stream assembles.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// `msg_...`.
    pub id: String,
    /// The model that answered.
    pub model: String,
    /// `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, ...
    #[serde(default, deserialize_with = "lenient_string")]
    pub stop_reason: Option<String>,
    /// The answer's blocks.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
}

impl Message {
    /// The `text` blocks, concatenated.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect()
    }

    /// Token usage (zeros when the answer reported none).
    pub fn usage(&self) -> Usage {
        self.usage.unwrap_or_default().usage()
    }
}

/// `{"type": "error", "error": {"type": "overloaded_error", ...}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub(crate) kind: Option<String>,
}

/// The longest `error.type` taken from a body; a longer one (or one with
/// other characters than `[a-z0-9_]`) is not an API error type, and the
/// HTTP status stands in for it.
const ERROR_TYPE_MAX: usize = 40;

/// `kind` as `error.type`, when it looks like an API error type: the
/// documented ones (`invalid_request_error`, `authentication_error`,
/// `billing_error`, `permission_error`, `not_found_error`, `conflict_error`,
/// `request_too_large`, `rate_limit_error`, `api_error`, `timeout_error`,
/// `overloaded_error`) and any later one of the same shape, so the label
/// stays short and clean whatever a proxy answers.
pub(crate) fn accept_error_type(kind: &str) -> Option<&str> {
    let ok = !kind.is_empty()
        && kind.len() <= ERROR_TYPE_MAX
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ok.then_some(kind)
}

/// The `error.type` an error body names (or `None`).
pub(crate) fn error_type(body: &[u8]) -> Option<String> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    accept_error_type(parsed.error.kind.as_deref()?).map(str::to_owned)
}

/// The `type` of a stream event's JSON (`data:`): read first, so an event
/// type the adapter does not model is skipped whatever else it carries.
#[derive(Debug, Deserialize)]
pub(crate) struct EventKind {
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub(crate) kind: Option<String>,
}

/// `message_start`.
#[derive(Debug, Deserialize)]
pub(crate) struct MessageStart {
    pub(crate) message: StreamMessage,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamMessage {
    pub(crate) id: String,
    pub(crate) model: String,
    #[serde(default)]
    pub(crate) usage: WireUsage,
}

/// `content_block_start`.
#[derive(Debug, Deserialize)]
pub(crate) struct BlockStart {
    #[serde(default)]
    pub(crate) index: Option<u64>,
    pub(crate) content_block: ContentBlock,
}

/// `content_block_delta`.
#[derive(Debug, Deserialize)]
pub(crate) struct BlockDelta {
    #[serde(default)]
    pub(crate) index: Option<u64>,
    pub(crate) delta: Delta,
}

/// The delta of a `content_block_delta`: `text_delta`, `input_json_delta`,
/// `thinking_delta` are read; `signature_delta`, `citations_delta` and
/// later types are skipped.
#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub(crate) kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub(crate) text: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub(crate) partial_json: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub(crate) thinking: Option<String>,
}

/// `message_delta`.
#[derive(Debug, Deserialize)]
pub(crate) struct MessageDelta {
    #[serde(default)]
    pub(crate) delta: Option<MessageDeltaBody>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageDeltaBody {
    #[serde(default, deserialize_with = "lenient_string")]
    pub(crate) stop_reason: Option<String>,
}

/// `error` (in a stream).
#[derive(Debug, Deserialize)]
pub(crate) struct StreamError {
    #[serde(default)]
    pub(crate) error: Option<ErrorDetail>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_come_from_the_body_when_they_look_like_one() {
        let body =
            |t: &str| format!(r#"{{"type":"error","error":{{"type":"{t}","message":"m"}}}}"#);
        for t in [
            "invalid_request_error",
            "conflict_error",
            "request_too_large",
            "some_new_error",
        ] {
            assert_eq!(error_type(body(t).as_bytes()).as_deref(), Some(t));
        }
        assert_eq!(error_type(body("<script>").as_bytes()), None);
        assert_eq!(error_type(body(&"x".repeat(41)).as_bytes()), None);
        assert_eq!(error_type(b"not json"), None);
        assert_eq!(error_type(br#"{"error":{"type":7}}"#), None);
    }

    #[test]
    fn blocks_of_any_type_and_shape_decode() {
        let m: Message = serde_json::from_str(
            r#"{"id":"msg_1","model":"m","content":[
                {"type":"thinking","thinking":"hmm","signature":"sig"},
                {"type":"text","text":"a","citations":[{"type":"x"}]},
                {"type":"tool_use","id":"toolu_1","name":"f","input":{"q":1}},
                {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}},
                {"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result"}]},
                {"type":"future_block","text":{"not":"a string"}}
            ]}"#,
        )
        .unwrap();
        assert_eq!(m.text(), "a");
        assert_eq!(m.content[0].thinking.as_deref(), Some("hmm"));
        assert_eq!(m.content[2].input, Some(serde_json::json!({"q": 1})));
        assert_eq!(m.content[5].text, None);
        assert!(m.usage.is_none());
    }
}
