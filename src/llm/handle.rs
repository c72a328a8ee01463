//! [`Llm`]: starting and instrumenting calls.

use std::future::Future;
use std::sync::Arc;

use opentelemetry::trace::FutureExt as _;
use opentelemetry::Context;
use opentelemetry_sdk::trace::SdkTracer;

use super::instruments::{Instruments, Tasks};
use super::{Call, LlmBuilder, Pricing, Request, Response};
use crate::telemetry::Telemetry;

/// What every call of one [`Llm`] shares.
pub(crate) struct Shared {
    pub(crate) tracer: SdkTracer,
    /// `Off` with the SDK disabled: no span, nothing propagated.
    pub(crate) recording: crate::telemetry::recording::Recording,
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
    pub(super) shared: Arc<Shared>,
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
        LlmBuilder::new(telemetry)
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
