//! The alert thresholds, from `alerts/thresholds.json`: the file the alert
//! rules and the dashboards' threshold lines are rendered from
//! (`scripts/alerts_render.py`), built into the library so that
//! `/health/detailed`, the Prometheus rules and the weekly report judge by
//! the same numbers. [`HealthConfig`](super::HealthConfig) takes its four
//! defaults from it.

use std::sync::LazyLock;

use serde::Deserialize;

/// The text of `alerts/thresholds.json` as this library was built with.
pub const THRESHOLDS_JSON: &str = include_str!("../../alerts/thresholds.json");

/// The thresholds and SLO targets of `alerts/thresholds.json` that the
/// library and the report judge by (the file holds more: windows, `for:`
/// durations and bucket edges, which only the rule renderer reads).
///
/// ```
/// let t = wingspan::config::AlertThresholds::built_in();
/// assert_eq!(t.api_latency_threshold_seconds, 0.3);
/// let health = wingspan::config::HealthConfig::default();
/// assert_eq!(health.p95_latency_threshold_ms, 300.0);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct AlertThresholds {
    /// The latency alert's quantile (0.95: the P95).
    pub api_latency_quantile: f64,
    /// The API latency (LLM routes excluded) above which the latency alert
    /// fires, in seconds; `P95_LATENCY_THRESHOLD_MS` defaults to it.
    pub api_latency_threshold_seconds: f64,
    /// The share of 5xx answers above which the error alert fires;
    /// `ERROR_RATE_THRESHOLD` defaults to it.
    pub error_ratio_threshold: f64,
    /// The pool utilization above which the pool alert fires;
    /// `DB_POOL_ALERT_THRESHOLD` defaults to it.
    pub pool_utilization_threshold: f64,
    /// The cache hit ratio below which the cache alert fires;
    /// `CACHE_HIT_RATE_THRESHOLD` defaults to it.
    pub cache_hit_ratio_threshold: f64,
    /// The availability SLO (share of non-5xx answers).
    pub slo_availability_target: f64,
    /// The latency SLO (share of answers under the latency threshold).
    pub slo_latency_target: f64,
}

static BUILT_IN: LazyLock<AlertThresholds> = LazyLock::new(|| {
    AlertThresholds::from_json(THRESHOLDS_JSON)
        .unwrap_or_else(|e| unreachable!("alerts/thresholds.json, checked by a unit test: {e}"))
});

impl AlertThresholds {
    /// The thresholds of [`THRESHOLDS_JSON`].
    pub fn built_in() -> &'static Self {
        &BUILT_IN
    }

    /// Reads a `thresholds.json` (unknown keys are ignored).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// [`api_latency_threshold_seconds`](Self::api_latency_threshold_seconds)
    /// in whole milliseconds.
    pub fn api_latency_threshold_ms(&self) -> u64 {
        (self.api_latency_threshold_seconds * 1000.0).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_file_parses_into_valid_defaults() {
        let t = AlertThresholds::from_json(THRESHOLDS_JSON).unwrap();
        assert_eq!(&t, AlertThresholds::built_in());
        assert!((1..=3_600_000).contains(&t.api_latency_threshold_ms()));
        for ratio in [
            t.api_latency_quantile,
            t.error_ratio_threshold,
            t.pool_utilization_threshold,
            t.cache_hit_ratio_threshold,
            t.slo_availability_target,
            t.slo_latency_target,
        ] {
            assert!((0.0..=1.0).contains(&ratio), "{ratio}");
        }
    }
}
