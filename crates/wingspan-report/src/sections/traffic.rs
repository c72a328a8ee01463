//! Request and error counts, the error ratio and the error budgets spent
//! against the SLO targets of alerts/thresholds.json (availability: every
//! route; latency: non-LLM routes slower than the threshold).

use std::collections::BTreeMap;

use crate::collect::{day_of, Ctx};
use crate::model::{DailyTraffic, Section, Traffic, Trend};
use crate::prom::PromError;

const COUNT: &str = "http_server_request_duration_seconds_count";
const BUCKET: &str = "http_server_request_duration_seconds_bucket";

pub fn collect(ctx: &Ctx) -> Result<Section<Traffic>, PromError> {
    let w = ctx.w();
    let (req_c, req_p) = ctx.single(&format!("sum(increase({}[{w}]))", ctx.m(COUNT, "")))?;
    if req_c.is_none() && req_p.is_none() {
        return Ok(Section::none(
            "No http_server_request_duration_seconds series in either window: no request was served.",
        ));
    }
    let errors_query = |range: &str| {
        format!(
            "sum(increase({}[{range}]))",
            ctx.m(COUNT, r#"error_type!="""#)
        )
    };
    let (err_c, err_p) = ctx.single(&errors_query(&w))?;
    let le = ctx.thresholds.latency_threshold_seconds;
    let (fast_c, fast_p) = ctx.single(&format!(
        "sum(increase({}[{w}]))",
        ctx.m(BUCKET, &format!(r#"wingspan_route_class!="llm",le="{le}""#))
    ))?;
    let (std_c, std_p) = ctx.single(&format!(
        "sum(increase({}[{w}]))",
        ctx.m(COUNT, r#"wingspan_route_class!="llm""#)
    ))?;

    let requests = Trend::counted(req_c, req_p);
    let errors = Trend::counted(err_c, err_p);
    let ratio = |num: Option<f64>, den: Option<f64>| match (num, den) {
        (n, Some(d)) if d > 0.0 => Some(n.unwrap_or(0.0) / d),
        _ => None,
    };
    let error_ratio = Trend::new(
        ratio(errors.current, requests.current),
        ratio(errors.previous, requests.previous),
    );
    let slow = |fast: Option<f64>, all: Option<f64>| ratio(fast, all).map(|f| (1.0 - f).max(0.0));
    let slow_ratio = Trend::new(slow(fast_c, std_c), slow(fast_p, std_p));
    let avail_budget = 1.0 - ctx.thresholds.slo_availability_target;
    let latency_budget = 1.0 - ctx.thresholds.slo_latency_target;
    let spent = |r: Option<f64>, budget: f64| r.filter(|_| budget > 0.0).map(|r| r / budget);

    let (start, end, step) = ctx.day_ends();
    let day = format!("{}s", step.round() as u64);
    let mut daily: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for s in ctx.prom.range(
        &format!("sum(increase({}[{day}]))", ctx.m(COUNT, "")),
        start,
        end,
        step,
    )? {
        for (t, v) in s.points {
            daily.entry(t.round() as u64).or_default().0 = v;
        }
    }
    for s in ctx.prom.range(&errors_query(&day), start, end, step)? {
        for (t, v) in s.points {
            daily.entry(t.round() as u64).or_default().1 = v;
        }
    }
    let daily = daily
        .into_iter()
        .map(|(t, (requests, errors))| DailyTraffic {
            end: t as f64,
            date: day_of(t as f64),
            requests,
            errors,
        })
        .collect();
    Ok(Section::some(Traffic {
        requests_per_second: Trend::new(
            requests.current.map(|r| r / ctx.secs),
            requests.previous.map(|r| r / ctx.secs),
        ),
        requests,
        errors,
        availability_budget_spent: Trend::new(
            spent(error_ratio.current, avail_budget),
            spent(error_ratio.previous, avail_budget),
        ),
        error_ratio,
        latency_budget_spent: Trend::new(
            spent(slow_ratio.current, latency_budget),
            spent(slow_ratio.previous, latency_budget),
        ),
        slow_ratio,
        daily,
    }))
}
