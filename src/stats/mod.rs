//! The in-process view: a rolling window of what the service did in the last
//! 1, 5 and 15 minutes, and per-minute summaries of the last hour.
//!
//! It sits beside `telemetry`, below `http`, `db`, `cache` and `llm`, which
//! feed it through handles resolved once per route, statement summary, cache
//! name or model ([`Stats::route`], [`Stats::query`], [`Stats::cache`],
//! [`Stats::model`], [`Stats::pool`]). A record is the clock read, an index
//! and a few relaxed atomic adds (see `benches/stats.rs`). A service that
//! does not want the view holds no [`Stats`] and its layers skip one `None`
//! check per call.
//!
//! Percentiles come from log-linear buckets ([`buckets`]) reported within
//! [`buckets::RELATIVE_ERROR`] (1/128 ≈ 0.78 %) from 128 µs up, and to the
//! microsecond below. Memory is bounded: each kind of name has one cap with
//! an `other` row past it, the view's ([`StatsBuilder`]) for routes,
//! statements and models, and each cache's for cache names (the same
//! registry decides the name's exported label, so the two never disagree).
//!
//! ```
//! use std::time::Duration;
//! use wingspan::http::RouteClass;
//! use wingspan::stats::Stats;
//! let stats = Stats::builder().build();
//! let users = stats.route("GET", "/users/{id}", RouteClass::Standard);
//! users.record(200, Duration::from_millis(12), opentelemetry::trace::TraceId::INVALID);
//! assert_eq!(stats.snapshot(5).api.count, 1);
//! ```

pub mod buckets;
mod clock;
mod handles;
mod registry;
mod series;
mod snapshot;
pub(crate) mod vocabulary;

use std::sync::{Arc, Mutex};

pub use clock::{Clock, ManualClock};
pub use handles::{CacheStats, ModelStats, PoolStats, QueryStats, RouteStats};
pub use snapshot::{
    CacheFigures, Figures, History, ModelFigures, QueryFigures, RouteFigures, RouteHistory,
    SlowTrace, Snapshot,
};

use registry::Registry;
use series::{lock, Series};
use vocabulary::{PoolStatus, RouteClass};

/// What the cache server reports (from its last INFO poll).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheGauge {
    /// Whether a connection is up.
    pub connected: bool,
    /// `used_memory` in bytes, when known.
    pub memory_used_bytes: Option<u64>,
}

type Provider<T> = Mutex<Option<Arc<dyn Fn() -> T + Send + Sync>>>;

pub(crate) struct Inner {
    clock: Clock,
    started_ms: u64,
    routes: Registry<RouteClass>,
    queries: Registry<()>,
    caches: Registry<()>,
    models: Registry<()>,
    acquire: Arc<Series>,
    hold: Arc<Series>,
    pool_status: Provider<PoolStatus>,
    cache_gauge: Provider<CacheGauge>,
    /// Highest pool utilization sampled in each minute (by `minute % 60`).
    utilization: Mutex<Vec<(u64, f64)>>,
}

/// The rolling window. Cheap to clone; clones share the same counts.
#[derive(Clone)]
pub struct Stats(Arc<Inner>);

impl std::fmt::Debug for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stats")
            .field("started_ms", &self.0.started_ms)
            .finish_non_exhaustive()
    }
}

/// Caps and clock of a [`Stats`].
#[derive(Debug, Clone)]
#[must_use]
pub struct StatsBuilder {
    clock: Clock,
    max_routes: usize,
    max_queries: usize,
    max_models: usize,
}

impl StatsBuilder {
    /// The time source. Defaults to [`Clock::system`].
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Routes with a row of their own. Defaults to 32.
    pub fn max_routes(mut self, n: usize) -> Self {
        self.max_routes = n;
        self
    }

    /// Statement summaries with a row of their own. Defaults to 32.
    pub fn max_queries(mut self, n: usize) -> Self {
        self.max_queries = n;
        self
    }

    /// Models with a row of their own. Defaults to 8.
    pub fn max_models(mut self, n: usize) -> Self {
        self.max_models = n;
        self
    }

    /// The rolling window.
    pub fn build(self) -> Stats {
        Stats(Arc::new(Inner {
            started_ms: self.clock.now_ms(),
            clock: self.clock,
            routes: Registry::new(self.max_routes),
            queries: Registry::new(self.max_queries),
            // Capped where the names are made: each cache's one registry
            // (`CacheBuilder::max_cache_names`, or its listed names) decides
            // a name's row here and its exported label alike.
            caches: Registry::new(usize::MAX),
            models: Registry::new(self.max_models),
            acquire: Arc::new(Series::new()),
            hold: Arc::new(Series::new()),
            pool_status: Mutex::new(None),
            cache_gauge: Mutex::new(None),
            utilization: Mutex::new(vec![(u64::MAX, 0.0); series::HISTORY as usize]),
        }))
    }
}

impl Stats {
    /// A builder with the default caps and the system clock.
    pub fn builder() -> StatsBuilder {
        StatsBuilder {
            clock: Clock::system(),
            max_routes: 32,
            max_queries: 32,
            max_models: 8,
        }
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

    fn pool_status(&self) -> Option<PoolStatus> {
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

    fn cache_gauge(&self) -> Option<CacheGauge> {
        let provider = lock(&self.0.cache_gauge).clone();
        provider.map(|p| p())
    }
}

#[cfg(test)]
mod tests;
