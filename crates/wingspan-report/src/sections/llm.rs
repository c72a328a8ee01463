//! LLM calls, tokens and cost by model and task, and the cost per request of
//! the LLM routes (`wingspan_route_class="llm"`).
//!
//! Calls and tokens carry the model as requested; cost carries the pricing
//! table's entry (the book's LLM chapter, "Pricing"). They join on the label's value, so a
//! dated model name (`claude-sonnet-4-5-20250929`) shows its calls and its
//! cost on two rows.

use std::collections::BTreeMap;

use crate::collect::Ctx;
use crate::model::{Llm, ModelTask, Section, Trend};
use crate::prom::PromError;

const MODEL: &str = "gen_ai_request_model";
const TASK: &str = "wingspan_gen_ai_task";

pub fn collect(ctx: &Ctx) -> Result<Section<Llm>, PromError> {
    let w = ctx.w();
    let by = |metric: &str, matchers: &str| {
        ctx.trends(
            &format!(
                "sum by ({MODEL}, {TASK}) (increase({}[{w}]))",
                ctx.m(metric, matchers)
            ),
            &[MODEL, TASK],
        )
    };
    let calls = by("gen_ai_client_operation_duration_seconds_count", "")?;
    let cost = by("wingspan_gen_ai_cost_total", "")?;
    if calls.is_empty() && cost.is_empty() {
        return Ok(Section::none(
            "No gen_ai_client_operation_duration_seconds or wingspan_gen_ai_cost_total series in either \
             window: the service made no LLM call through wingspan::llm.",
        ));
    }
    let input = by(
        "gen_ai_client_token_usage_sum",
        r#"gen_ai_token_type="input""#,
    )?;
    let output = by(
        "gen_ai_client_token_usage_sum",
        r#"gen_ai_token_type="output""#,
    )?;
    let mut keys: Vec<&Vec<String>> = calls.keys().chain(cost.keys()).collect();
    keys.sort();
    keys.dedup();
    let get = |m: &BTreeMap<Vec<String>, Trend>, k: &Vec<String>| {
        m.get(k)
            .map(|t| Trend::counted(t.current, t.previous))
            .unwrap_or(Trend::counted(None, None))
    };
    let per = |num: Option<f64>, den: Option<f64>| match den {
        Some(d) if d > 0.0 => num.map(|n| n / d),
        _ => None,
    };
    let mut rows: Vec<ModelTask> = keys
        .into_iter()
        .map(|k| {
            let c = get(&calls, k);
            let usd = get(&cost, k);
            ModelTask {
                model: k[0].clone(),
                task: if k[1].is_empty() {
                    "(none)".to_owned()
                } else {
                    k[1].clone()
                },
                calls: c,
                input_tokens: get(&input, k),
                output_tokens: get(&output, k),
                cost_per_call_usd: Trend::new(
                    per(usd.current, c.current),
                    per(usd.previous, c.previous),
                ),
                cost_usd: usd,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.cost_usd
            .current
            .unwrap_or(0.0)
            .total_cmp(&a.cost_usd.current.unwrap_or(0.0))
    });
    let total = |f: fn(&ModelTask) -> Trend| {
        rows.iter().fold((0.0, 0.0), |(c, p), r| {
            let t = f(r);
            (c + t.current.unwrap_or(0.0), p + t.previous.unwrap_or(0.0))
        })
    };
    let (calls_c, calls_p) = total(|r| r.calls);
    let (cost_c, cost_p) = total(|r| r.cost_usd);
    let (req_c, req_p) = ctx.single(&format!(
        "sum(increase({}[{w}]))",
        ctx.m(
            "http_server_request_duration_seconds_count",
            r#"wingspan_route_class="llm""#
        )
    ))?;
    let requests = Trend::counted(req_c, req_p);
    Ok(Section::some(Llm {
        by_model_task: rows,
        calls: Trend::new(Some(calls_c), Some(calls_p)),
        cost_usd: Trend::new(Some(cost_c), Some(cost_p)),
        cost_per_llm_request_usd: Trend::new(
            per(Some(cost_c), requests.current),
            per(Some(cost_p), requests.previous),
        ),
        llm_route_requests: requests,
    }))
}
