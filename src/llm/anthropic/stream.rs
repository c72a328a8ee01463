//! A streamed Messages answer: SSE events read one at a time, each text
//! delta a chunk of the gen_ai call, the call ended at `message_stop`.

use std::time::Duration;

use super::sse::{EventTooLarge, SseBuffer, SseEvent};
use super::wire::{self, StreamData, WireUsage};
use super::AnthropicError;
use crate::llm::{Call, Response};
use crate::text::prefix_bytes;

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
    /// Kept only when content capture is on, and only as much as is
    /// recorded (`capture_room` bytes more).
    captured: Option<String>,
    capture_room: usize,
}

impl MessageStream {
    pub(super) fn new(
        call: Call,
        response: reqwest::Response,
        timeout: Duration,
        max_event: usize,
    ) -> Self {
        let captured = call.captures_content().then(String::new);
        let capture_room = call.content_max_bytes();
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
            captured,
            capture_room,
        }
    }

    /// The next event, `Ok(None)` after `message_stop`. Each wait for bytes
    /// is bounded by the client's timeout.
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
            let chunk = match tokio::time::timeout(self.timeout, self.response.chunk()).await {
                Err(_) => return Err(self.fail(AnthropicError::BodyTimeout(self.timeout))),
                Ok(Err(e)) => {
                    let e = AnthropicError::Decode(format!("stream: {}", e.without_url()));
                    return Err(self.fail(e));
                }
                Ok(Ok(chunk)) => chunk,
            };
            match chunk {
                Some(bytes) => self.buffer.push(&bytes),
                None => {
                    let e = AnthropicError::Decode("stream ended before message_stop".to_owned());
                    return Err(self.fail(e));
                }
            }
        }
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

    fn fail(&mut self, e: AnthropicError) -> AnthropicError {
        if let Some(call) = self.call.take() {
            call.fail(e.error_type());
        }
        e
    }

    fn handle(&mut self, event: SseEvent) -> Result<Option<StreamEvent>, AnthropicError> {
        if event.event == "ping" || event.data.is_empty() {
            return Ok(None);
        }
        let data: StreamData = serde_json::from_str(&event.data)
            .map_err(|_| AnthropicError::Decode(format!("{} event JSON", event.event)))?;
        let Some(call) = self.call.as_mut() else {
            return Ok(None);
        };
        match data.kind.as_str() {
            "message_start" => {
                let Some(m) = data.message else {
                    return Err(AnthropicError::Decode(
                        "message_start without message".into(),
                    ));
                };
                call.response_model(&m.model);
                self.usage.merge(&m.usage);
                self.model = Some(m.model.clone());
                self.id = Some(m.id.clone());
                Ok(Some(StreamEvent::Start {
                    model: m.model,
                    id: m.id,
                }))
            }
            "content_block_delta" => {
                call.chunk();
                let text = data.delta.and_then(|d| match d.kind.as_deref() {
                    Some("text_delta") => d.text,
                    _ => None,
                });
                match text {
                    Some(t) => {
                        if let Some(c) = &mut self.captured {
                            let kept = prefix_bytes(&t, self.capture_room);
                            c.push_str(kept);
                            // Once a piece is cut, nothing after it is kept:
                            // the text stays a prefix of the answer.
                            self.capture_room = if kept.len() < t.len() {
                                0
                            } else {
                                self.capture_room - kept.len()
                            };
                        }
                        Ok(Some(StreamEvent::Text(t)))
                    }
                    None => Ok(None),
                }
            }
            "message_delta" => {
                if let Some(u) = &data.usage {
                    self.usage.merge(u);
                }
                let reason = data.delta.and_then(|d| d.stop_reason);
                self.stop_reason = reason.clone().or(self.stop_reason.take());
                Ok(Some(StreamEvent::Stop { reason }))
            }
            "message_stop" => {
                self.finish();
                Ok(None)
            }
            "error" => {
                let kind = data.error.map(|e| e.kind).unwrap_or_default();
                let error_type = wire::ERROR_TYPES
                    .iter()
                    .find(|t| **t == kind)
                    .map_or("stream_error", |t| t);
                Err(AnthropicError::Api {
                    status: 200,
                    error_type: error_type.to_owned(),
                })
            }
            // content_block_start, content_block_stop, and event types added
            // to the API later.
            _ => Ok(None),
        }
    }

    fn finish(&mut self) {
        let Some(mut call) = self.call.take() else {
            return;
        };
        if let Some(text) = self.captured.take() {
            call.capture_output(&text, self.stop_reason.as_deref());
        }
        let mut r = Response::new().usage(self.usage.usage());
        if let Some(m) = &self.model {
            r = r.model(m.clone());
        }
        if let Some(id) = &self.id {
            r = r.id(id.clone());
        }
        if let Some(reason) = &self.stop_reason {
            r = r.finish_reason(reason.clone());
        }
        call.ok(&r);
    }
}
