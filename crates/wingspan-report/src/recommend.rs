//! Recommendations, each with the figures it rests on, and the findings
//! (figures over their thresholds) that `--fail-on-findings` turns into exit 3.

use std::collections::BTreeMap;

use crate::model::{Finding, Recommendation, Report};
use crate::sections::statements::growth;

/// z of the standard normal's 95th percentile: with Poisson arrivals the
/// connections in use vary around their mean L with a standard deviation of
/// √L, so L + 1.645·√L covers the busiest hour's demand 95 % of the time
/// (the square-root staffing rule).
const Z95: f64 = 1.645;

/// The pool size Little's law and the P95 headroom give for a mean demand of
/// `in_use` connections.
pub fn pool_size(in_use: f64) -> u64 {
    ((in_use + Z95 * in_use.sqrt()).ceil() as u64).max(1)
}

fn rec(kind: &str, subject: &str, text: String, figures: &[(&str, f64)]) -> Recommendation {
    Recommendation {
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        text,
        figures: figures.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
    }
}

pub fn recommendations(r: &Report) -> Vec<Recommendation> {
    let mut out = Vec::new();
    let t = &r.thresholds;
    for p in r.pools.data.iter().flatten() {
        let Some(peak) = &p.peak_hour else { continue };
        let in_use = peak.acquires_per_second * peak.mean_hold_seconds;
        let size = pool_size(in_use);
        let verdict = match p.max_connections {
            Some(max) if (size as f64) > max => format!("raise it from {max} to {size}"),
            Some(max) if (size as f64) < max => {
                format!("{max} is more than it needs; {size} would do")
            }
            Some(max) => format!("its size of {max} fits"),
            None => format!("size it at {size}"),
        };
        out.push(rec(
            "pool_size",
            &p.pool,
            format!(
                "Pool {}: in the busiest hour (ending {}) {:.1} acquires/s held {:.1} ms on average keep \
                 {:.2} connections in use (Little's law); {} connections cover the P95 of that demand \
                 (L + 1.645·√L): {}.",
                p.pool,
                peak.end_utc,
                peak.acquires_per_second,
                peak.mean_hold_seconds * 1000.0,
                in_use,
                size,
                verdict
            ),
            &[
                ("acquires_per_second", peak.acquires_per_second),
                ("mean_hold_seconds", peak.mean_hold_seconds),
                ("connections_in_use", in_use),
                ("recommended_size", size as f64),
                ("current_max", p.max_connections.unwrap_or(f64::NAN)),
                ("peak_utilization", p.peak_utilization.current.unwrap_or(f64::NAN)),
                ("acquire_wait_p95_seconds", p.acquire_wait_p95_seconds.current.unwrap_or(f64::NAN)),
            ],
        ));
    }
    if let Some(c) = &r.caches.data {
        let ttl = if c.avg_ttl.is_empty() {
            "TTLs are not a metric: wingspan sets them per call (get_or_load's ttl), and Redis reported no \
             redis_db_avg_ttl_milliseconds either; check the TTL in the code"
                .to_owned()
        } else {
            let dbs: Vec<String> = c
                .avg_ttl
                .iter()
                .map(|t| format!("db {} {:.0} s", t.db, t.avg_ttl_seconds))
                .collect();
            format!(
                "per-cache TTLs are not a metric (set per call in the code); Redis's average TTL of keys \
                 with one: {}",
                dbs.join(", ")
            )
        };
        for cache in &c.caches {
            let Some(hit) = cache.hit_ratio.current else {
                continue;
            };
            if hit >= t.cache_hit_ratio_threshold {
                continue;
            }
            out.push(rec(
                "cache_hit_rate",
                &cache.cache,
                format!(
                    "Cache {}: hit rate {:.1} % is below the {:.0} % threshold over {} reads; a longer TTL or \
                     caching a coarser key raises it — {ttl}.",
                    cache.cache,
                    hit * 100.0,
                    t.cache_hit_ratio_threshold * 100.0,
                    crate::fmt::count(cache.reads.current),
                ),
                &[
                    ("hit_ratio", hit),
                    ("threshold", t.cache_hit_ratio_threshold),
                    ("reads", cache.reads.current.unwrap_or(0.0)),
                ],
            ));
        }
    }
    for s in r
        .statements
        .data
        .iter()
        .flatten()
        .filter(|s| grew(s))
        .take(3)
    {
        let subject = format!("{} {}", s.operation, s.collection)
            .trim()
            .to_owned();
        out.push(rec(
            "statement_growth",
            &subject,
            format!(
                "Statement {subject}: {:.1} s in total, {:+.1} s on the previous window ({} calls); look at \
                 its plan and its callers first.",
                s.total_seconds.current.unwrap_or(0.0),
                growth(s),
                crate::fmt::count(s.calls.current),
            ),
            &[
                ("total_seconds", s.total_seconds.current.unwrap_or(0.0)),
                ("previous_total_seconds", s.total_seconds.previous.unwrap_or(0.0)),
                ("growth_seconds", growth(s)),
                ("calls", s.calls.current.unwrap_or(0.0)),
            ],
        ));
    }
    if let Some(l) = &r.latency.data {
        // Routes sorted by P95, highest first: the three nearest the line
        // from below, or already over it.
        for route in l.routes.iter().filter(|r| r.p95.current.is_some()).take(3) {
            let p95 = route.p95.current.unwrap_or(0.0);
            let line = t.latency_threshold_seconds;
            let where_ = if p95 > line {
                format!("{:.0} ms over", (p95 - line) * 1000.0)
            } else {
                format!("{:.0} ms under", (line - p95) * 1000.0)
            };
            out.push(rec(
                "route_latency",
                &route.route,
                format!(
                    "Route {}: P95 {:.0} ms, {where_} the {:.0} ms line ({} on the previous window).",
                    route.route,
                    p95 * 1000.0,
                    line * 1000.0,
                    crate::fmt::change(route.p95.change),
                ),
                &[
                    ("p95_seconds", p95),
                    ("threshold_seconds", line),
                    ("margin_seconds", line - p95),
                ],
            ));
        }
    }
    if let Some(llm) = &r.llm.data {
        let mut tasks: BTreeMap<&str, Vec<(&str, f64, f64)>> = BTreeMap::new();
        for row in &llm.by_model_task {
            if let (Some(per), Some(cost)) = (row.cost_per_call_usd.current, row.cost_usd.current) {
                tasks
                    .entry(&row.task)
                    .or_default()
                    .push((&row.model, per, cost));
            }
        }
        for (task, mut models) in tasks {
            models.sort_by(|a, b| a.1.total_cmp(&b.1));
            let cost: f64 = models.iter().map(|m| m.2).sum();
            let (cheap, dear) = (models[0], models[models.len() - 1]);
            let text = if models.len() > 1 {
                format!(
                    "Task {task}: {} costs ${:.4} a call, {} ${:.4} ({:.1}×); ${cost:.2} this window. Move \
                     the task to {} where its answers are good enough.",
                    dear.0,
                    dear.1,
                    cheap.0,
                    cheap.1,
                    dear.1 / cheap.1.max(f64::MIN_POSITIVE),
                    cheap.0
                )
            } else {
                format!(
                    "Task {task}: one model, {}, at ${:.4} a call (${cost:.2} this window); a smaller model \
                     is the lever if the task allows it.",
                    cheap.0, cheap.1
                )
            };
            let mut figures = vec![("cost_usd", cost), ("cheapest_cost_per_call_usd", cheap.1)];
            if models.len() > 1 {
                figures.push(("dearest_cost_per_call_usd", dear.1));
            }
            out.push(rec("model_choice", task, text, &figures));
        }
    }
    out
}

/// Grew by more than 1 % of its previous total time (float noise is not growth).
fn grew(s: &crate::model::Statement) -> bool {
    growth(s) > 0.01 * s.total_seconds.previous.unwrap_or(0.0) && growth(s) > 0.0
}

fn finding(kind: &str, subject: &str, value: f64, threshold: f64) -> Finding {
    use crate::fmt::{change, count, duration, ms, pct};
    let text = match kind {
        "route_p95" => format!("P95 {} over {}", ms(Some(value)), ms(Some(threshold))),
        "route_regressed" => format!(
            "P95 {} on the previous window (limit +{})",
            change(Some(value)),
            pct(Some(threshold))
        ),
        "availability_budget_spent" | "latency_budget_spent" => {
            format!("{} of the error budget spent", pct(Some(value)))
        }
        "pool_utilization" => format!(
            "peak utilization {} (threshold {})",
            pct(Some(value)),
            pct(Some(threshold))
        ),
        "cache_hit_ratio" => format!(
            "hit rate {} (threshold {})",
            pct(Some(value)),
            pct(Some(threshold))
        ),
        "alert_fired" => format!("fired for {}", duration(Some(value))),
        _ => format!(
            "{} (threshold {})",
            count(Some(value)),
            count(Some(threshold))
        ),
    };
    Finding {
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        value,
        threshold,
        text,
    }
}

pub fn findings(r: &Report) -> Vec<Finding> {
    let t = &r.thresholds;
    let mut out = Vec::new();
    for route in r.latency.data.iter().flat_map(|l| &l.routes) {
        if let Some(p95) = route
            .p95
            .current
            .filter(|p| *p > t.latency_threshold_seconds)
        {
            out.push(finding(
                "route_p95",
                &route.route,
                p95,
                t.latency_threshold_seconds,
            ));
        }
        if let (true, Some(c)) = (route.regressed, route.p95.change) {
            out.push(finding(
                "route_regressed",
                &route.route,
                c,
                t.regression_ratio,
            ));
        }
    }
    if let Some(tr) = &r.traffic.data {
        if let Some(s) = tr.availability_budget_spent.current.filter(|s| *s > 1.0) {
            out.push(finding("availability_budget_spent", "service", s, 1.0));
        }
        if let Some(s) = tr.latency_budget_spent.current.filter(|s| *s > 1.0) {
            out.push(finding("latency_budget_spent", "service", s, 1.0));
        }
    }
    for p in r.pools.data.iter().flatten() {
        if let Some(u) = p
            .peak_utilization
            .current
            .filter(|u| *u > t.pool_utilization_threshold)
        {
            out.push(finding(
                "pool_utilization",
                &p.pool,
                u,
                t.pool_utilization_threshold,
            ));
        }
        if let Some(n) = p.timeouts.current.filter(|n| *n > 0.0) {
            out.push(finding("pool_timeouts", &p.pool, n, 0.0));
        }
    }
    for c in r.caches.data.iter().flat_map(|c| &c.caches) {
        if let Some(h) = c
            .hit_ratio
            .current
            .filter(|h| *h < t.cache_hit_ratio_threshold)
        {
            out.push(finding(
                "cache_hit_ratio",
                &c.cache,
                h,
                t.cache_hit_ratio_threshold,
            ));
        }
    }
    for a in r.alerts.data.iter().flatten() {
        if let Some(s) = a.firing_seconds.current.filter(|s| *s > 0.0) {
            out.push(finding("alert_fired", &a.alertname, s, 0.0));
        }
    }
    for l in r.pipeline.data.iter().flat_map(|p| &p.losses) {
        if let Some(n) = l.count.current.filter(|n| *n > 0.0) {
            out.push(finding(
                "telemetry_loss",
                &format!("{} {}", l.signal, l.stage),
                n,
                0.0,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_size_is_littles_law_plus_p95_headroom() {
        // 100 acquires/s × 50 ms = 5 in use; 5 + 1.645·√5 = 8.68.
        assert_eq!(pool_size(100.0 * 0.05), 9);
        assert_eq!(pool_size(0.0), 1);
        assert_eq!(pool_size(100.0), 117);
    }
}
