//! The adapter's errors: [`AnthropicError`] for a call (and its
//! `error.type`), [`BuildError`] for
//! [`AnthropicBuilder::build`](super::AnthropicBuilder::build).

use std::time::Duration;

use crate::client::HttpError;
use crate::config::ConfigError;
use crate::names;

/// Why a Messages call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnthropicError {
    /// No response (timeout, connection failure) after the retries.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The API answered with an error (after the retries). The message is
    /// not kept: it can quote the prompt.
    #[error("Anthropic API error {status}: {error_type}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The API's error type (`rate_limit_error`, `overloaded_error`,
        /// ...) or, when the body names none, the status.
        error_type: String,
    },
    /// The body (or the next stream event) did not arrive in time.
    #[error("response body timed out after {0:?}")]
    BodyTimeout(Duration),
    /// The answer could not be read (the message names the field, never
    /// the content).
    #[error("unreadable answer: {0}")]
    Decode(String),
    /// The answer's body (`what` = `body`) or one stream event (`event`)
    /// is larger than its bound; reading stopped there.
    #[error("response {what} larger than {limit} bytes")]
    TooLarge {
        /// `body` or `event`.
        what: &'static str,
        /// The bound, in bytes.
        limit: usize,
    },
}

impl AnthropicError {
    /// The `error.type` recorded on the gen_ai span.
    pub fn error_type(&self) -> &str {
        match self {
            AnthropicError::Http(e) => e.error_type(),
            AnthropicError::Api { error_type, .. } => error_type,
            AnthropicError::BodyTimeout(_) => names::ERROR_TIMEOUT,
            AnthropicError::Decode(_) => "decode",
            AnthropicError::TooLarge { .. } => "response_too_large",
        }
    }
}

/// Why [`AnthropicBuilder::build`](super::AnthropicBuilder::build) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting was rejected: `ANTHROPIC_BASE_URL` that is not a URL, or
    /// `ANTHROPIC_API_KEY` that cannot be sent as a header (its value is
    /// never shown).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The [`Llm`](crate::llm::Llm) built from the configuration failed.
    #[error(transparent)]
    Llm(#[from] crate::llm::BuildError),
    /// The [`HttpClient`](crate::client::HttpClient) built from the
    /// configuration failed.
    #[error(transparent)]
    Http(#[from] crate::client::BuildError),
}
