//! [`MessagesRequest`]: what one Messages call sends, and the gen_ai
//! description of it.

use super::wire::InputMessage;
use crate::llm::request::{sampling_setters, Sampling};
use crate::llm::{Request, ANTHROPIC};

/// A Messages API request: model, `max_tokens`, text messages, optional
/// system prompt and sampling parameters, and the wingspan task label.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct MessagesRequest {
    model: String,
    max_tokens: u64,
    pub(super) system: Option<String>,
    pub(super) messages: Vec<InputMessage>,
    sampling: Sampling,
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
            sampling: Sampling::default(),
            task: None,
        }
    }

    /// The system prompt. Defaults to none.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.system = Some(text.into());
        self
    }

    /// Adds a `user` message. Defaults to no messages.
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(InputMessage {
            role: "user".to_owned(),
            content: text.into(),
        });
        self
    }

    /// Adds an `assistant` message (a previous turn). Defaults to no
    /// messages.
    pub fn assistant(mut self, text: impl Into<String>) -> Self {
        self.messages.push(InputMessage {
            role: "assistant".to_owned(),
            content: text.into(),
        });
        self
    }

    sampling_setters!();

    /// `wingspan.gen_ai.task` (`coach`, `summary`). Defaults to none.
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    pub(super) fn body(&self, stream: bool) -> serde_json::Value {
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
            let sampling = &self.sampling;
            if let Some(t) = sampling.temperature {
                put("temperature", t.into());
            }
            if let Some(p) = sampling.top_p {
                put("top_p", p.into());
            }
            if let Some(k) = sampling.top_k {
                put("top_k", k.into());
            }
            if !sampling.stop_sequences.is_empty() {
                put("stop_sequences", sampling.stop_sequences.clone().into());
            }
            if stream {
                put("stream", true.into());
            }
        }
        body
    }

    pub(super) fn gen_ai(&self, stream: bool, server: &(String, u16)) -> Request {
        let mut r = Request::chat(ANTHROPIC, self.model.clone())
            .max_tokens(self.max_tokens)
            .stream(stream)
            .server(server.0.clone(), server.1);
        r.sampling = self.sampling.clone();
        if let Some(task) = &self.task {
            r = r.task(task.clone());
        }
        r
    }
}
