//! The pool as a readiness check of `wingspan::health`.

use super::Pool;
use crate::stats::{Check, CheckError, CheckFuture};

impl Check for Pool {
    fn name(&self) -> &str {
        "postgres"
    }

    /// [`Pool::ready`]: a connection answers `SELECT 1`. The reason served is
    /// the error's class (`timeout`, `connect`, ...), never the driver's text.
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            self.ready()
                .await
                .map_err(|e| CheckError::new(e.error_type()))
        })
    }
}
