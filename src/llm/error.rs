//! [`BuildError`]: why [`LlmBuilder::build`](super::LlmBuilder::build)
//! failed.

use crate::config::ConfigError;

/// Why [`LlmBuilder::build`](super::LlmBuilder::build) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting was rejected: the variable (`WINGSPAN_LLM_MAX_TASKS`,
    /// `WINGSPAN_LLM_PRICING_FILE`, `WINGSPAN_LLM_PRICES`), the value found
    /// and what is accepted.
    #[error(transparent)]
    Config(#[from] ConfigError),
}
