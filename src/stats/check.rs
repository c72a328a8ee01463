//! The readiness check contract. It lives here, below `db` and `cache`, so
//! the pool and the cache can implement it without depending on `health`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future, as [`Check::check`] returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<(), CheckError>> + Send + 'a>>;

/// One dependency the service needs to serve traffic (a database, a cache,
/// an upstream). `GET /health/ready` runs every check with a short timeout
/// and answers 503 naming the ones that failed.
pub trait Check: Send + Sync {
    /// A short, stable name shown in the readiness answer (`postgres`, `redis`).
    fn name(&self) -> &str;

    /// Resolves to `Ok(())` when the dependency can serve. The caller bounds
    /// it with its own timeout.
    fn check(&self) -> CheckFuture<'_>;
}

/// Why a check failed: a short reason for operators. It is served as is, so
/// it must not carry a secret (no URL with a password, no token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError(String);

impl CheckError {
    /// A failure with a short reason such as `"not connected"`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckError {}
