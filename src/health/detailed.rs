//! The `/health/detailed` document (schema in the README).

use serde_json::{json, Value};

use super::advice;
use crate::config::HealthConfig;
use crate::http::RouteClass;
use crate::stats::{Figures, QueryFigures, Snapshot, Stats};

/// How many statements each slow-query table lists.
const SLOW_QUERIES: usize = 10;

fn figures(f: &Figures) -> Value {
    json!({
        "requests": f.count,
        "errors": f.errors,
        "request_rate_per_s": f.rate_per_s,
        "requests_per_minute": f.rate_per_s * 60.0,
        "error_rate": f.error_rate,
        "p50_latency_ms": f.p50_ms,
        "p95_latency_ms": f.p95_ms,
        "p99_latency_ms": f.p99_ms,
        "mean_latency_ms": f.mean_ms,
        "max_latency_ms": f.max_ms,
    })
}

fn query_row(q: &QueryFigures) -> Value {
    let f = &q.figures;
    json!({
        "summary": q.summary,
        "calls": f.count,
        "errors": f.errors,
        "total_ms": f.total_ms,
        "mean_ms": f.mean_ms,
        "p50_ms": f.p50_ms,
        "p95_ms": f.p95_ms,
        "p99_ms": f.p99_ms,
        "max_ms": f.max_ms,
    })
}

fn database(s: &Snapshot) -> Value {
    let q = &s.queries;
    let pool = s.pool;
    json!({
        "pool_utilization": pool.map(|p| p.utilization()),
        "active_connections": pool.map(|p| p.active()),
        "idle_connections": pool.map(|p| p.idle),
        "max_connections": pool.map(|p| p.max),
        "open_connections": pool.map(|p| p.size),
        "waiting": pool.map(|p| p.waiting),
        "acquires": s.acquire.count,
        "acquires_per_s": s.acquire.rate_per_s,
        "acquire_wait_p95_ms": s.acquire.p95_ms,
        "acquire_timeouts": s.acquire.errors,
        "hold_mean_ms": s.hold.mean_ms,
        "hold_p95_ms": s.hold.p95_ms,
        "queries": q.count,
        "query_errors": q.errors,
        "avg_query_time_ms": q.mean_ms,
        "query_p50_ms": q.p50_ms,
        "query_p95_ms": q.p95_ms,
        "query_p99_ms": q.p99_ms,
    })
}

fn slow_queries(s: &Snapshot) -> Value {
    let mut by_total: Vec<&QueryFigures> = s
        .statements
        .iter()
        .filter(|q| q.figures.count > 0)
        .collect();
    let mut by_p95 = by_total.clone();
    by_total.sort_by(|a, b| b.figures.total_ms.total_cmp(&a.figures.total_ms));
    by_p95.sort_by(|a, b| b.figures.p95_ms.total_cmp(&a.figures.p95_ms));
    let rows = |v: Vec<&QueryFigures>| -> Vec<Value> {
        v.into_iter().take(SLOW_QUERIES).map(query_row).collect()
    };
    json!({ "by_total_time": rows(by_total), "by_p95": rows(by_p95) })
}

fn cache(s: &Snapshot) -> Value {
    let c = &s.cache;
    let names: Vec<&_> = s.caches.iter().filter(|n| n.ops > 0).collect();
    json!({
        "hit_rate": c.hit_rate,
        "hits": c.hits,
        "misses": c.misses,
        "errors": c.errors,
        "ops": c.ops,
        "ops_per_s": c.ops_per_s,
        "p95_ms": c.p95_ms,
        "connected": s.cache_server.map(|g| g.connected),
        "memory_usage_bytes": s.cache_server.and_then(|g| g.memory_used_bytes),
        "by_name": names,
    })
}

fn routes(s: &Snapshot, class: RouteClass) -> Vec<Value> {
    s.routes
        .iter()
        .filter(|r| r.class == class && r.figures.count > 0)
        .map(|r| {
            let mut v = figures(&r.figures);
            v["route"] = json!(r.route);
            v["client_errors"] = json!(r.client_errors);
            v
        })
        .collect()
}

fn gen_ai(s: &Snapshot) -> Value {
    let models: Vec<&_> = s.models.iter().filter(|m| m.calls > 0).collect();
    json!({
        "calls": models.iter().map(|m| m.calls).sum::<u64>(),
        "errors": models.iter().map(|m| m.errors).sum::<u64>(),
        "input_tokens": models.iter().map(|m| m.input_tokens).sum::<u64>(),
        "output_tokens": models.iter().map(|m| m.output_tokens).sum::<u64>(),
        "cost_usd": models.iter().map(|m| m.cost_usd).sum::<f64>(),
        "models": models,
    })
}

fn slowest_traces(s: &Snapshot, c: &HealthConfig) -> Vec<Value> {
    s.routes
        .iter()
        .filter(|r| !r.slowest.is_empty())
        .map(|r| {
            let traces: Vec<Value> = r
                .slowest
                .iter()
                .map(|t| {
                    json!({
                        "trace_id": t.trace_id,
                        "duration_ms": t.duration_ms,
                        "url": c.trace_url.as_ref().map(|u| u.replace("{trace_id}", &t.trace_id)),
                    })
                })
                .collect();
            json!({ "route": r.route, "class": r.class, "traces": traces })
        })
        .collect()
}

/// The whole document, over the configured window.
pub(crate) fn document(stats: &Stats, c: &HealthConfig, uptime_s: f64) -> Value {
    let s = stats.snapshot(c.window_minutes);
    let alerts = advice::alerts(&s, c);
    let breached: Vec<&str> = alerts
        .iter()
        .filter(|a| a.breached)
        .map(|a| a.name)
        .collect();
    let mut api = figures(&s.api);
    api["windows"] = json!({
        "1m": figures(&stats.snapshot(1).api),
        "5m": figures(&stats.snapshot(5).api),
        "15m": figures(&stats.snapshot(15).api),
    });
    api["routes"] = json!(routes(&s, RouteClass::Standard));
    let mut llm = figures(&s.llm);
    llm["routes"] = json!(routes(&s, RouteClass::Llm));
    api["llm"] = llm;
    json!({
        "status": if breached.is_empty() { "ok" } else { "degraded" },
        "breached": breached,
        "generated_at_ms": s.at_ms,
        "uptime_s": uptime_s,
        "window": { "minutes": s.window_minutes, "seconds": s.seconds },
        "database": database(&s),
        "slow_queries": slow_queries(&s),
        "cache": cache(&s),
        "api_performance": api,
        "gen_ai": gen_ai(&s),
        "slowest_traces": slowest_traces(&s, c),
        "alerts": alerts,
        "recommendations": advice::recommendations(&s, c),
        "history": stats.history(),
    })
}
