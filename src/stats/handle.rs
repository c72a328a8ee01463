//! [`Stats`]: resolving recorders, and the providers read at each snapshot.

use std::sync::{Arc, Mutex};

use super::recorders::{CacheStats, ModelStats, PoolStats, QueryStats, RouteStats};
use super::registry::Registry;
use super::series::{self, lock, Series};
use super::vocabulary::{PoolStatus, RouteClass};
use super::{Clock, StatsBuilder};

/// What the cache server reports (from its last INFO poll).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheGauge {
    /// Whether a connection is up.
    pub connected: bool,
    /// `used_memory` in bytes, when known.
    pub memory_used_bytes: Option<u64>,
}

pub(super) type Provider<T> = Mutex<Option<Arc<dyn Fn() -> T + Send + Sync>>>;

pub(crate) struct Inner {
    pub(super) clock: Clock,
    pub(super) started_ms: u64,
    pub(super) routes: Registry<RouteClass>,
    pub(super) queries: Registry<()>,
    pub(super) caches: Registry<()>,
    pub(super) models: Registry<()>,
    /// N+1 rows by `METHOD template` and summary (fed by the HTTP layer as
    /// a request ends).
    pub(super) n_plus_one: Registry<()>,
    pub(super) acquire: Arc<Series>,
    pub(super) hold: Arc<Series>,
    pub(super) pool_status: Provider<PoolStatus>,
    pub(super) cache_gauge: Provider<CacheGauge>,
    /// Highest pool utilization sampled in each minute (by `minute % 60`).
    pub(super) utilization: Mutex<Vec<(u64, f64)>>,
    /// The newest captured plan of each slow statement (`plans`).
    pub(super) plans: Mutex<super::plans::Plans>,
}

/// The rolling window. Cheap to clone; clones share the same counts.
#[derive(Clone)]
pub struct Stats(pub(super) Arc<Inner>);

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats")
            .field("started_ms", &self.0.started_ms)
            .finish_non_exhaustive()
    }
}

impl Stats {
    /// A builder with the default caps and the system clock.
    pub fn builder() -> StatsBuilder {
        StatsBuilder::new()
    }

    /// The handle of one route, `METHOD template` (`GET /users/{id}`). The
    /// class is fixed by the first resolution of the route.
    pub fn route(&self, method: &str, template: &str, class: RouteClass) -> RouteStats {
        RouteStats {
            series: self
                .0
                .routes
                .resolve(&format!("{method} {template}"), class),
            clock: self.0.clock.clone(),
        }
    }

    /// The handle of one statement, by its `db.query.summary` (never its text).
    pub fn query(&self, summary: &str) -> QueryStats {
        QueryStats {
            series: self.0.queries.resolve(summary, ()),
            clock: self.0.clock.clone(),
        }
    }

    /// The handle of the connection pool.
    pub fn pool(&self) -> PoolStats {
        PoolStats {
            acquire: self.0.acquire.clone(),
            hold: self.0.hold.clone(),
            clock: self.0.clock.clone(),
        }
    }

    /// The handle of one cache name. The view does not cap cache names
    /// itself: the cache feeds it the names its registry admitted
    /// (`CacheBuilder::max_cache_names`, or the listed names, then
    /// `other`), so a name is `other` in the view exactly when it is in
    /// `wingspan.cache.requests`. A caller that records cache names itself
    /// must bound them the same way.
    pub fn cache(&self, name: &str) -> CacheStats {
        CacheStats {
            series: self.0.caches.resolve(name, ()),
            clock: self.0.clock.clone(),
        }
    }

    /// The handle of one model.
    pub fn model(&self, model: &str) -> ModelStats {
        ModelStats {
            series: self.0.models.resolve(model, ()),
            clock: self.0.clock.clone(),
        }
    }

    /// Registers what reports the pool's state (read at each snapshot).
    pub fn set_pool_status(&self, provider: impl Fn() -> PoolStatus + Send + Sync + 'static) {
        *lock(&self.0.pool_status) = Some(Arc::new(provider));
    }

    /// Registers what reports the cache server's state (read at each snapshot).
    pub fn set_cache_gauge(&self, provider: impl Fn() -> CacheGauge + Send + Sync + 'static) {
        *lock(&self.0.cache_gauge) = Some(Arc::new(provider));
    }

    /// The time source.
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub(super) fn pool_status(&self) -> Option<PoolStatus> {
        let provider = lock(&self.0.pool_status).clone();
        let gauge = provider.map(|p| p())?;
        let minute = self.0.clock.minute();
        let mut u = lock(&self.0.utilization);
        let i = (minute % series::HISTORY) as usize;
        let util = gauge.utilization();
        if u[i].0 != minute {
            u[i] = (minute, util);
        } else if util > u[i].1 {
            u[i].1 = util;
        }
        Some(gauge)
    }

    pub(super) fn cache_gauge(&self) -> Option<CacheGauge> {
        let provider = lock(&self.0.cache_gauge).clone();
        provider.map(|p| p())
    }
}
