//! Readiness of the cache, which `wingspan::health` serves as the `redis`
//! check.

use fred::interfaces::ClientLike as _;

use super::Cache;

impl Cache {
    /// Whether at least one pooled connection is up (for readiness checks).
    pub fn is_connected(&self) -> bool {
        self.shared.clients.iter().any(|c| c.is_connected())
    }
}
