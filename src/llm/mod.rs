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
mod call;
#[cfg(feature = "llm-fake")]
pub mod fake;
mod instruments;
mod pricing;
mod request;

use std::future::Future;
use std::sync::Arc;

use opentelemetry::trace::FutureExt as _;
use opentelemetry::Context;
use opentelemetry_sdk::trace::SdkTracer;

pub use call::Call;
pub use pricing::{Cost, Price, Pricing, PRICES_AS_OF, PRICES_SOURCE};
pub use request::{Request, Response, Usage, ANTHROPIC, OPENAI};

use crate::config::{ConfigError, LlmConfig};
use crate::Telemetry;
use instruments::{Instruments, Tasks};

/// What every call of one [`Llm`] shares.
pub(crate) struct Shared {
    pub(crate) tracer: SdkTracer,
    pub(crate) instruments: Instruments,
    pub(crate) pricing: Pricing,
    pub(crate) tasks: Tasks,
    pub(crate) capture_content: bool,
    pub(crate) content_max_bytes: usize,
    /// The in-process view (`wingspan::stats`), when on.
    pub(crate) stats: Option<crate::stats::Stats>,
}

/// The gen_ai instrumentation: cheap to clone, one per service.
///
/// ```no_run
/// # async fn f(telemetry: &wingspan::Telemetry) -> Result<(), Box<dyn std::error::Error>> {
/// use wingspan::llm::{Llm, Request, Response, Usage};
/// let llm = Llm::builder(telemetry).build()?;
/// let request = Request::chat(wingspan::llm::OPENAI, "gpt-4o").max_tokens(256).task("summary");
/// let call = llm.start(&request);
/// // ... make the call under `call.context()` ...
/// call.ok(&Response::new().model("gpt-4o-2024-08-06").usage(Usage {
///     input_tokens: 120,
///     output_tokens: 40,
///     ..Usage::default()
/// }));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Llm {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("capture_content", &self.shared.capture_content)
            .field("models_priced", &self.shared.pricing.models().len())
            .finish_non_exhaustive()
    }
}

impl Llm {
    /// A builder with the settings of `telemetry.config().llm`.
    pub fn builder(telemetry: &Telemetry) -> LlmBuilder {
        LlmBuilder {
            telemetry: telemetry.clone(),
            config: telemetry.config().llm.clone(),
            pricing: None,
        }
    }

    /// Starts a call under the current context.
    pub fn start(&self, request: &Request) -> Call {
        Call::start(&self.shared, &Context::current(), request)
    }

    /// Starts a call under `parent`.
    pub fn start_in(&self, parent: &Context, request: &Request) -> Call {
        Call::start(&self.shared, parent, request)
    }

    /// Runs `fut` (any client's call) as one instrumented call: under the
    /// gen_ai span's context, ended by `describe` on success (what the
    /// response reported) or `error_type` on failure; dropped mid-flight it
    /// ends as `canceled`.
    pub async fn instrument<T, E, F>(
        &self,
        request: &Request,
        fut: F,
        describe: impl FnOnce(&T) -> Response,
        error_type: impl FnOnce(&E) -> String,
    ) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let call = self.start(request);
        let result = fut.with_context(call.context()).await;
        match &result {
            Ok(value) => {
                call.ok(&describe(value));
            }
            Err(e) => {
                call.fail(&error_type(e));
            }
        }
        result
    }

    /// The pricing table in use.
    pub fn pricing(&self) -> &Pricing {
        &self.shared.pricing
    }

    /// Whether prompts and completions are recorded.
    pub fn captures_content(&self) -> bool {
        self.shared.capture_content
    }
}

/// Builds an [`Llm`]; made by [`Llm::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LlmBuilder {
    telemetry: Telemetry,
    config: LlmConfig,
    pricing: Option<Pricing>,
}

impl LlmBuilder {
    /// Replaces the whole LLM configuration. Defaults to
    /// `telemetry.config().llm`.
    pub fn config(mut self, config: LlmConfig) -> Self {
        self.config = config;
        self
    }

    /// The pricing table, in place of the configuration's. Defaults to
    /// [`Pricing::from_config`]: the shipped prices with the overrides of
    /// `WINGSPAN_LLM_PRICING_FILE` and `WINGSPAN_LLM_PRICES`.
    pub fn pricing(mut self, pricing: Pricing) -> Self {
        self.pricing = Some(pricing);
        self
    }

    /// Record prompts, system instructions and completions (capped).
    /// Defaults to `WINGSPAN_LLM_CAPTURE_CONTENT` (false).
    pub fn capture_content(mut self, capture: bool) -> Self {
        self.config.capture_content = capture;
        self
    }

    /// The cap on each captured text, in bytes. Defaults to
    /// `WINGSPAN_LLM_CONTENT_MAX_BYTES` (2048).
    pub fn content_max_bytes(mut self, max: usize) -> Self {
        self.config.content_max_bytes = max;
        self
    }

    /// Distinct task labels before new ones count as `other`. Defaults to
    /// `WINGSPAN_LLM_MAX_TASKS` (32).
    pub fn max_tasks(mut self, max: usize) -> Self {
        self.config.max_tasks = max;
        self
    }

    /// Creates the instruments.
    pub fn build(self) -> Result<Llm, ConfigError> {
        if self.config.max_tasks == 0 {
            return Err(ConfigError::invalid(
                "WINGSPAN_LLM_MAX_TASKS",
                "0",
                "a whole number from 1 to 1000",
            ));
        }
        let pricing = match self.pricing {
            Some(pricing) => pricing,
            None => Pricing::from_config(&self.config)?,
        };
        Ok(Llm {
            shared: Arc::new(Shared {
                tracer: self.telemetry.tracer().clone(),
                instruments: Instruments::new(self.telemetry.meter()),
                pricing,
                tasks: Tasks::new(self.config.max_tasks),
                capture_content: self.config.capture_content,
                content_max_bytes: self.config.content_max_bytes,
                stats: self.telemetry.stats().cloned(),
            }),
        })
    }
}
