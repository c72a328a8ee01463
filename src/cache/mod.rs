//! The instrumented Redis cache: a [fred] pool with command spans, hit/miss
//! accounting, read-through [`Cache::get_or_load`] with single-flight, and
//! server-side `INFO` metrics.
//!
//! ```no_run
//! # async fn run(telemetry: wingspan::Telemetry) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! let cache = wingspan::cache::Cache::builder(&telemetry)
//!     .build()
//!     .await?; // fails on bad settings only: starts degraded when Redis is down
//! cache.set("challenges:42", "payload", Some(Duration::from_secs(60))).await?;
//! let hit: Option<String> = cache.get("challenges:42").await?;
//! let profile: Vec<u32> = cache
//!     .get_or_load("profiles:7", Some(Duration::from_secs(300)), || async {
//!         Ok::<_, std::io::Error>(vec![1, 2, 3]) // the database query
//!     })
//!     .await
//!     .unwrap();
//! # Ok(()) }
//! ```
//!
//! Every call is a CLIENT span named by the command, child of
//! `Context::current()` at the call, and feeds `db.client.operation.duration`.
//! Reads (GET, MGET per key, HGET, HGETALL) count `wingspan.cache.requests`
//! by cache name and result. The cache name is the key's prefix before the
//! first `:`, so a key that starts with user data (`<email>:profile`) would
//! put it into a metric label and the in-process view: name the caches with
//! [`CacheBuilder::cache_names`], and every other key counts as `other`.
//!
//! Reliability: every command has a timeout (`REDIS_COMMAND_TIMEOUT`); while
//! no connection is up, commands fail at once with
//! [`CacheError::NotConnected`] instead of queueing; the pool reconnects in the
//! background, so the cache recovers from a Redis restart by itself.

mod builder;
mod call;
mod check;
mod error;
mod flight;
#[cfg(test)]
mod fuzz;
mod info;
mod instruments;
mod ops;
mod pipeline;
mod query;
mod tls;

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fred::clients::{Client, Pool, WithOptions};
use fred::interfaces::ClientLike as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracer;

pub use builder::CacheBuilder;
pub use error::{BuildError, CacheError};
pub use fred::types::{FromValue, Value};
pub use pipeline::Pipeline;

use crate::config::KeyDisplay;
use crate::Telemetry;
use flight::Flights;
use instruments::Instruments;

/// The instrumented Redis cache. Cheap to clone; clones share the pool.
///
/// Dropping the last clone stops the `INFO` poller and closes the pool.
#[derive(Clone)]
pub struct Cache {
    shared: Arc<Shared>,
}

/// What every clone of a [`Cache`] shares.
pub(crate) struct Shared {
    pool: Pool,
    /// The pool's clients with fail-fast and the command timeout applied to
    /// every command, so a dropped connection answers at once.
    clients: Vec<WithOptions<Client>>,
    next: AtomicUsize,
    tracer: SdkTracer,
    base_attributes: Vec<KeyValue>,
    key_display: KeyDisplay,
    naming: query::Naming,
    instruments: Instruments,
    command_timeout: Duration,
    flights: Flights,
    info_task: Option<tokio::task::AbortHandle>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("pool_size", &self.shared.clients.len())
            .field("connected", &self.is_connected())
            .field("command_timeout", &self.shared.command_timeout)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// A builder over the [`Telemetry`] handle, with the Redis settings it
    /// was configured with (`telemetry.config().redis`); override them with
    /// [`CacheBuilder::config`].
    pub fn builder(telemetry: &Telemetry) -> CacheBuilder {
        CacheBuilder::new(telemetry)
    }

    /// The underlying fred pool, for what the cache does not wrap. Commands
    /// sent through it are not instrumented.
    pub fn pool(&self) -> &Pool {
        &self.shared.pool
    }

    /// The command timeout (`REDIS_COMMAND_TIMEOUT`).
    pub fn command_timeout(&self) -> Duration {
        self.shared.command_timeout
    }
}

impl Shared {
    /// The next connected client, round-robin; none connected fails at once.
    fn client(&self) -> Result<&WithOptions<Client>, CacheError> {
        let n = self.clients.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.clients[(start + i) % n])
            .find(|c| c.is_connected())
            .ok_or(CacheError::NotConnected)
    }

    /// Sends one command on the next connected client; with none connected
    /// it fails at once, without building the command.
    async fn send<'a, T, Fut>(
        &'a self,
        command: impl FnOnce(&'a WithOptions<Client>) -> Fut,
    ) -> Result<T, CacheError>
    where
        Fut: Future<Output = Result<T, fred::error::Error>>,
    {
        command(self.client()?).await.map_err(CacheError::from)
    }

    fn cache_name<'k>(&self, key: &'k str) -> &'k str {
        self.naming.name(key)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(task) = self.info_task.take() {
            task.abort();
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pool = self.pool.clone();
            runtime.spawn(async move {
                let _ = pool.quit().await;
            });
        }
    }
}
