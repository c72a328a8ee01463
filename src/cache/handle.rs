//! [`Cache`]: the pool's clients, round-robin and fail-fast, and what every
//! clone shares.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fred::clients::{Client, Pool, WithOptions};
use fred::interfaces::ClientLike as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracer;

use super::flight::Flights;
use super::instruments::Instruments;
use super::{query, CacheBuilder, CacheError};
use crate::config::KeyDisplay;
use crate::telemetry::Telemetry;

/// The instrumented Redis cache. Cheap to clone; clones share the pool.
///
/// Dropping the last clone stops the `INFO` poller and closes the pool.
#[derive(Clone)]
pub struct Cache {
    pub(super) shared: Arc<Shared>,
}

/// What every clone of a [`Cache`] shares.
pub(crate) struct Shared {
    pub(super) pool: Pool,
    /// The pool's clients with fail-fast and the command timeout applied to
    /// every command, so a dropped connection answers at once.
    pub(super) clients: Vec<WithOptions<Client>>,
    pub(super) next: AtomicUsize,
    pub(super) tracer: SdkTracer,
    /// Whether a command's span can record, known before it is built.
    pub(super) recording: crate::telemetry::recording::Recording,
    pub(super) base_attributes: Vec<KeyValue>,
    pub(super) key_display: KeyDisplay,
    pub(super) naming: query::Naming,
    pub(super) instruments: Instruments,
    pub(super) command_timeout: Duration,
    pub(super) flights: Flights,
    pub(super) info_task: Option<tokio::task::AbortHandle>,
    /// The application's span attributes for each command
    /// (`CacheBuilder::command_attributes`).
    pub(super) command_attributes: Option<Arc<dyn super::CommandAttributes>>,
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
    pub(super) fn client(&self) -> Result<&WithOptions<Client>, CacheError> {
        let n = self.clients.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.clients[(start + i) % n])
            .find(|c| c.is_connected())
            .ok_or(CacheError::NotConnected)
    }

    /// Sends one command on the next connected client; with none connected
    /// it fails at once, without building the command.
    pub(super) async fn send<'a, T, Fut>(
        &'a self,
        command: impl FnOnce(&'a WithOptions<Client>) -> Fut,
    ) -> Result<T, CacheError>
    where
        Fut: Future<Output = Result<T, fred::error::Error>>,
    {
        command(self.client()?).await.map_err(CacheError::from)
    }

    pub(super) fn cache_name<'k>(&self, key: &'k str) -> &'k str {
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
