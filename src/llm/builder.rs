//! [`LlmBuilder`]: the settings, the pricing table, then the instruments.

use std::sync::Arc;

use super::handle::{Llm, Shared};
use super::instruments::{Instruments, Tasks};
use super::{BuildError, Pricing};
use crate::config::{ConfigError, LlmConfig};
use crate::telemetry::Telemetry;

/// Builds an [`Llm`]; made by [`Llm::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LlmBuilder {
    telemetry: Telemetry,
    config: LlmConfig,
    pricing: Option<Pricing>,
}

impl LlmBuilder {
    pub(super) fn new(telemetry: &Telemetry) -> Self {
        Self {
            telemetry: telemetry.clone(),
            config: telemetry.config().llm.clone(),
            pricing: None,
        }
    }

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

    /// Loads the pricing table (unless one was given) and creates the
    /// instruments. Fails with [`BuildError::Config`] on a task cap of 0 or
    /// an unreadable or malformed pricing source.
    pub fn build(self) -> Result<Llm, BuildError> {
        if self.config.max_tasks == 0 {
            return Err(ConfigError::invalid(
                "WINGSPAN_LLM_MAX_TASKS",
                "0",
                "a whole number from 1 to 1000",
            )
            .into());
        }
        let pricing = match self.pricing {
            Some(pricing) => pricing,
            None => Pricing::from_config(&self.config)?,
        };
        Ok(Llm {
            shared: Arc::new(Shared {
                tracer: self.telemetry.tracer().clone(),
                recording: self.telemetry.recording(),
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
