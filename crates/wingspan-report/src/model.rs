//! What the report found, as data: the JSON output is this, serialized, and
//! the Markdown and HTML renderings read only this.

use serde::Serialize;

/// A figure in the window and in the window before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Trend {
    pub current: Option<f64>,
    pub previous: Option<f64>,
    /// `current / previous - 1`; none when either is missing or previous is 0.
    pub change: Option<f64>,
}

impl Trend {
    pub fn new(current: Option<f64>, previous: Option<f64>) -> Trend {
        let change = match (current, previous) {
            (Some(c), Some(p)) if p != 0.0 => Some(c / p - 1.0),
            _ => None,
        };
        Trend {
            current,
            previous,
            change,
        }
    }

    /// Both windows, a missing figure read as 0 (counts: no series, nothing happened).
    pub fn counted(current: Option<f64>, previous: Option<f64>) -> Trend {
        Trend::new(Some(current.unwrap_or(0.0)), Some(previous.unwrap_or(0.0)))
    }
}

/// A section's figures, or why there are none (a service without Redis has
/// no cache section: that is said, not an error).
#[derive(Debug, Clone, Serialize)]
pub struct Section<T> {
    pub data: Option<T>,
    pub note: Option<String>,
}

impl<T> Section<T> {
    pub fn some(data: T) -> Section<T> {
        Section {
            data: Some(data),
            note: None,
        }
    }

    pub fn none(note: impl Into<String>) -> Section<T> {
        Section {
            data: None,
            note: Some(note.into()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    /// Unix seconds.
    pub start: f64,
    pub end: f64,
    pub previous_start: f64,
    pub seconds: f64,
    pub start_utc: String,
    pub end_utc: String,
    pub previous_start_utc: String,
    /// The label matchers every query carries (`job="api"`), if any.
    pub selector: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    pub latency_quantile: f64,
    pub latency_threshold_seconds: f64,
    pub slo_availability_target: f64,
    pub slo_latency_target: f64,
    pub pool_utilization_threshold: f64,
    pub cache_hit_ratio_threshold: f64,
    /// A route regressed when its P95 grew by more than this ratio.
    pub regression_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Daily {
    /// Unix seconds at which the day ends.
    pub end: f64,
    pub date: String,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteLatency {
    pub route: String,
    pub requests: Trend,
    pub p50: Trend,
    pub p95: Trend,
    pub p99: Trend,
    pub daily: Vec<Daily>,
    pub regressed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub routes: Vec<RouteLatency>,
    pub regressed: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DailyTraffic {
    pub end: f64,
    pub date: String,
    pub requests: f64,
    pub errors: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    pub requests: Trend,
    pub requests_per_second: Trend,
    pub errors: Trend,
    pub error_ratio: Trend,
    /// Errors over the budget `(1 - availability target) × requests`: 1 = all spent.
    pub availability_budget_spent: Trend,
    /// Non-LLM requests slower than the latency threshold.
    pub slow_ratio: Trend,
    pub latency_budget_spent: Trend,
    pub daily: Vec<DailyTraffic>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeakHour {
    /// Unix seconds at which the busiest hour ends.
    pub end: f64,
    pub end_utc: String,
    pub acquires_per_second: f64,
    pub mean_hold_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PoolFigures {
    pub pool: String,
    pub max_connections: Option<f64>,
    pub peak_utilization: Trend,
    pub acquire_wait_p95_seconds: Trend,
    pub timeouts: Trend,
    pub peak_hour: Option<PeakHour>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CacheFigures {
    pub cache: String,
    pub hit_ratio: Trend,
    pub reads: Trend,
    pub errors: Trend,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedisTtl {
    pub db: String,
    pub avg_ttl_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Caches {
    pub caches: Vec<CacheFigures>,
    pub memory_peak_bytes: Trend,
    pub evictions: Trend,
    pub expired: Trend,
    pub avg_ttl: Vec<RedisTtl>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelTask {
    pub model: String,
    pub task: String,
    pub calls: Trend,
    pub input_tokens: Trend,
    pub output_tokens: Trend,
    pub cost_usd: Trend,
    pub cost_per_call_usd: Trend,
}

#[derive(Debug, Clone, Serialize)]
pub struct Llm {
    pub by_model_task: Vec<ModelTask>,
    pub calls: Trend,
    pub cost_usd: Trend,
    pub llm_route_requests: Trend,
    pub cost_per_llm_request_usd: Trend,
}

#[derive(Debug, Clone, Serialize)]
pub struct Episode {
    pub start: f64,
    pub start_utc: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertFigures {
    pub alertname: String,
    pub severity: String,
    pub times_fired: Trend,
    pub firing_seconds: Trend,
    pub longest_seconds: f64,
    pub episodes: Vec<Episode>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Loss {
    pub signal: String,
    /// `dropped` (queue full, before export) or `export_failed`.
    pub stage: String,
    pub count: Trend,
    /// Of everything the stage handled for the signal.
    pub ratio: Trend,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub losses: Vec<Loss>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub operation: String,
    pub collection: String,
    pub total_seconds: Trend,
    pub calls: Trend,
}

/// A recommendation and the figures it rests on (name → value; a missing
/// figure is NaN, which the JSON writes as null).
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub figures: std::collections::BTreeMap<String, f64>,
}

/// A figure over its threshold (`--fail-on-findings` exits 3 when any).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: String,
    pub subject: String,
    pub value: f64,
    pub threshold: f64,
    /// The value and the threshold as the report prints them.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generator: String,
    pub window: Window,
    pub thresholds: Thresholds,
    pub latency: Section<Latency>,
    pub traffic: Section<Traffic>,
    pub pools: Section<Vec<PoolFigures>>,
    pub statements: Section<Vec<Statement>>,
    pub caches: Section<Caches>,
    pub llm: Section<Llm>,
    pub alerts: Section<Vec<AlertFigures>>,
    pub pipeline: Section<Pipeline>,
    pub recommendations: Vec<Recommendation>,
    pub findings: Vec<Finding>,
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A report whose sections all have no data.
    pub fn empty_report() -> Report {
        Report {
            generator: "test".to_owned(),
            window: Window {
                start: 0.0,
                end: 604_800.0,
                previous_start: -604_800.0,
                seconds: 604_800.0,
                start_utc: "1970-01-01T00:00:00Z".to_owned(),
                end_utc: "1970-01-08T00:00:00Z".to_owned(),
                previous_start_utc: "1969-12-25T00:00:00Z".to_owned(),
                selector: None,
            },
            thresholds: Thresholds {
                latency_quantile: 0.95,
                latency_threshold_seconds: 0.3,
                slo_availability_target: 0.995,
                slo_latency_target: 0.99,
                pool_utilization_threshold: 0.8,
                cache_hit_ratio_threshold: 0.7,
                regression_ratio: 0.1,
            },
            latency: Section::none("no routes here"),
            traffic: Section::none("no requests here"),
            pools: Section::none("no pool here"),
            statements: Section::none("no statements here"),
            caches: Section::none("no cache here"),
            llm: Section::none("no LLM here"),
            alerts: Section::none("no alerts here"),
            pipeline: Section::none("no pipeline here"),
            recommendations: Vec::new(),
            findings: Vec::new(),
        }
    }

    #[test]
    fn change_is_relative_and_absent_without_a_base() {
        assert_eq!(
            Trend::new(Some(0.175), Some(0.1))
                .change
                .map(|c| (c * 1e6).round()),
            Some(750000.0)
        );
        assert_eq!(Trend::new(Some(1.0), Some(0.0)).change, None);
        assert_eq!(Trend::new(None, Some(1.0)).change, None);
        assert_eq!(Trend::counted(None, Some(2.0)).change, Some(-1.0));
    }
}
