//! What the caller tells the wrapper about a call: the request going out
//! ([`Request`]) and what came back ([`Response`], [`Usage`]).

use std::borrow::Cow;

/// `gen_ai.provider.name` of Anthropic.
pub const ANTHROPIC: &str = "anthropic";
/// `gen_ai.provider.name` of OpenAI.
pub const OPENAI: &str = "openai";

/// The sampling parameters of a request: what the provider is asked for
/// (`temperature`, `top_p`, `top_k`, `stop_sequences` in the Anthropic
/// API) and what the gen_ai span reports (`gen_ai.request.*`).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Sampling {
    pub(crate) temperature: Option<f64>,
    pub(crate) top_p: Option<f64>,
    /// An integer in the Anthropic API; the conventions' attribute is a
    /// double, so the span records it as one.
    pub(crate) top_k: Option<u64>,
    pub(crate) stop_sequences: Vec<String>,
}

/// The setters of [`Sampling`], written once for each request type that
/// holds one in `self.sampling` ([`Request`] and the Anthropic adapter's
/// `MessagesRequest`).
macro_rules! sampling_setters {
    () => {
        /// `temperature` (`gen_ai.request.temperature`). Defaults to unset
        /// (the provider's default).
        pub fn temperature(mut self, t: f64) -> Self {
            self.sampling.temperature = Some(t);
            self
        }

        /// `top_p` (`gen_ai.request.top_p`). Defaults to unset (the
        /// provider's default).
        pub fn top_p(mut self, p: f64) -> Self {
            self.sampling.top_p = Some(p);
            self
        }

        /// `top_k` (`gen_ai.request.top_k`). Defaults to unset (the
        /// provider's default).
        pub fn top_k(mut self, k: u64) -> Self {
            self.sampling.top_k = Some(k);
            self
        }

        /// `stop_sequences` (`gen_ai.request.stop_sequences`). Defaults to
        /// none.
        pub fn stop_sequences<I, S>(mut self, stops: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.sampling.stop_sequences = stops.into_iter().map(Into::into).collect();
            self
        }
    };
}
pub(crate) use sampling_setters;

/// An LLM request as the gen_ai span describes it: operation, provider,
/// model and the sampling parameters given. Never the prompt.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Request {
    pub(crate) operation: Cow<'static, str>,
    pub(crate) provider: Cow<'static, str>,
    pub(crate) model: String,
    pub(crate) max_tokens: Option<u64>,
    pub(crate) sampling: Sampling,
    pub(crate) stream: bool,
    pub(crate) task: Option<String>,
    pub(crate) server: Option<(String, u16)>,
}

impl Request {
    /// A `chat` request to `model` of `provider` (`gen_ai.provider.name`:
    /// [`ANTHROPIC`], [`OPENAI`], ...).
    pub fn chat(provider: impl Into<Cow<'static, str>>, model: impl Into<String>) -> Self {
        Self {
            operation: Cow::Borrowed("chat"),
            provider: provider.into(),
            model: model.into(),
            max_tokens: None,
            sampling: Sampling::default(),
            stream: false,
            task: None,
            server: None,
        }
    }

    /// `gen_ai.operation.name` (`text_completion`, `embeddings`, ...).
    /// Defaults to `chat`.
    pub fn operation(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.operation = name.into();
        self
    }

    /// `gen_ai.request.max_tokens`. Defaults to unset.
    pub fn max_tokens(mut self, n: u64) -> Self {
        self.max_tokens = Some(n);
        self
    }

    sampling_setters!();

    /// `gen_ai.request.stream`: the answer streams, so the call records
    /// time to first chunk and time per chunk. Defaults to false.
    pub fn stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    /// `wingspan.gen_ai.task`: what the call is for (`coach`, `summary`), a
    /// low-cardinality label on the span and every gen_ai metric, bounded
    /// like cache names (past the cap, `other`). Defaults to none.
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    /// `server.address` and `server.port` of the provider's endpoint.
    /// Defaults to unset.
    pub fn server(mut self, address: impl Into<String>, port: u16) -> Self {
        self.server = Some((address.into(), port));
        self
    }

    /// The requested model.
    pub fn model(&self) -> &str {
        &self.model
    }
}

/// Token counts of one call, as Anthropic reports them: `input_tokens`
/// excludes the cached tokens, which come separately.
///
/// For a provider whose input count includes cached tokens (OpenAI's
/// `prompt_tokens`), pass `prompt_tokens - cached_tokens` as `input_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Uncached input tokens (Anthropic `input_tokens`).
    pub input_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_input_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_creation_input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
}

impl Usage {
    /// `gen_ai.usage.input_tokens`: input + cache read + cache creation, as
    /// the conventions' Anthropic page defines it.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_read_input_tokens)
            .saturating_add(self.cache_creation_input_tokens)
    }
}

/// What came back: model, id, finish reasons, usage. Never the completion.
#[derive(Debug, Clone, PartialEq, Default)]
#[must_use]
pub struct Response {
    pub(crate) model: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) finish_reasons: Vec<String>,
    pub(crate) usage: Option<Usage>,
    pub(crate) reasoning_output_tokens: Option<u64>,
}

impl Response {
    /// An empty description; add what the client reported.
    pub fn new() -> Self {
        Self::default()
    }

    /// `gen_ai.response.model`. Defaults to unset.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// `gen_ai.response.id`. Defaults to unset.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds one of `gen_ai.response.finish_reasons`. Defaults to none.
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reasons.push(reason.into());
        self
    }

    /// Token usage. Without it no token metric is recorded and the call
    /// counts as unpriced (`wingspan.gen_ai.unpriced`): its cost is
    /// unknown, not zero. Defaults to unset.
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// `gen_ai.usage.reasoning.output_tokens`: the output tokens spent on
    /// reasoning (extended thinking), part of `output_tokens`, when the
    /// provider reports them. Defaults to unset.
    pub fn reasoning_output_tokens(mut self, n: u64) -> Self {
        self.reasoning_output_tokens = Some(n);
        self
    }
}

/// One part of a captured answer (`gen_ai.output.messages`), as the
/// conventions' message schema types them: `text`, `reasoning` (a
/// thinking block) and `tool_call` (a tool-use request: id, name and the
/// arguments as JSON text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputPart<'a> {
    /// `{"type": "text", "content": ...}`.
    Text(&'a str),
    /// `{"type": "reasoning", "content": ...}`.
    Reasoning(&'a str),
    /// `{"type": "tool_call", "id": ..., "name": ..., "arguments": ...}`.
    ToolCall {
        /// The provider's id of the call (`toolu_...`).
        id: &'a str,
        /// The tool's name.
        name: &'a str,
        /// The arguments, as JSON text (recorded as JSON when whole and
        /// within the cap, else as a capped string).
        arguments: &'a str,
    },
}
