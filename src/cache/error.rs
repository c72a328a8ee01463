//! The cache's errors: [`CacheError`] for a call (and how it maps onto
//! `error.type` and `db.response.status_code`), [`BuildError`] for
//! [`CacheBuilder::build`](super::CacheBuilder::build).

use fred::error::{Error as FredError, ErrorKind};

use crate::config::ConfigError;
use crate::names;

/// What can go wrong in a cache call.
///
/// Redis error replies keep only their prefix (`WRONGTYPE`, `ERR`, ...): the
/// rest of the message can quote stored values, and it never reaches a span.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The client is not connected (Redis down, or reconnecting): the command
    /// was not sent, so the caller never waits out the command timeout.
    #[error("redis is not connected")]
    NotConnected,
    /// No reply within the command timeout.
    #[error("redis command timed out")]
    Timeout,
    /// Redis replied with an error.
    #[error("redis replied with an error ({code})")]
    Server {
        /// The error prefix, e.g. `WRONGTYPE`; also `db.response.status_code`.
        code: String,
    },
    /// A value could not be converted into the requested type.
    #[error("cannot convert the redis reply: {0}")]
    Parse(String),
    /// Any other client-side failure (I/O, TLS, protocol, ...).
    #[error("redis client error ({kind})")]
    Client {
        /// The `error.type` value, e.g. `io`, `tls`, `protocol`.
        kind: &'static str,
    },
}

/// Why [`CacheBuilder::build`](super::CacheBuilder::build) failed. Redis
/// being unreachable is not one of them: the cache then starts degraded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting was rejected: the variable (`REDIS_URL`, `REDIS_POOL_SIZE`,
    /// ...), the value found (password redacted) and what is accepted.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS client for a `rediss://` URL could not be set up.
    #[error("cannot set up TLS for redis: {0}")]
    Tls(#[source] rustls::Error),
}

impl CacheError {
    /// The value of `error.type` for this error.
    pub fn error_type(&self) -> &str {
        match self {
            CacheError::NotConnected => "not_connected",
            CacheError::Timeout => names::ERROR_TIMEOUT,
            CacheError::Server { code } => code,
            CacheError::Parse(_) => "parse",
            CacheError::Client { kind } => kind,
        }
    }

    /// The value of `db.response.status_code`: the Redis error prefix, only
    /// when Redis itself replied with an error.
    pub fn status_code(&self) -> Option<&str> {
        match self {
            CacheError::Server { code } => Some(code),
            _ => None,
        }
    }
}

impl From<FredError> for CacheError {
    fn from(e: FredError) -> Self {
        if let Some(code) = server_prefix(e.kind(), e.details()) {
            return CacheError::Server {
                code: code.to_owned(),
            };
        }
        match e.kind() {
            ErrorKind::Timeout => CacheError::Timeout,
            // fred answers `Canceled` when a fail-fast command meets a client
            // that is not connected, or when the connection drops mid-flight.
            ErrorKind::Canceled => CacheError::NotConnected,
            ErrorKind::Parse => CacheError::Parse(e.details().to_owned()),
            ErrorKind::IO => CacheError::Client { kind: "io" },
            ErrorKind::Tls => CacheError::Client { kind: "tls" },
            ErrorKind::Protocol => CacheError::Client { kind: "protocol" },
            ErrorKind::Auth => CacheError::Client { kind: "auth" },
            ErrorKind::Config | ErrorKind::Url => CacheError::Client { kind: "config" },
            ErrorKind::Backpressure => CacheError::Client {
                kind: "backpressure",
            },
            ErrorKind::Cluster | ErrorKind::Routing => CacheError::Client { kind: "cluster" },
            _ => CacheError::Client {
                kind: names::ERROR_OTHER,
            },
        }
    }
}

/// The Redis error prefix, when `details` is a server error reply: fred keeps
/// the reply text as the details, and Redis prefixes are upper-case words.
fn server_prefix<'d>(kind: &ErrorKind, details: &'d str) -> Option<&'d str> {
    if !matches!(
        kind,
        ErrorKind::Unknown
            | ErrorKind::InvalidArgument
            | ErrorKind::InvalidCommand
            | ErrorKind::Auth
            | ErrorKind::Cluster
            | ErrorKind::Config
    ) {
        return None;
    }
    let word = details.split_whitespace().next()?;
    let upper = word.len() >= 2
        && word.len() <= 32
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        && word.as_bytes()[0].is_ascii_uppercase();
    upper.then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_keep_only_the_prefix() {
        let e = CacheError::from(FredError::new(
            ErrorKind::InvalidArgument,
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ));
        assert_eq!(e.error_type(), "WRONGTYPE");
        assert_eq!(e.status_code(), Some("WRONGTYPE"));
        assert!(!e.to_string().contains("Operation"));
    }

    #[test]
    fn client_errors_have_no_status_code() {
        let e = CacheError::from(FredError::new(ErrorKind::Timeout, "Request timed out."));
        assert_eq!(e.error_type(), "timeout");
        assert_eq!(e.status_code(), None);
        let e = CacheError::from(FredError::new(
            ErrorKind::Canceled,
            "Connection closed unexpectedly.",
        ));
        assert_eq!(e.error_type(), "not_connected");
        let e = CacheError::from(FredError::new(ErrorKind::Unknown, "Connection reset"));
        assert_eq!(e.error_type(), "_OTHER");
    }
}
