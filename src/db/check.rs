//! Readiness of the pool, which `wingspan::health` serves as the `postgres`
//! check.

use std::time::Duration;

use super::{DbError, Pool};

impl Pool {
    /// Readiness: a connection answers `SELECT 1` within `DB_CONNECT_TIMEOUT`.
    /// Makes no span, so health probes do not flood traces.
    pub async fn ready(&self) -> Result<(), DbError> {
        self.ready_within(self.shared.cfg.connect_timeout).await
    }

    /// Readiness within `timeout`.
    pub async fn ready_within(&self, timeout: Duration) -> Result<(), DbError> {
        let check = async {
            // The pool sets no wait timeout of its own (`Pool::get` bounds
            // its acquires): waiting for a slot is bounded here, as a
            // caller's acquire is.
            let wait = self.shared.cfg.acquire_timeout;
            let obj =
                crate::instrument::within(std::time::Instant::now() + wait, self.shared.pool.get())
                    .await
                    .map_err(|_| DbError::PoolTimeout(wait))?
                    .map_err(|e| self.shared.map_pool_error(e))?;
            let r = obj.client.simple_query("SELECT 1").await;
            if !self.shared.cfg.pool_enabled {
                drop(deadpool::managed::Object::take(obj));
            }
            r.map(|_| ()).map_err(DbError::from_pg)
        };
        tokio::time::timeout(timeout, check)
            .await
            .unwrap_or(Err(DbError::PoolTimeout(timeout)))
    }
}
