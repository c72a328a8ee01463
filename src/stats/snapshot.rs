//! What the window holds, as plain serializable figures.

use serde::Serialize;

use super::recorders::{CLIENT_ERRORS, COST_MICRO_USD, HITS, INPUT_TOKENS, MISSES, OUTPUT_TOKENS};
use super::series::{lock, Merged, MinuteSummary, HISTORY};
use super::vocabulary::{PoolStatus, RouteClass};
use super::{CacheGauge, Stats};

/// Count, rates and percentiles of one series (or a merge of several) over
/// a window. Durations in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Observations.
    pub count: u64,
    /// Failed observations (5xx, failed queries, acquire timeouts, …).
    pub errors: u64,
    /// Observations per second over the window.
    pub rate_per_s: f64,
    /// `errors / count` (0 when empty).
    pub error_rate: f64,
    /// Mean duration.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Longest.
    pub max_ms: f64,
    /// Sum of durations.
    pub total_ms: f64,
}

impl Figures {
    pub(crate) fn of(m: &Merged, seconds: f64) -> Self {
        let count = m.count();
        let ratio = |n: u64| {
            if count == 0 {
                0.0
            } else {
                n as f64 / count as f64
            }
        };
        Self {
            count,
            errors: m.errors,
            rate_per_s: if seconds > 0.0 {
                count as f64 / seconds
            } else {
                0.0
            },
            error_rate: ratio(m.errors),
            mean_ms: ratio(m.sum_us) / 1000.0,
            p50_ms: m.percentile_ms(0.50),
            p95_ms: m.percentile_ms(0.95),
            p99_ms: m.percentile_ms(0.99),
            max_ms: m.max_us as f64 / 1000.0,
            total_ms: m.sum_us as f64 / 1000.0,
        }
    }
}

/// One of the slowest requests of a route in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowTrace {
    /// The W3C trace ID, 32 hex digits.
    pub trace_id: String,
    /// The request's duration.
    pub duration_ms: f64,
}

/// One route over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteFigures {
    /// `METHOD template`, or `other`.
    pub route: String,
    /// API or LLM.
    pub class: RouteClass,
    /// Its figures (errors are 5xx).
    #[serde(flatten)]
    pub figures: Figures,
    /// 4xx answers.
    pub client_errors: u64,
    /// Its slowest sampled requests, slowest first.
    pub slowest: Vec<SlowTrace>,
}

/// One statement over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryFigures {
    /// Its `db.query.summary`, or `other`.
    pub summary: String,
    /// Its figures (errors are failed queries).
    #[serde(flatten)]
    pub figures: Figures,
}

/// One cache name (or all of them) over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheFigures {
    /// The cache name, `other`, or `all`.
    pub name: String,
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
    /// `hits / (hits + misses)`; `None` before the first lookup.
    pub hit_rate: Option<f64>,
    /// 95th percentile of command duration.
    pub p95_ms: f64,
}

impl CacheFigures {
    fn of(name: &str, m: &Merged, seconds: f64) -> Self {
        let (hits, misses) = (m.extra[HITS], m.extra[MISSES]);
        let f = Figures::of(m, seconds);
        Self {
            name: name.to_owned(),
            hits,
            misses,
            errors: m.errors,
            ops: f.count,
            ops_per_s: f.rate_per_s,
            hit_rate: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
            p95_ms: f.p95_ms,
        }
    }
}

/// One model over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelFigures {
    /// The model, or `other`.
    pub model: String,
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// 95th percentile of call duration.
    pub p95_ms: f64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Cost in US dollars.
    pub cost_usd: f64,
}

/// Everything over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// When it was taken (ms since the Unix epoch).
    pub at_ms: u64,
    /// The window, in minutes (the current, partial minute included).
    pub window_minutes: u64,
    /// Seconds the window actually covers (shorter just after start).
    pub seconds: f64,
    /// Every API route merged.
    pub api: Figures,
    /// Every LLM route merged.
    pub llm: Figures,
    /// Each route.
    pub routes: Vec<RouteFigures>,
    /// Every statement merged.
    pub queries: Figures,
    /// Each statement.
    pub statements: Vec<QueryFigures>,
    /// Waits for a pool connection (errors are timeouts).
    pub acquire: Figures,
    /// How long connections were held.
    pub hold: Figures,
    /// The pool's state now, if a provider is registered.
    pub pool: Option<PoolStatus>,
    /// Every cache name merged (`name` is `all`).
    pub cache: CacheFigures,
    /// Each cache name.
    pub caches: Vec<CacheFigures>,
    /// The cache server's state now, if a provider is registered.
    pub cache_server: Option<CacheGauge>,
    /// Each model.
    pub models: Vec<ModelFigures>,
    /// Each (route, statement) that ran as an N+1 in the window.
    pub n_plus_one: Vec<super::NPlusOneFigures>,
    /// The newest captured plan of each slow statement, newest first.
    pub plans: Vec<super::StatementPlan>,
}

/// One route's per-minute history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteHistory {
    /// `METHOD template`, or `other`.
    pub route: String,
    /// API or LLM.
    pub class: RouteClass,
    /// Requests per minute.
    pub requests: Vec<u64>,
    /// P95 per minute (0 for a minute without requests).
    pub p95_ms: Vec<f64>,
}

/// The last hour, one value per minute, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    /// Start of each minute (ms since the Unix epoch).
    pub minutes_ms: Vec<u64>,
    /// Requests per minute (every route).
    pub requests: Vec<u64>,
    /// 5xx per minute.
    pub errors: Vec<u64>,
    /// Each route.
    pub routes: Vec<RouteHistory>,
    /// Acquire-wait P95 per minute.
    pub acquire_wait_p95_ms: Vec<f64>,
    /// Highest pool utilization seen per minute (sampled at each snapshot).
    pub pool_utilization: Vec<Option<f64>>,
    /// Cache hit rate per minute, every name merged.
    pub cache_hit_rate: Vec<Option<f64>>,
    /// LLM cost per minute, every model.
    pub cost_usd: Vec<f64>,
    /// LLM tokens (in + out) per minute, every model.
    pub tokens: Vec<u64>,
}

fn sum_by(rows: &[Vec<MinuteSummary>], f: impl Fn(&MinuteSummary) -> u64) -> Vec<u64> {
    (0..HISTORY as usize)
        .map(|i| rows.iter().map(|r| r.get(i).map_or(0, &f)).sum())
        .collect()
}

impl Stats {
    /// Everything recorded in the last `minutes` minutes (1 to 15; the
    /// current minute counts as one).
    pub fn snapshot(&self, minutes: u64) -> Snapshot {
        let minutes = minutes.clamp(1, 15);
        let now_ms = self.0.clock.now_ms();
        let now = now_ms / 60_000;
        let into_minute = (now_ms % 60_000) as f64 / 1000.0;
        let uptime = now_ms.saturating_sub(self.0.started_ms) as f64 / 1000.0;
        let seconds = ((minutes - 1) as f64 * 60.0 + into_minute)
            .min(uptime)
            .max(1.0);

        let (mut api, mut llm) = (Merged::default(), Merged::default());
        let routes = self.route_figures(now, minutes, seconds, &mut api, &mut llm);

        let mut queries = Merged::default();
        let statements = self
            .0
            .queries
            .rows()
            .into_iter()
            .map(|r| {
                let m = r.series.window(now, minutes);
                queries.merge(&m);
                QueryFigures {
                    summary: r.name.clone(),
                    figures: Figures::of(&m, seconds),
                }
            })
            .collect();

        let mut all_caches = Merged::default();
        let caches = self
            .0
            .caches
            .rows()
            .into_iter()
            .map(|r| {
                let m = r.series.window(now, minutes);
                all_caches.merge(&m);
                CacheFigures::of(&r.name, &m, seconds)
            })
            .collect();

        let models = self
            .0
            .models
            .rows()
            .into_iter()
            .map(|r| {
                let m = r.series.window(now, minutes);
                ModelFigures {
                    model: r.name.clone(),
                    calls: m.count(),
                    errors: m.errors,
                    p95_ms: m.percentile_ms(0.95),
                    input_tokens: m.extra[INPUT_TOKENS],
                    output_tokens: m.extra[OUTPUT_TOKENS],
                    cost_usd: m.extra[COST_MICRO_USD] as f64 / 1e6,
                }
            })
            .collect();

        Snapshot {
            at_ms: now_ms,
            window_minutes: minutes,
            seconds,
            api: Figures::of(&api, seconds),
            llm: Figures::of(&llm, seconds),
            routes,
            queries: Figures::of(&queries, seconds),
            statements,
            acquire: Figures::of(&self.0.acquire.window(now, minutes), seconds),
            hold: Figures::of(&self.0.hold.window(now, minutes), seconds),
            pool: self.pool_status(),
            cache: CacheFigures::of("all", &all_caches, seconds),
            caches,
            cache_server: self.cache_gauge(),
            models,
            n_plus_one: self.n_plus_one_figures(now, minutes),
            plans: self.plans(),
        }
    }

    /// Each route over the window, merged into `api` or `llm` by class.
    fn route_figures(
        &self,
        now: u64,
        minutes: u64,
        seconds: f64,
        api: &mut Merged,
        llm: &mut Merged,
    ) -> Vec<RouteFigures> {
        self.0
            .routes
            .rows()
            .into_iter()
            .map(|r| {
                let m = r.series.window(now, minutes);
                match r.meta {
                    RouteClass::Standard => api.merge(&m),
                    RouteClass::Llm => llm.merge(&m),
                }
                let slowest = m
                    .slowest
                    .iter()
                    .map(|(us, t)| SlowTrace {
                        trace_id: t.to_string(),
                        duration_ms: *us as f64 / 1000.0,
                    })
                    .collect();
                RouteFigures {
                    route: r.name.clone(),
                    class: r.meta,
                    figures: Figures::of(&m, seconds),
                    client_errors: m.extra[CLIENT_ERRORS],
                    slowest,
                }
            })
            .collect()
    }

    /// The last hour, minute by minute.
    pub fn history(&self) -> History {
        let now = self.0.clock.minute();
        let routes: Vec<_> = self.0.routes.rows();
        let route_rows: Vec<Vec<MinuteSummary>> =
            routes.iter().map(|r| r.series.history(now)).collect();
        let cache_rows: Vec<Vec<MinuteSummary>> = self
            .0
            .caches
            .rows()
            .iter()
            .map(|r| r.series.history(now))
            .collect();
        let model_rows: Vec<Vec<MinuteSummary>> = self
            .0
            .models
            .rows()
            .iter()
            .map(|r| r.series.history(now))
            .collect();
        let first = now.saturating_sub(HISTORY - 1);
        let minutes: Vec<u64> = (first..=now).collect();
        let hits = sum_by(&cache_rows, |s| s.extra[HITS]);
        let misses = sum_by(&cache_rows, |s| s.extra[MISSES]);
        let util = lock(&self.0.utilization).clone();
        History {
            minutes_ms: minutes.iter().map(|m| m * 60_000).collect(),
            requests: sum_by(&route_rows, |s| s.count),
            errors: sum_by(&route_rows, |s| s.errors),
            routes: routes
                .iter()
                .zip(&route_rows)
                .map(|(r, h)| RouteHistory {
                    route: r.name.clone(),
                    class: r.meta,
                    requests: h.iter().map(|s| s.count).collect(),
                    p95_ms: h.iter().map(|s| s.p95_ms).collect(),
                })
                .collect(),
            acquire_wait_p95_ms: self
                .0
                .acquire
                .history(now)
                .iter()
                .map(|s| s.p95_ms)
                .collect(),
            pool_utilization: minutes
                .iter()
                .map(|m| {
                    let (at, u) = util[(m % HISTORY) as usize];
                    (at == *m).then_some(u)
                })
                .collect(),
            cache_hit_rate: hits
                .iter()
                .zip(&misses)
                .map(|(h, m)| (h + m > 0).then(|| *h as f64 / (h + m) as f64))
                .collect(),
            cost_usd: sum_by(&model_rows, |s| s.extra[COST_MICRO_USD])
                .into_iter()
                .map(|c| c as f64 / 1e6)
                .collect(),
            tokens: sum_by(&model_rows, |s| {
                s.extra[INPUT_TOKENS] + s.extra[OUTPUT_TOKENS]
            }),
        }
    }
}
