//! The readiness check contract, and its implementations for the pool
//! (feature `postgres`) and the cache (feature `redis`). `health` sits above
//! `db` and `cache`, so it implements the contract for them over their own
//! readiness methods ([`Pool::ready`](crate::db::Pool::ready),
//! [`Cache::is_connected`](crate::cache::Cache::is_connected)).

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

/// The pool: [`Pool::ready`](crate::db::Pool::ready), a connection answers
/// `SELECT 1`. The reason served is the error's class (`timeout`,
/// `connect`, ...), never the driver's text.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl Check for crate::db::Pool {
    fn name(&self) -> &str {
        "postgres"
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            self.ready()
                .await
                .map_err(|e| CheckError::new(e.error_type()))
        })
    }
}

/// The cache: ready while a connection is up
/// ([`Cache::is_connected`](crate::cache::Cache::is_connected)). The cache
/// answers misses from the loader when it is not, so a service may choose
/// to leave this check out of readiness. No command is sent: a probe costs
/// nothing.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
impl Check for crate::cache::Cache {
    fn name(&self) -> &str {
        "redis"
    }

    fn check(&self) -> CheckFuture<'_> {
        let connected = self.is_connected();
        Box::pin(async move {
            if connected {
                Ok(())
            } else {
                Err(CheckError::new("not connected"))
            }
        })
    }
}
