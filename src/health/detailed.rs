//! The `/health/detailed` document: [`Detailed`] and its parts, built from
//! one snapshot of the in-process view. The dashboard page reads it as JSON
//! (every field below, under its serialised name); durations are in
//! milliseconds, ratios from 0 to 1, and a figure without data is `null`.

use serde::Serialize;

use super::advice::{self, Alert, Recommendation};
use crate::config::HealthConfig;
use crate::http::RouteClass;
use crate::stats::{CacheFigures, Figures, History, ModelFigures, QueryFigures, Snapshot, Stats};

/// How many statements each slow-query table lists.
const SLOW_QUERIES: usize = 10;

/// What `GET /health/detailed` serves ([`Health::detailed`](super::Health::detailed)).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Detailed {
    /// `ok`, or `degraded` while an alert is breached.
    pub status: &'static str,
    /// The names of the breached alerts.
    pub breached: Vec<&'static str>,
    /// When the snapshot was taken (ms since the Unix epoch).
    pub generated_at_ms: u64,
    /// Seconds since the health endpoints were built.
    pub uptime_s: f64,
    /// The window the figures cover (`WINGSPAN_HEALTH_WINDOW_MINUTES`).
    pub window: Window,
    /// The pool and the statements.
    pub database: Database,
    /// The statements that cost the most.
    pub slow_queries: SlowQueries,
    /// The cache, every name merged and per name.
    pub cache: CacheSummary,
    /// The API (LLM routes apart), over the window and the three windows.
    pub api_performance: ApiPerformance,
    /// LLM calls, every model merged and per model.
    pub gen_ai: GenAi,
    /// The slowest sampled requests of each route, with trace links.
    pub slowest_traces: Vec<RouteTraces>,
    /// Routes that ran one statement once per row (N+1), worst first.
    pub n_plus_one: Vec<super::NPlusOneRow>,
    /// The four thresholds against their current values.
    pub alerts: Vec<Alert>,
    /// Advice, each with the figures behind it.
    pub recommendations: Vec<Recommendation>,
    /// The last hour, one value per minute.
    pub history: History,
}

/// The window of a [`Detailed`] document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Window {
    /// The window in minutes (1, 5 or 15; the current minute counts).
    pub minutes: u64,
    /// Seconds it actually covers (shorter just after start).
    pub seconds: f64,
}

/// The pool and the statements over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Database {
    /// Lent-out connections over the maximum; `null` without a pool.
    pub pool_utilization: Option<f64>,
    /// Connections lent out.
    pub active_connections: Option<usize>,
    /// Open connections not lent out.
    pub idle_connections: Option<usize>,
    /// `DB_MAX_CONNECTIONS`.
    pub max_connections: Option<usize>,
    /// Open connections.
    pub open_connections: Option<usize>,
    /// Callers waiting for a connection now.
    pub waiting: Option<usize>,
    /// Acquisitions in the window.
    pub acquires: u64,
    /// Acquisitions per second.
    pub acquires_per_s: f64,
    /// P95 of the wait for a connection.
    pub acquire_wait_p95_ms: f64,
    /// Acquisitions that timed out.
    pub acquire_timeouts: u64,
    /// Mean time a connection was held.
    pub hold_mean_ms: f64,
    /// P95 of the time a connection was held.
    pub hold_p95_ms: f64,
    /// Statements run.
    pub queries: u64,
    /// Statements that failed.
    pub query_errors: u64,
    /// Mean statement duration.
    pub avg_query_time_ms: f64,
    /// Median statement duration.
    pub query_p50_ms: f64,
    /// P95 statement duration.
    pub query_p95_ms: f64,
    /// P99 statement duration.
    pub query_p99_ms: f64,
}

/// The statements that cost the most, by two measures (at most 10 each).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SlowQueries {
    /// By total time spent, largest first.
    pub by_total_time: Vec<StatementRow>,
    /// By P95 duration, largest first.
    pub by_p95: Vec<StatementRow>,
}

/// One statement, by its `db.query.summary` (never its text).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StatementRow {
    /// Its `db.query.summary`, or `other`.
    pub summary: String,
    /// Calls in the window.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Time spent in it.
    pub total_ms: f64,
    /// Mean duration.
    pub mean_ms: f64,
    /// Median duration.
    pub p50_ms: f64,
    /// P95 duration.
    pub p95_ms: f64,
    /// P99 duration.
    pub p99_ms: f64,
    /// Longest call.
    pub max_ms: f64,
    /// Its newest generic plan, when the pool captures plans
    /// (`DB_PLAN_CAPTURE`) and it was slow enough; `null` otherwise.
    pub plan: Option<crate::stats::QueryPlan>,
}

/// The cache over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CacheSummary {
    /// `hits / (hits + misses)`; `null` before the first lookup.
    pub hit_rate: Option<f64>,
    /// Lookups that found their key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Failed commands.
    pub errors: u64,
    /// Every command.
    pub ops: u64,
    /// Commands per second.
    pub ops_per_s: f64,
    /// P95 of command duration.
    pub p95_ms: f64,
    /// Whether a connection is up; `null` without a cache.
    pub connected: Option<bool>,
    /// The server's `used_memory` at the last INFO poll.
    pub memory_usage_bytes: Option<u64>,
    /// Each cache name that saw a command.
    pub by_name: Vec<CacheFigures>,
}

/// Requests of a set of routes over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Performance {
    /// Requests.
    pub requests: u64,
    /// 5xx answers.
    pub errors: u64,
    /// Requests per second.
    pub request_rate_per_s: f64,
    /// Requests per minute.
    pub requests_per_minute: f64,
    /// `errors / requests` (0 without requests).
    pub error_rate: f64,
    /// Median latency.
    pub p50_latency_ms: f64,
    /// P95 latency.
    pub p95_latency_ms: f64,
    /// P99 latency.
    pub p99_latency_ms: f64,
    /// Mean latency.
    pub mean_latency_ms: f64,
    /// Longest request.
    pub max_latency_ms: f64,
}

impl Performance {
    fn of(f: &Figures) -> Self {
        Self {
            requests: f.count,
            errors: f.errors,
            request_rate_per_s: f.rate_per_s,
            requests_per_minute: f.rate_per_s * 60.0,
            error_rate: f.error_rate,
            p50_latency_ms: f.p50_ms,
            p95_latency_ms: f.p95_ms,
            p99_latency_ms: f.p99_ms,
            mean_latency_ms: f.mean_ms,
            max_latency_ms: f.max_ms,
        }
    }
}

/// One route (`METHOD template`) over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RoutePerformance {
    /// `METHOD template`, or `other`.
    pub route: String,
    /// Its requests.
    #[serde(flatten)]
    pub performance: Performance,
    /// 4xx answers.
    pub client_errors: u64,
}

/// The API routes (LLM routes apart, under `llm`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApiPerformance {
    /// Every API route merged, over the window.
    #[serde(flatten)]
    pub performance: Performance,
    /// Every API route merged, over 1, 5 and 15 minutes.
    pub windows: Windows,
    /// Each API route that served a request.
    pub routes: Vec<RoutePerformance>,
    /// The LLM routes.
    pub llm: LlmPerformance,
}

/// The API's requests over the three windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Windows {
    /// The last minute (the current one).
    #[serde(rename = "1m")]
    pub one_minute: Performance,
    /// The last 5 minutes.
    #[serde(rename = "5m")]
    pub five_minutes: Performance,
    /// The last 15 minutes.
    #[serde(rename = "15m")]
    pub fifteen_minutes: Performance,
}

/// The LLM routes (`wingspan.route.class=llm`) over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LlmPerformance {
    /// Every LLM route merged.
    #[serde(flatten)]
    pub performance: Performance,
    /// Each LLM route that served a request.
    pub routes: Vec<RoutePerformance>,
}

/// LLM calls over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GenAi {
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Input tokens (cached ones included).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cost in US dollars.
    pub cost_usd: f64,
    /// Each model that was called.
    pub models: Vec<ModelFigures>,
}

/// The slowest sampled requests of one route.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RouteTraces {
    /// `METHOD template`, or `other`.
    pub route: String,
    /// `api` or `llm`.
    pub class: RouteClass,
    /// Slowest first.
    pub traces: Vec<TraceLink>,
}

/// One slow request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TraceLink {
    /// The W3C trace ID, 32 hex digits.
    pub trace_id: String,
    /// The request's duration.
    pub duration_ms: f64,
    /// `WINGSPAN_TRACE_URL` with the trace ID filled in; `null` when unset.
    pub url: Option<String>,
}

impl TraceLink {
    /// `trace_id`, linked with `WINGSPAN_TRACE_URL` when set.
    pub(crate) fn new(trace_id: &str, duration_ms: f64, c: &HealthConfig) -> Self {
        Self {
            trace_id: trace_id.to_owned(),
            duration_ms,
            url: c
                .trace_url
                .as_ref()
                .map(|u| u.replace("{trace_id}", trace_id)),
        }
    }
}

fn statement_row(q: &QueryFigures, s: &Snapshot) -> StatementRow {
    let f = &q.figures;
    StatementRow {
        summary: q.summary.clone(),
        calls: f.count,
        errors: f.errors,
        total_ms: f.total_ms,
        mean_ms: f.mean_ms,
        p50_ms: f.p50_ms,
        p95_ms: f.p95_ms,
        p99_ms: f.p99_ms,
        max_ms: f.max_ms,
        plan: s
            .plans
            .iter()
            .find(|p| p.summary == q.summary)
            .map(|p| p.plan.clone()),
    }
}

fn database(s: &Snapshot) -> Database {
    let q = &s.queries;
    let pool = s.pool;
    Database {
        pool_utilization: pool.map(|p| p.utilization()),
        active_connections: pool.map(|p| p.active()),
        idle_connections: pool.map(|p| p.idle),
        max_connections: pool.map(|p| p.max),
        open_connections: pool.map(|p| p.size),
        waiting: pool.map(|p| p.waiting),
        acquires: s.acquire.count,
        acquires_per_s: s.acquire.rate_per_s,
        acquire_wait_p95_ms: s.acquire.p95_ms,
        acquire_timeouts: s.acquire.errors,
        hold_mean_ms: s.hold.mean_ms,
        hold_p95_ms: s.hold.p95_ms,
        queries: q.count,
        query_errors: q.errors,
        avg_query_time_ms: q.mean_ms,
        query_p50_ms: q.p50_ms,
        query_p95_ms: q.p95_ms,
        query_p99_ms: q.p99_ms,
    }
}

fn slow_queries(s: &Snapshot) -> SlowQueries {
    let mut by_total: Vec<&QueryFigures> = s
        .statements
        .iter()
        .filter(|q| q.figures.count > 0)
        .collect();
    let mut by_p95 = by_total.clone();
    by_total.sort_by(|a, b| b.figures.total_ms.total_cmp(&a.figures.total_ms));
    by_p95.sort_by(|a, b| b.figures.p95_ms.total_cmp(&a.figures.p95_ms));
    let rows = |v: Vec<&QueryFigures>| -> Vec<StatementRow> {
        v.into_iter()
            .take(SLOW_QUERIES)
            .map(|q| statement_row(q, s))
            .collect()
    };
    SlowQueries {
        by_total_time: rows(by_total),
        by_p95: rows(by_p95),
    }
}

fn cache(s: &Snapshot) -> CacheSummary {
    let c = &s.cache;
    CacheSummary {
        hit_rate: c.hit_rate,
        hits: c.hits,
        misses: c.misses,
        errors: c.errors,
        ops: c.ops,
        ops_per_s: c.ops_per_s,
        p95_ms: c.p95_ms,
        connected: s.cache_server.map(|g| g.connected),
        memory_usage_bytes: s.cache_server.and_then(|g| g.memory_used_bytes),
        by_name: s.caches.iter().filter(|n| n.ops > 0).cloned().collect(),
    }
}

fn routes(s: &Snapshot, class: RouteClass) -> Vec<RoutePerformance> {
    s.routes
        .iter()
        .filter(|r| r.class == class && r.figures.count > 0)
        .map(|r| RoutePerformance {
            route: r.route.clone(),
            performance: Performance::of(&r.figures),
            client_errors: r.client_errors,
        })
        .collect()
}

fn gen_ai(s: &Snapshot) -> GenAi {
    let models: Vec<ModelFigures> = s.models.iter().filter(|m| m.calls > 0).cloned().collect();
    GenAi {
        calls: models.iter().map(|m| m.calls).sum(),
        errors: models.iter().map(|m| m.errors).sum(),
        input_tokens: models.iter().map(|m| m.input_tokens).sum(),
        output_tokens: models.iter().map(|m| m.output_tokens).sum(),
        cost_usd: models.iter().map(|m| m.cost_usd).sum(),
        models,
    }
}

fn slowest_traces(s: &Snapshot, c: &HealthConfig) -> Vec<RouteTraces> {
    s.routes
        .iter()
        .filter(|r| !r.slowest.is_empty())
        .map(|r| RouteTraces {
            route: r.route.clone(),
            class: r.class,
            traces: r
                .slowest
                .iter()
                .map(|t| TraceLink::new(&t.trace_id, t.duration_ms, c))
                .collect(),
        })
        .collect()
}

impl Detailed {
    /// The whole document, over the configured window.
    pub(crate) fn of(stats: &Stats, c: &HealthConfig, uptime_s: f64) -> Self {
        let s = stats.snapshot(c.window_minutes);
        let alerts = advice::alerts(&s, c);
        let breached: Vec<&'static str> = alerts
            .iter()
            .filter(|a| a.breached)
            .map(|a| a.name)
            .collect();
        let api_performance = ApiPerformance {
            performance: Performance::of(&s.api),
            windows: Windows {
                one_minute: Performance::of(&stats.snapshot(1).api),
                five_minutes: Performance::of(&stats.snapshot(5).api),
                fifteen_minutes: Performance::of(&stats.snapshot(15).api),
            },
            routes: routes(&s, RouteClass::Standard),
            llm: LlmPerformance {
                performance: Performance::of(&s.llm),
                routes: routes(&s, RouteClass::Llm),
            },
        };
        Self {
            status: if breached.is_empty() {
                "ok"
            } else {
                "degraded"
            },
            breached,
            generated_at_ms: s.at_ms,
            uptime_s,
            window: Window {
                minutes: s.window_minutes,
                seconds: s.seconds,
            },
            database: database(&s),
            slow_queries: slow_queries(&s),
            cache: cache(&s),
            api_performance,
            gen_ai: gen_ai(&s),
            slowest_traces: slowest_traces(&s, c),
            n_plus_one: super::n_plus_one::section(&s, c),
            recommendations: advice::recommendations(&s, c),
            alerts,
            history: stats.history(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &serde_json::Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    /// The names the dashboard page and the docs read: a renamed field
    /// fails here before it breaks them.
    #[test]
    fn the_document_keeps_its_json_names() {
        let stats = Stats::builder().build();
        let doc = Detailed::of(&stats, &HealthConfig::default(), 1.0);
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            keys(&v),
            [
                "alerts",
                "api_performance",
                "breached",
                "cache",
                "database",
                "gen_ai",
                "generated_at_ms",
                "history",
                "n_plus_one",
                "recommendations",
                "slow_queries",
                "slowest_traces",
                "status",
                "uptime_s",
                "window"
            ]
        );
        let api = &v["api_performance"];
        assert_eq!(keys(&api["windows"]), ["15m", "1m", "5m"]);
        for k in [
            "requests",
            "p95_latency_ms",
            "requests_per_minute",
            "routes",
            "llm",
        ] {
            assert!(api.get(k).is_some(), "api_performance.{k}");
        }
        assert!(api["llm"].get("p95_latency_ms").is_some());
        assert_eq!(keys(&v["slow_queries"]), ["by_p95", "by_total_time"]);
        assert_eq!(v["database"]["pool_utilization"], serde_json::Value::Null);
        assert_eq!(v["status"], "ok");
    }
}
