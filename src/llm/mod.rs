//! LLM calls as gen_ai telemetry (feature `llm`), whatever client makes them.
//!
//! [`Llm`] wraps any LLM call in a `{operation} {model}` CLIENT span with
//! the gen_ai conventions (v1.44), records `gen_ai.client.operation.duration`,
//! `gen_ai.client.token.usage`, the streaming timings and the cost from a
//! [`Pricing`] table (`wingspan.gen_ai.cost`, or `wingspan.gen_ai.unpriced`
//! for a model the table does not know). Prompts and completions stay out
//! unless content capture is switched on, and are then capped.
//!
//! [`anthropic::Anthropic`] is a thin Messages API adapter over the
//! instrumented [`crate::client::HttpClient`] that fills all of it in with
//! one call; [`fake`] (feature `llm-fake`) is a local Messages API for tests.

pub mod anthropic;
mod bound;
mod builder;
mod call;
mod error;
#[cfg(feature = "llm-fake")]
pub mod fake;
mod handle;
mod instruments;
mod pricing;
pub(crate) mod request;

pub use builder::LlmBuilder;
pub use call::Call;
pub use error::BuildError;
pub use handle::Llm;
pub use pricing::{Cost, Price, Pricing, PRICES_AS_OF, PRICES_SOURCE};
pub use request::{Request, Response, Usage, ANTHROPIC, OPENAI};

pub(crate) use handle::Shared;
