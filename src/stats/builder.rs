//! [`StatsBuilder`]: the caps and the clock of a [`Stats`].

use std::sync::{Arc, Mutex};

use super::handle::{Inner, Stats};
use super::registry::Registry;
use super::series::{self, Series};
use super::Clock;

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
    pub(super) fn new() -> Self {
        Self {
            clock: Clock::system(),
            max_routes: 32,
            max_queries: 32,
            max_models: 8,
        }
    }

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
            n_plus_one: Registry::new(super::n_plus_one::MAX_ROWS),
            acquire: Arc::new(Series::new()),
            hold: Arc::new(Series::new()),
            pool_status: Mutex::new(None),
            cache_gauge: Mutex::new(None),
            utilization: Mutex::new(vec![(u64::MAX, 0.0); series::HISTORY as usize]),
            plans: Mutex::default(),
        }))
    }
}
