//! P50/P95/P99 per non-LLM route over the window, per day, and the routes
//! whose P95 grew past the regression ratio.

use std::collections::BTreeMap;

use crate::collect::{day_of, Ctx};
use crate::model::{Daily, Latency, RouteLatency, Section, Trend};
use crate::prom::PromError;

const QUANTILES: [f64; 3] = [0.5, 0.95, 0.99];

fn quantile_query(ctx: &Ctx, q: f64, range: &str) -> String {
    format!(
        "histogram_quantile({q}, sum by (http_route, le) (increase({}[{range}])))",
        ctx.m(
            "http_server_request_duration_seconds_bucket",
            r#"wingspan_route_class!="llm""#
        )
    )
}

pub fn collect(ctx: &Ctx) -> Result<Section<Latency>, PromError> {
    let requests = ctx.trends(
        &format!(
            "sum by (http_route) (increase({}[{}]))",
            ctx.m(
                "http_server_request_duration_seconds_count",
                r#"wingspan_route_class!="llm""#
            ),
            ctx.w()
        ),
        &["http_route"],
    )?;
    if requests.is_empty() {
        return Ok(Section::none(
            "No http_server_request_duration_seconds series of non-LLM routes in either window: \
             the service served no request, or is not instrumented with wingspan::http.",
        ));
    }
    let mut quantiles: Vec<BTreeMap<Vec<String>, Trend>> = Vec::new();
    for q in QUANTILES {
        quantiles.push(ctx.trends(&quantile_query(ctx, q, &ctx.w()), &["http_route"])?);
    }
    let (start, end, step) = ctx.day_ends();
    let mut daily: BTreeMap<String, BTreeMap<u64, [Option<f64>; 3]>> = BTreeMap::new();
    for (i, q) in QUANTILES.iter().enumerate() {
        let range = format!("{}s", step.round() as u64);
        for s in ctx
            .prom
            .range(&quantile_query(ctx, *q, &range), start, end, step)?
        {
            let route = s.label("http_route").to_owned();
            for (t, v) in &s.points {
                daily
                    .entry(route.clone())
                    .or_default()
                    .entry(t.round() as u64)
                    .or_default()[i] = Some(*v);
            }
        }
    }
    let regression = ctx.thresholds.regression_ratio;
    let mut routes = Vec::new();
    for (key, req) in &requests {
        let route = key[0].clone();
        let get = |i: usize| quantiles[i].get(key).copied().unwrap_or_default();
        let p95 = get(1);
        let mut days = Vec::new();
        let mut t = start;
        while t <= end + 0.5 {
            let v = daily
                .get(&route)
                .and_then(|d| d.get(&(t.round() as u64)))
                .copied()
                .unwrap_or_default();
            days.push(Daily {
                end: t,
                date: day_of(t),
                p50: v[0],
                p95: v[1],
                p99: v[2],
            });
            t += step;
        }
        routes.push(RouteLatency {
            // The unmatched requests share one series without a route.
            route: if route.is_empty() {
                "(no route)".to_owned()
            } else {
                route
            },
            requests: Trend::counted(req.current, req.previous),
            p50: get(0),
            p95,
            p99: get(2),
            daily: days,
            regressed: p95.change.is_some_and(|c| c > regression),
        });
    }
    // The slowest first: the reader's attention goes where the P95 is.
    routes.sort_by(|a, b| {
        b.p95
            .current
            .unwrap_or(-1.0)
            .total_cmp(&a.p95.current.unwrap_or(-1.0))
    });
    let regressed = routes
        .iter()
        .filter(|r| r.regressed)
        .map(|r| r.route.clone())
        .collect();
    Ok(Section::some(Latency { routes, regressed }))
}
