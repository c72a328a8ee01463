//! A streamed Messages answer: SSE events read one at a time, each content
//! delta a chunk of the gen_ai call, the call ended at `message_stop`, or
//! at the end of the stream once the final `message_delta` (stop reason
//! and usage) has arrived.
//!
//! Modelled: `message_start`, `content_block_start`/`_delta`/`_stop` of
//! `text`, `tool_use` and `thinking` blocks (`text_delta`,
//! `input_json_delta`, `thinking_delta`), `message_delta`, `message_stop`,
//! `error`, `ping`. Every other event type, block type and delta type
//! (`signature_delta`, `citations_delta`, server-tool blocks, later ones)
//! is skipped whatever it carries.

use std::time::Duration;

use super::sse::{EventTooLarge, SseBuffer, SseEvent};
use super::wire::{self, BlockDelta, BlockStart, MessageDelta, MessageStart, WireUsage};
use super::AnthropicError;
use crate::llm::{Call, OutputPart, Response};
use crate::text::prefix_bytes;

/// The content blocks a capture keeps (each capped at the content bound):
/// beyond them, blocks are not recorded.
pub(super) const MAX_CAPTURED_PARTS: usize = 64;

/// What [`MessageStream::next`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// `message_start`: the answering model and the message id.
    Start {
        /// `gen_ai.response.model`.
        model: String,
        /// `gen_ai.response.id`.
        id: String,
    },
    /// A `text_delta` of a content block.
    Text(String),
    /// A `thinking_delta` of a `thinking` block.
    Thinking(String),
    /// `content_block_start` of a `tool_use` block.
    ToolUse {
        /// The call's id (`toolu_...`).
        id: String,
        /// The tool's name.
        name: String,
    },
    /// An `input_json_delta` of a `tool_use` block: a piece of the
    /// arguments' JSON text.
    ToolInput(String),
    /// `message_delta`: why generation stopped.
    Stop {
        /// `end_turn`, `max_tokens`, ...
        reason: Option<String>,
    },
}

/// An answer arriving as Server-Sent Events. Dropping it before the end
/// ends the gen_ai span as `canceled`.
#[derive(Debug)]
pub struct MessageStream {
    call: Option<Call>,
    response: reqwest::Response,
    buffer: SseBuffer,
    max_event: usize,
    timeout: Duration,
    model: Option<String>,
    id: Option<String>,
    usage: WireUsage,
    stop_reason: Option<String>,
    /// The body ended (or broke: the error kept in `cut`).
    at_end: bool,
    cut: Option<AnthropicError>,
    /// Kept only when content capture is on, each block only as much as is
    /// recorded.
    captured: Option<Capture>,
}

impl MessageStream {
    pub(super) fn new(
        call: Call,
        response: reqwest::Response,
        timeout: Duration,
        max_event: usize,
    ) -> Self {
        let captured = call.captures_content().then(|| Capture {
            blocks: Vec::new(),
            max: call.content_max_bytes(),
        });
        Self {
            call: Some(call),
            response,
            buffer: SseBuffer::new(max_event),
            max_event,
            timeout,
            model: None,
            id: None,
            usage: WireUsage::default(),
            stop_reason: None,
            at_end: false,
            cut: None,
            captured,
        }
    }

    /// The next event, `Ok(None)` after `message_stop` (or the end of a
    /// stream whose final `message_delta` arrived). Each wait for bytes is
    /// bounded by the client's timeout.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>, AnthropicError> {
        loop {
            if self.call.is_none() {
                return Ok(None);
            }
            match self.buffer.next_event() {
                Ok(Some(event)) => match self.handle(event) {
                    Ok(Some(e)) => return Ok(Some(e)),
                    Ok(None) => continue,
                    Err(e) => return Err(self.fail(e)),
                },
                Ok(None) => {}
                Err(EventTooLarge) => {
                    let e = AnthropicError::TooLarge {
                        what: "event",
                        limit: self.max_event,
                    };
                    return Err(self.fail(e));
                }
            }
            if self.at_end {
                return self.end();
            }
            match tokio::time::timeout(self.timeout, self.response.chunk()).await {
                Err(_) => return Err(self.fail(AnthropicError::BodyTimeout(self.timeout))),
                Ok(Err(e)) => {
                    self.cut = Some(AnthropicError::Decode(format!(
                        "stream: {}",
                        e.without_url()
                    )));
                    self.at_end = true;
                }
                Ok(Ok(Some(bytes))) => self.buffer.push(&bytes),
                Ok(Ok(None)) => self.at_end = true,
            }
        }
    }

    /// The body ended: the event still buffered (whose closing blank line
    /// never came) if it is whole, then complete when the final
    /// `message_delta` arrived, else an error that records what arrived.
    fn end(&mut self) -> Result<Option<StreamEvent>, AnthropicError> {
        if let Some(event) = self.buffer.finish() {
            match self.handle(event) {
                Ok(Some(e)) => return Ok(Some(e)),
                Ok(None) => {}
                // Cut in the middle: not a whole event.
                Err(AnthropicError::Decode(_)) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        if self.call.is_none() {
            return Ok(None);
        }
        if self.stop_reason.is_some() {
            self.finish();
            return Ok(None);
        }
        let e = self.cut.take().unwrap_or_else(|| {
            AnthropicError::Decode("stream ended before message_stop".to_owned())
        });
        Err(self.fail(e))
    }

    /// Reads the stream to its end and returns the text.
    pub async fn text(mut self) -> Result<String, AnthropicError> {
        let mut text = String::new();
        while let Some(event) = self.next().await? {
            if let StreamEvent::Text(t) = event {
                text.push_str(&t);
            }
        }
        Ok(text)
    }

    /// Token usage as reported so far.
    pub fn usage(&self) -> crate::llm::Usage {
        self.usage.usage()
    }

    /// Ends the call as failed; whatever arrived before (model, id, usage
    /// so far and its cost) is recorded with it.
    fn fail(&mut self, e: AnthropicError) -> AnthropicError {
        if let Some(call) = self.call.take() {
            if self.model.is_some() || !self.usage.is_empty() {
                call.fail_after(e.error_type(), &self.so_far());
            } else {
                call.fail(e.error_type());
            }
        }
        e
    }

    /// What the answer reported so far.
    fn so_far(&self) -> Response {
        let mut r = Response::new();
        if !self.usage.is_empty() {
            r = r.usage(self.usage.usage());
        }
        if let Some(n) = self.usage.thinking_tokens() {
            r = r.reasoning_output_tokens(n);
        }
        if let Some(m) = &self.model {
            r = r.model(m.clone());
        }
        if let Some(id) = &self.id {
            r = r.id(id.clone());
        }
        if let Some(reason) = &self.stop_reason {
            r = r.finish_reason(reason.clone());
        }
        r
    }

    fn handle(&mut self, event: SseEvent) -> Result<Option<StreamEvent>, AnthropicError> {
        if event.data.is_empty() {
            return Ok(None);
        }
        // The type inside the data names the event (the SSE name matches it
        // in the API's streams); read alone first, so that an event type
        // not modelled here is skipped whatever its other fields are.
        let kind = serde_json::from_str::<wire::EventKind>(&event.data)
            .ok()
            .and_then(|k| k.kind)
            .unwrap_or_else(|| event.event.clone());
        let decode = |what: &str| AnthropicError::Decode(format!("{what} event JSON"));
        let Some(call) = self.call.as_mut() else {
            return Ok(None);
        };
        match kind.as_str() {
            "message_start" => {
                let m = serde_json::from_str::<MessageStart>(&event.data)
                    .map_err(|_| decode("message_start"))?
                    .message;
                call.response_model(&m.model);
                self.usage.merge(&m.usage);
                self.model = Some(m.model.clone());
                self.id = Some(m.id.clone());
                Ok(Some(StreamEvent::Start {
                    model: m.model,
                    id: m.id,
                }))
            }
            "content_block_start" => {
                // A block start of a shape not known is skipped like any
                // block type not modelled.
                let Ok(start) = serde_json::from_str::<BlockStart>(&event.data) else {
                    return Ok(None);
                };
                if let Some(c) = &mut self.captured {
                    c.start(&start);
                }
                let b = start.content_block;
                match (b.kind.as_str(), b.id, b.name) {
                    ("tool_use", Some(id), Some(name)) => {
                        Ok(Some(StreamEvent::ToolUse { id, name }))
                    }
                    _ => Ok(None),
                }
            }
            "content_block_delta" => {
                call.chunk();
                let d = serde_json::from_str::<BlockDelta>(&event.data)
                    .map_err(|_| decode("content_block_delta"))?;
                if let Some(c) = &mut self.captured {
                    c.delta(&d);
                }
                let delta = d.delta;
                Ok(match delta.kind.as_deref() {
                    Some("text_delta") => delta.text.map(StreamEvent::Text),
                    Some("thinking_delta") => delta.thinking.map(StreamEvent::Thinking),
                    Some("input_json_delta") => delta.partial_json.map(StreamEvent::ToolInput),
                    _ => None,
                })
            }
            "message_delta" => {
                let d = serde_json::from_str::<MessageDelta>(&event.data)
                    .map_err(|_| decode("message_delta"))?;
                if let Some(u) = &d.usage {
                    self.usage.merge(u);
                }
                let reason = d.delta.and_then(|d| d.stop_reason);
                self.stop_reason = reason.clone().or(self.stop_reason.take());
                Ok(Some(StreamEvent::Stop { reason }))
            }
            "message_stop" => {
                self.finish();
                Ok(None)
            }
            "error" => {
                let kind = serde_json::from_str::<wire::StreamError>(&event.data)
                    .ok()
                    .and_then(|e| e.error)
                    .and_then(|e| e.kind);
                let error_type = kind
                    .as_deref()
                    .and_then(wire::accept_error_type)
                    .unwrap_or("stream_error");
                Err(AnthropicError::Api {
                    status: 200,
                    error_type: error_type.to_owned(),
                })
            }
            // ping, content_block_stop, and event types added to the API
            // later.
            _ => Ok(None),
        }
    }

    fn finish(&mut self) {
        let Some(mut call) = self.call.take() else {
            return;
        };
        if let Some(c) = self.captured.take() {
            call.capture_output_parts(&c.parts(), self.stop_reason.as_deref());
        }
        // No usage at all: `ok` counts the call unpriced, never $0.00.
        call.ok(&self.so_far());
    }
}

/// The captured answer: one entry per content block (up to
/// [`MAX_CAPTURED_PARTS`]), each holding at most `max` bytes (and whether
/// more came).
#[derive(Debug)]
struct Capture {
    blocks: Vec<Block>,
    max: usize,
}

#[derive(Debug)]
struct Block {
    index: Option<u64>,
    kind: BlockKind,
    content: String,
    cut: bool,
    /// The content is the start event's `input`, replaced by the first
    /// `input_json_delta`.
    from_start: bool,
}

#[derive(Debug)]
enum BlockKind {
    Text,
    Reasoning,
    Tool { id: String, name: String },
    Other,
}

impl Capture {
    fn start(&mut self, start: &BlockStart) {
        if self.blocks.len() >= MAX_CAPTURED_PARTS {
            return;
        }
        let b = &start.content_block;
        let (kind, initial) = match b.kind.as_str() {
            "text" => (BlockKind::Text, b.text.clone().unwrap_or_default()),
            "thinking" => (BlockKind::Reasoning, b.thinking.clone().unwrap_or_default()),
            "tool_use" => (
                BlockKind::Tool {
                    id: b.id.clone().unwrap_or_default(),
                    name: b.name.clone().unwrap_or_default(),
                },
                b.input
                    .as_ref()
                    .filter(|v| v.as_object().is_none_or(|o| !o.is_empty()))
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            ),
            _ => (BlockKind::Other, String::new()),
        };
        let mut block = Block {
            index: start.index,
            kind,
            content: String::new(),
            cut: false,
            from_start: true,
        };
        block.push(&initial, self.max);
        self.blocks.push(block);
    }

    fn delta(&mut self, d: &BlockDelta) {
        let delta = &d.delta;
        let (kind, piece) = match delta.kind.as_deref() {
            Some("text_delta") => (BlockKind::Text, delta.text.as_deref()),
            Some("thinking_delta") => (BlockKind::Reasoning, delta.thinking.as_deref()),
            Some("input_json_delta") => (
                BlockKind::Tool {
                    id: String::new(),
                    name: String::new(),
                },
                delta.partial_json.as_deref(),
            ),
            _ => return,
        };
        let Some(piece) = piece else { return };
        let max = self.max;
        let found = self.blocks.iter_mut().rev().find(|b| b.index == d.index);
        let block = match found {
            Some(b) => b,
            None => {
                // A delta without its block start: a block of the delta's
                // kind.
                if self.blocks.len() >= MAX_CAPTURED_PARTS {
                    return;
                }
                self.blocks.push(Block {
                    index: d.index,
                    kind,
                    content: String::new(),
                    cut: false,
                    from_start: false,
                });
                let Some(b) = self.blocks.last_mut() else {
                    return;
                };
                b
            }
        };
        if block.from_start {
            if matches!(block.kind, BlockKind::Tool { .. }) {
                block.content.clear();
                block.cut = false;
            }
            block.from_start = false;
        }
        block.push(piece, max);
    }

    fn parts(&self) -> Vec<OutputPart<'_>> {
        self.blocks
            .iter()
            .filter_map(|b| match &b.kind {
                BlockKind::Text => Some(OutputPart::Text(&b.content)),
                BlockKind::Reasoning => Some(OutputPart::Reasoning(&b.content)),
                BlockKind::Tool { id, name } => Some(OutputPart::ToolCall {
                    id,
                    name,
                    arguments: if b.content.is_empty() && !b.cut {
                        "{}"
                    } else {
                        &b.content
                    },
                }),
                BlockKind::Other => None,
            })
            .collect()
    }
}

impl Block {
    /// Appends `piece`, keeping at most `max` bytes; once a piece is cut,
    /// nothing after it is kept (the content stays a prefix).
    fn push(&mut self, piece: &str, max: usize) {
        if self.cut {
            return;
        }
        let room = max.saturating_sub(self.content.len());
        let kept = prefix_bytes(piece, room);
        self.content.push_str(kept);
        if kept.len() < piece.len() {
            self.cut = true;
        }
    }
}
