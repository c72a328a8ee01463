//! The cache as a readiness check of `wingspan::health`.

use super::Cache;
use crate::stats::{Check, CheckError, CheckFuture};

impl Check for Cache {
    fn name(&self) -> &str {
        "redis"
    }

    /// Ready while a connection is up (the cache answers misses from the
    /// loader when it is not, so a service may choose to leave this check
    /// out of readiness). No command is sent: a probe costs nothing.
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
