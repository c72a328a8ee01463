//! The client's errors: [`HttpError`] for a request (and its `error.type`),
//! [`BuildError`] for [`HttpClientBuilder::build`](super::HttpClientBuilder::build).

use std::time::Duration;

use super::RedirectRefused;
use crate::names;

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No response headers within the timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The request failed before a response: connect, TLS, I/O, a malformed
    /// request. `kind` is its `error.type`.
    #[error("{kind}: {source}")]
    Transport {
        /// `connect`, `request`, `redirect`, `body`, `decode` or `_OTHER`.
        kind: &'static str,
        /// reqwest's error, without the URL.
        source: reqwest::Error,
    },
    /// A redirect was not followed: nothing was sent to its target. Its
    /// `error.type` is `redirect`.
    #[error("redirect {status} not followed: {reason}")]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Why.
        reason: RedirectRefused,
    },
}

impl HttpError {
    /// The `error.type` of this failure.
    pub fn error_type(&self) -> &str {
        match self {
            HttpError::Timeout(_) => names::ERROR_TIMEOUT,
            HttpError::Transport { kind, .. } => kind,
            HttpError::Redirect { .. } => "redirect",
        }
    }

    pub(super) fn retryable(&self) -> bool {
        match self {
            HttpError::Timeout(_) => true,
            HttpError::Transport { kind, .. } => *kind == names::ERROR_CONNECT,
            HttpError::Redirect { .. } => false,
        }
    }
}

/// Why [`HttpClientBuilder::build`](super::HttpClientBuilder::build) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The TLS client configuration (rustls on `ring`) could not be made.
    #[error("cannot set up TLS for the HTTP client: {0}")]
    Tls(#[source] rustls::Error),
    /// reqwest refused the client's settings.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}
