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
//! one call; `fake` (feature `llm-fake`) is a local Messages API for tests.
//!
//! Any client's call, as one instrumented gen_ai call:
//!
//! ```no_run
//! # async fn f(
//! #     telemetry: &wingspan::Telemetry,
//! #     my_client_call: impl std::future::Future<Output = Result<(String, u64, u64), std::io::Error>>,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use wingspan::llm::{Llm, Request, Response, Usage, OPENAI};
//! let llm = Llm::builder(telemetry).build()?;
//! let request = Request::chat(OPENAI, "gpt-4o").max_tokens(256).task("summary");
//! let (text, input_tokens, output_tokens) = llm
//!     .instrument(
//!         &request,
//!         my_client_call,
//!         |(_, input, output)| {
//!             Response::new().usage(Usage {
//!                 input_tokens: *input,
//!                 output_tokens: *output,
//!                 ..Usage::default()
//!             })
//!         },
//!         |e| e.kind().to_string(),
//!     )
//!     .await?;
//! # drop((text, input_tokens, output_tokens)); Ok(()) }
//! ```

pub mod anthropic;
mod bound;
mod builder;
mod call;
mod error;
#[cfg(feature = "llm-fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "llm-fake")))]
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
pub use request::{OutputPart, Request, Response, Usage, ANTHROPIC, OPENAI};

pub(crate) use handle::Shared;
