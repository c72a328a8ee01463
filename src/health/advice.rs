//! Alerts (the alert thresholds against the window) and recommendations,
//! each with the figures it rests on.

use serde::Serialize;

use crate::config::HealthConfig;
use crate::names::OTHER;
use crate::stats::Snapshot;

/// One alert threshold against its current value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `p95_latency`, `db_pool_utilization`, `cache_hit_rate` or `error_rate`.
    pub name: &'static str,
    /// The variable that sets the limit.
    pub variable: &'static str,
    /// The current value; `None` without data.
    pub value: Option<f64>,
    /// The limit.
    pub limit: f64,
    /// `above` (breached when the value exceeds the limit) or `below`.
    pub breached_when: &'static str,
    /// Whether the value is past the limit.
    pub breached: bool,
    /// `ms` or `ratio`.
    pub unit: &'static str,
}

fn alert(
    name: &'static str,
    variable: &'static str,
    value: Option<f64>,
    limit: f64,
    above: bool,
    unit: &'static str,
) -> Alert {
    let breached = value.is_some_and(|v| if above { v > limit } else { v < limit });
    Alert {
        name,
        variable,
        value,
        limit,
        breached_when: if above { "above" } else { "below" },
        breached,
        unit,
    }
}

/// The four alert thresholds.
pub(crate) fn alerts(s: &Snapshot, c: &HealthConfig) -> Vec<Alert> {
    let requests = s.api.count + s.llm.count;
    let errors = s.api.errors + s.llm.errors;
    vec![
        alert(
            "p95_latency",
            "P95_LATENCY_THRESHOLD_MS",
            (s.api.count > 0).then_some(s.api.p95_ms),
            c.p95_latency_threshold_ms,
            true,
            "ms",
        ),
        alert(
            "db_pool_utilization",
            "DB_POOL_ALERT_THRESHOLD",
            s.pool.map(|p| p.utilization()),
            c.db_pool_alert_threshold,
            true,
            "ratio",
        ),
        alert(
            "cache_hit_rate",
            "CACHE_HIT_RATE_THRESHOLD",
            s.cache.hit_rate,
            c.cache_hit_rate_threshold,
            false,
            "ratio",
        ),
        alert(
            "error_rate",
            "ERROR_RATE_THRESHOLD",
            (requests > 0).then(|| errors as f64 / requests as f64),
            c.error_rate_threshold,
            true,
            "ratio",
        ),
    ]
}

/// One piece of advice and the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// `pool_too_small`, `pool_oversized`, `cache_hit_rate`, `slow_statement` or `n_plus_one`.
    pub kind: &'static str,
    /// What to do, in a sentence.
    pub message: String,
    /// The numbers the advice rests on.
    pub figures: AdviceFigures,
}

/// The numbers behind a [`Recommendation`], by its kind (serialised as
/// the variant's fields alone).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum AdviceFigures {
    /// `pool_too_small`, `pool_oversized`: Little's law over the window.
    Pool {
        /// Acquisitions per second.
        acquires_per_s: f64,
        /// Mean time a connection was held.
        hold_mean_ms: f64,
        /// P95 of the time a connection was held.
        hold_p95_ms: f64,
        /// Connections busy on average (acquires/s × mean hold).
        busy_connections_mean: f64,
        /// Acquires/s × P95 hold, rounded up.
        recommended_max: usize,
        /// `DB_MAX_CONNECTIONS`.
        max_connections: usize,
        /// P95 of the wait for a connection.
        acquire_wait_p95_ms: f64,
        /// Acquisitions that timed out.
        acquire_timeouts: u64,
        /// Callers waiting now.
        waiting: usize,
    },
    /// `cache_hit_rate`: the rate, its limit and the worst names.
    Cache {
        /// The hit rate, every name merged.
        hit_rate: f64,
        /// `CACHE_HIT_RATE_THRESHOLD`.
        limit: f64,
        /// Up to three names, lowest hit rate first.
        worst: Vec<CacheNameRate>,
    },
    /// `n_plus_one`: a route that runs one statement once per row.
    NPlusOne {
        /// `METHOD template`.
        route: String,
        /// The repeated statement's `db.query.summary`.
        summary: String,
        /// Requests that repeated it in the window.
        occurrences: u64,
        /// The longest run in one request.
        max_repeats: u64,
    },
    /// `slow_statement`: one statement and its share of database time.
    Statement {
        /// Its `db.query.summary`.
        summary: String,
        /// Calls in the window.
        calls: u64,
        /// P95 duration.
        p95_ms: f64,
        /// Time spent in it.
        total_ms: f64,
        /// Its share of the time spent in every statement.
        share_of_db_time: f64,
        /// When its plan was captured (`DB_PLAN_CAPTURE`); `null` without one.
        plan_captured_at_ms: Option<u64>,
        /// The sequential scans on large tables its plan shows.
        seq_scans: Vec<SeqScan>,
    },
}

/// A sequential scan a captured plan shows, in a `slow_statement`
/// recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeqScan {
    /// The table (`schema.table` outside `public`).
    pub table: String,
    /// Its rows as of its last `ANALYZE`, else the planner's estimate of
    /// the rows the scan returns.
    pub estimated_rows: f64,
    /// The column its filter tests, when one is named: the index candidate.
    pub filter_column: Option<String>,
}

/// One cache name's hit rate, in a `cache_hit_rate` recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheNameRate {
    /// The cache name.
    pub name: String,
    /// Its hit rate.
    pub hit_rate: f64,
    /// Its hits.
    pub hits: u64,
    /// Its misses.
    pub misses: u64,
}

/// Statements slower than this at P95 are worth a recommendation.
const SLOW_STATEMENT_MS: f64 = 100.0;
/// A sequential scan on a table with fewer rows than this is cheap: not
/// named (a table never analysed is named, its size unknown).
const LARGE_TABLE_ROWS: f64 = 1000.0;
/// How many statements the advice names at most.
const SLOW_STATEMENTS: usize = 3;

pub(crate) fn recommendations(s: &Snapshot, c: &HealthConfig) -> Vec<Recommendation> {
    let mut out = Vec::new();
    pool(s, &mut out);
    cache(s, c, &mut out);
    statements(s, c, &mut out);
    super::n_plus_one::recommendations(s, &mut out);
    out
}

/// Little's law: connections busy on average = acquisitions per second ×
/// mean hold time; sized for the P95 hold, the pool needs λ × W₉₅.
fn pool(s: &Snapshot, out: &mut Vec<Recommendation>) {
    let Some(gauge) = s.pool else { return };
    if s.acquire.count == 0 || s.hold.count == 0 {
        return;
    }
    let rate = s.acquire.rate_per_s;
    let busy_mean = rate * s.hold.mean_ms / 1000.0;
    let needed = (rate * s.hold.p95_ms / 1000.0).ceil().max(1.0) as usize;
    let figures = AdviceFigures::Pool {
        acquires_per_s: rate,
        hold_mean_ms: s.hold.mean_ms,
        hold_p95_ms: s.hold.p95_ms,
        busy_connections_mean: busy_mean,
        recommended_max: needed,
        max_connections: gauge.max,
        acquire_wait_p95_ms: s.acquire.p95_ms,
        acquire_timeouts: s.acquire.errors,
        waiting: gauge.waiting,
    };
    if needed > gauge.max || s.acquire.errors > 0 {
        out.push(Recommendation {
            kind: "pool_too_small",
            message: format!(
                "Raise DB_MAX_CONNECTIONS from {} to at least {}: {:.1} acquires/s × {:.1} ms P95 hold \
                 (Little's law); {} acquires timed out.",
                gauge.max,
                needed.max(gauge.max + 1),
                rate,
                s.hold.p95_ms,
                s.acquire.errors
            ),
            figures,
        });
    } else if gauge.max >= 4 && gauge.max > 2 * needed + 2 {
        out.push(Recommendation {
            kind: "pool_oversized",
            message: format!(
                "DB_MAX_CONNECTIONS={} is more than twice what the load needs: {:.1} acquires/s × \
                 {:.1} ms P95 hold ≈ {} connections; {} would do and frees server slots.",
                gauge.max,
                rate,
                s.hold.p95_ms,
                needed,
                (2 * needed).max(2)
            ),
            figures,
        });
    }
}

fn cache(s: &Snapshot, c: &HealthConfig, out: &mut Vec<Recommendation>) {
    let Some(rate) = s.cache.hit_rate else { return };
    if rate >= c.cache_hit_rate_threshold {
        return;
    }
    let mut worst: Vec<_> = s
        .caches
        .iter()
        .filter_map(|n| n.hit_rate.map(|r| (n, r)))
        .collect();
    worst.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.misses.cmp(&a.0.misses)));
    worst.truncate(3);
    let names: Vec<CacheNameRate> = worst
        .iter()
        .map(|(n, r)| CacheNameRate {
            name: n.name.clone(),
            hit_rate: *r,
            hits: n.hits,
            misses: n.misses,
        })
        .collect();
    let listed: Vec<String> = worst
        .iter()
        .map(|(n, r)| format!("{} ({:.0} %)", n.name, r * 100.0))
        .collect();
    out.push(Recommendation {
        kind: "cache_hit_rate",
        message: format!(
            "Cache hit rate {:.0} % is below {:.0} % (CACHE_HIT_RATE_THRESHOLD); worst names: {}. \
             Check their TTLs and whether their keys are ever read twice.",
            rate * 100.0,
            c.cache_hit_rate_threshold * 100.0,
            listed.join(", ")
        ),
        figures: AdviceFigures::Cache {
            hit_rate: rate,
            limit: c.cache_hit_rate_threshold,
            worst: names,
        },
    });
}

/// Slow statements worth optimising: a P95 of at least
/// [`SLOW_STATEMENT_MS`], and either `WINGSPAN_ADVICE_MIN_CALLS` calls in the
/// window or `WINGSPAN_ADVICE_MIN_DB_SHARE` of the database time, so a
/// one-off (a migration's INSERT, an ANALYZE) is not advice.
/// A statement run once is an event, not a pattern: however much of a
/// short window it took (the demo's seeding `INSERT` takes 7 % of its 30 s),
/// its share alone does not make it advice.
const MIN_CALLS_FOR_SHARE: u64 = 2;

fn statements(s: &Snapshot, c: &HealthConfig, out: &mut Vec<Recommendation>) {
    let total: f64 = s.statements.iter().map(|q| q.figures.total_ms).sum();
    let share_of = |total_ms: f64| if total > 0.0 { total_ms / total } else { 0.0 };
    let mut slow: Vec<_> = s
        .statements
        .iter()
        .filter(|q| q.figures.p95_ms >= SLOW_STATEMENT_MS && q.summary != OTHER)
        .filter(|q| {
            q.figures.count >= c.advice_min_calls
                || (q.figures.count >= MIN_CALLS_FOR_SHARE
                    && share_of(q.figures.total_ms) >= c.advice_min_db_share)
        })
        .collect();
    slow.sort_by(|a, b| b.figures.total_ms.total_cmp(&a.figures.total_ms));
    for q in slow.into_iter().take(SLOW_STATEMENTS) {
        let share = share_of(q.figures.total_ms);
        let head = format!(
            "`{}` has a P95 of {:.0} ms over {} calls and takes {:.0} % of database time",
            q.summary,
            q.figures.p95_ms,
            q.figures.count,
            share * 100.0
        );
        let plan = s.plans.iter().find(|p| p.summary == q.summary);
        let scans = plan.map(|p| seq_scans(&p.plan)).unwrap_or_default();
        let message = match plan {
            None => format!(
                "{head}: check its plan (EXPLAIN ANALYZE) and indexes, or cache its result."
            ),
            Some(p) => {
                let age = s.at_ms.saturating_sub(p.plan.captured_at_ms) / 1000;
                let shows = if scans.is_empty() {
                    "no sequential scan on a large table: check the rows its joins and \
                     index scans expect, or cache its result"
                        .to_owned()
                } else {
                    scans.iter().map(describe).collect::<Vec<_>>().join("; ")
                };
                format!("{head}. Its plan (captured {age} s ago) shows {shows}.")
            }
        };
        out.push(Recommendation {
            kind: "slow_statement",
            message,
            figures: AdviceFigures::Statement {
                summary: q.summary.clone(),
                calls: q.figures.count,
                p95_ms: q.figures.p95_ms,
                total_ms: q.figures.total_ms,
                share_of_db_time: share,
                plan_captured_at_ms: plan.map(|p| p.plan.captured_at_ms),
                seq_scans: scans,
            },
        });
    }
}

/// The sequential scans of `plan` worth naming: on a table of at least
/// [`LARGE_TABLE_ROWS`] rows, or of unknown size.
fn seq_scans(plan: &crate::stats::QueryPlan) -> Vec<SeqScan> {
    plan.nodes
        .iter()
        .filter(|n| n.node_type == "Seq Scan")
        .filter(|n| n.table_rows.is_none_or(|r| r >= LARGE_TABLE_ROWS))
        .filter_map(|n| {
            Some(SeqScan {
                table: n.relation.clone()?,
                estimated_rows: n.table_rows.unwrap_or(n.estimated_rows),
                filter_column: n.filter_column(),
            })
        })
        .collect()
}

/// "a sequential scan on orders (~50000 rows estimated); no index used for
/// the filter on orders.customer: consider an index on orders (customer)".
fn describe(scan: &SeqScan) -> String {
    let t = &scan.table;
    let mut out = format!(
        "a sequential scan on {t} (~{:.0} rows estimated)",
        scan.estimated_rows
    );
    if let Some(c) = &scan.filter_column {
        out.push_str(&format!(
            "; no index used for the filter on {t}.{c}: consider an index on {t} ({c})"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Figures, QueryFigures, Stats};

    fn statement(summary: &str, count: u64, p95_ms: f64, total_ms: f64) -> QueryFigures {
        QueryFigures {
            summary: summary.to_owned(),
            figures: Figures {
                count,
                p95_ms,
                total_ms,
                ..Figures::default()
            },
        }
    }

    fn advised(statements: Vec<QueryFigures>, c: &HealthConfig) -> Vec<String> {
        let mut s = Stats::builder().build().snapshot(5);
        s.statements = statements;
        recommendations(&s, c)
            .into_iter()
            .filter(|r| r.kind == "slow_statement")
            .filter_map(|r| match r.figures {
                AdviceFigures::Statement { summary, .. } => Some(summary),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_one_off_slow_statement_is_not_advice_and_a_frequent_one_is() {
        let c = HealthConfig::default();
        // The seeding INSERT and an ANALYZE ran once each, slowly, and make
        // up under 5 % of the database time; the SELECT ran 40 times.
        let got = advised(
            vec![
                statement("INSERT users", 1, 900.0, 900.0),
                statement("ANALYZE", 1, 400.0, 400.0),
                statement("SELECT orders", 40, 150.0, 6_000.0),
                statement("SELECT users", 5_000, 2.0, 20_000.0),
            ],
            &c,
        );
        assert_eq!(got, ["SELECT orders"]);
    }

    #[test]
    fn a_rare_statement_with_a_large_share_of_db_time_is_advice() {
        let c = HealthConfig::default();
        let got = advised(
            vec![
                statement("SELECT report", 2, 5_000.0, 10_000.0),
                statement("SELECT users", 5_000, 2.0, 20_000.0),
            ],
            &c,
        );
        assert_eq!(got, ["SELECT report"]);
    }

    #[test]
    fn a_captured_plan_names_the_seq_scan_and_the_column_to_index() {
        use crate::stats::{PlanCondition, PlanNode, QueryPlan, StatementPlan};
        let c = HealthConfig::default();
        let mut s = Stats::builder().build().snapshot(5);
        s.statements = vec![
            statement("SELECT orders", 40, 150.0, 6_000.0),
            statement("SELECT users", 40, 120.0, 5_000.0),
        ];
        let mut scan = PlanNode::new(1, "Seq Scan");
        scan.relation = Some("shop.orders".into());
        scan.table_rows = Some(50_000.0);
        scan.conditions.push(PlanCondition {
            kind: "Filter".into(),
            expression: "((orders.total > ?) AND (orders.customer = $1))".into(),
        });
        // A small table's scan is cheap: not named.
        let mut small = PlanNode::new(0, "Seq Scan");
        small.relation = Some("users".into());
        small.table_rows = Some(12.0);
        s.plans = vec![
            StatementPlan {
                summary: "SELECT orders".into(),
                plan: QueryPlan::new(
                    s.at_ms.saturating_sub(12_000),
                    vec![PlanNode::new(0, "Aggregate"), scan],
                ),
            },
            StatementPlan {
                summary: "SELECT users".into(),
                plan: QueryPlan::new(s.at_ms, vec![small]),
            },
        ];
        let recs = recommendations(&s, &c);
        let msg = |summary: &str| {
            recs.iter()
                .find(|r| matches!(&r.figures, AdviceFigures::Statement { summary: x, .. } if x == summary))
                .map(|r| r.message.clone())
                .unwrap()
        };
        assert!(
            msg("SELECT orders").ends_with(
                "Its plan (captured 12 s ago) shows a sequential scan on shop.orders (~50000 rows \
                 estimated); no index used for the filter on shop.orders.customer: consider an \
                 index on shop.orders (customer)."
            ),
            "{}",
            msg("SELECT orders")
        );
        assert!(
            msg("SELECT users").contains("shows no sequential scan on a large table"),
            "{}",
            msg("SELECT users")
        );
    }

    #[test]
    fn the_floors_are_settings() {
        let one_off = || {
            vec![
                statement("INSERT users", 1, 900.0, 900.0),
                statement("SELECT users", 5_000, 2.0, 99_100.0),
            ]
        };
        assert!(advised(one_off(), &HealthConfig::default()).is_empty());
        let lenient = HealthConfig {
            advice_min_calls: 1,
            ..HealthConfig::default()
        };
        assert_eq!(advised(one_off(), &lenient), ["INSERT users"]);
        let by_share = HealthConfig {
            advice_min_db_share: 0.005,
            ..HealthConfig::default()
        };
        // One call is never a pattern, whatever its share...
        assert!(advised(one_off(), &by_share).is_empty());
        // ...two are, past the share.
        let twice = vec![
            statement("INSERT users", 2, 900.0, 1_800.0),
            statement("SELECT users", 5_000, 2.0, 98_200.0),
        ];
        assert_eq!(advised(twice, &by_share), ["INSERT users"]);
    }
}
