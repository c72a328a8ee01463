//! [`HealthBuilder`]: thresholds, listener bounds and readiness checks.

use std::sync::Arc;
use std::time::Instant;

use super::handle::{Health, Shared};
use super::{ready, Check, HealthConfig};
use crate::config::ServeConfig;
use crate::stats::Stats;

/// Settings and checks of a [`Health`].
#[must_use]
pub struct HealthBuilder {
    stats: Stats,
    config: HealthConfig,
    serve: ServeConfig,
    checks: Vec<Arc<dyn Check>>,
}

impl std::fmt::Debug for HealthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|c| c.name()).collect();
        f.debug_struct("HealthBuilder")
            .field("config", &self.config)
            .field("checks", &names)
            .finish_non_exhaustive()
    }
}

impl HealthBuilder {
    pub(super) fn new(stats: &Stats) -> Self {
        Self {
            stats: stats.clone(),
            config: HealthConfig::default(),
            serve: ServeConfig::default(),
            checks: Vec::new(),
        }
    }

    /// Thresholds, token, trace links, timeouts. Defaults to
    /// [`HealthConfig::default`] (alerts/thresholds.json's thresholds, no token).
    pub fn config(mut self, config: HealthConfig) -> Self {
        self.config = config;
        self
    }

    /// The bounds on the admin listener's connections ([`Health::serve_on`],
    /// [`Health::serve_admin`]). Defaults to [`ServeConfig::default`];
    /// [`Health::for_telemetry`] takes the configuration's
    /// (`WINGSPAN_HTTP_*`).
    pub fn serve_config(mut self, serve: ServeConfig) -> Self {
        self.serve = serve;
        self
    }

    /// Adds a readiness check. Defaults to none (always ready).
    pub fn check(mut self, check: impl Check + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// The endpoints.
    pub fn build(self) -> Health {
        let ready = ready::Readiness::new(
            self.checks,
            self.config.check_timeout,
            self.config.ready_cache,
        );
        Health(Arc::new(Shared {
            stats: self.stats,
            config: self.config,
            serve: self.serve,
            ready,
            started: Instant::now(),
        }))
    }
}
