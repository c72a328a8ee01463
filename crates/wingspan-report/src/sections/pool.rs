//! The database pools: utilization at its peak, acquire-wait P95, timeouts,
//! and the busiest hour's demand that the pool-size recommendation rests on.

use crate::collect::{keyed, utc, Ctx};
use crate::model::{PeakHour, PoolFigures, Section, Trend};
use crate::prom::PromError;

const POOL: &str = "db_client_connection_pool_name";
const HOUR: f64 = 3600.0;

pub fn collect(ctx: &Ctx) -> Result<Section<Vec<PoolFigures>>, PromError> {
    let w = ctx.w();
    let max_conn = keyed(
        &ctx.prom.instant(
            &format!(
                "max by ({POOL}) (max_over_time({}[{w}]))",
                ctx.m("db_client_connection_max", "")
            ),
            ctx.end,
        )?,
        &[POOL],
    );
    // The recording rule job_pool:db_client_connection:utilization, at its
    // highest over the window (a 1-minute subquery).
    let utilization = ctx.trends(
        &format!(
            "max_over_time((sum by ({POOL}) ({used}) / sum by ({POOL}) ({max}))[{w}:1m])",
            used = ctx.m(
                "db_client_connection_count",
                r#"db_client_connection_state="used""#
            ),
            max = ctx.m("db_client_connection_max", ""),
        ),
        &[POOL],
    )?;
    let wait = ctx.trends(
        &format!(
            "histogram_quantile(0.95, sum by ({POOL}, le) (increase({}[{w}])))",
            ctx.m("db_client_connection_wait_time_seconds_bucket", "")
        ),
        &[POOL],
    )?;
    let timeouts = ctx.trends(
        &format!(
            "sum by ({POOL}) (increase({}[{w}]))",
            ctx.m("db_client_connection_timeouts_total", "")
        ),
        &[POOL],
    )?;
    let mut names: Vec<Vec<String>> = max_conn
        .keys()
        .chain(utilization.keys())
        .chain(wait.keys())
        .chain(timeouts.keys())
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(Section::none(
            "No db_client_connection_* series in either window: the service has no wingspan::db pool.",
        ));
    }
    // Little's law: connections in use = acquires per second × seconds held,
    // which is the held seconds per second: rate(use_time_sum). The busiest
    // hour is the one with the highest such demand.
    let demand = ctx.prom.range(
        &format!(
            "sum by ({POOL}) (rate({}[1h]))",
            ctx.m("db_client_connection_use_time_seconds_sum", "")
        ),
        ctx.end - ctx.secs + HOUR.min(ctx.secs),
        ctx.end,
        HOUR,
    )?;
    let mut pools = Vec::new();
    for key in names {
        let name = key[0].clone();
        let peak = demand
            .iter()
            .find(|s| s.label(POOL) == name)
            .and_then(|s| s.points.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)));
        let peak_hour = match peak {
            Some((t, _)) => {
                let sel = |metric: &str| ctx.m(metric, &format!(r#"{POOL}="{}""#, escape(&name)));
                let rate = ctx.prom.instant(
                    &format!(
                        "sum(rate({}[1h]))",
                        sel("db_client_connection_use_time_seconds_count")
                    ),
                    t,
                )?;
                let held = ctx.prom.instant(
                    &format!(
                        "sum(rate({}[1h]))",
                        sel("db_client_connection_use_time_seconds_sum")
                    ),
                    t,
                )?;
                match (
                    rate.first().and_then(|s| s.value()),
                    held.first().and_then(|s| s.value()),
                ) {
                    (Some(r), Some(h)) if r > 0.0 => Some(PeakHour {
                        end: t,
                        end_utc: utc(t),
                        acquires_per_second: r,
                        mean_hold_seconds: h / r,
                    }),
                    _ => None,
                }
            }
            None => None,
        };
        pools.push(PoolFigures {
            max_connections: max_conn.get(&key).copied(),
            peak_utilization: utilization.get(&key).copied().unwrap_or_default(),
            acquire_wait_p95_seconds: wait.get(&key).copied().unwrap_or_default(),
            timeouts: timeouts
                .get(&key)
                .map(|t| Trend::counted(t.current, t.previous))
                .unwrap_or_default(),
            peak_hour,
            pool: name,
        });
    }
    Ok(Section::some(pools))
}

/// A label value inside a PromQL string literal. Any UTF-8 may be a label
/// value; PromQL's lexer ends a string at a raw line break, so those are
/// escaped too (Go's `\n`, `\r`), or a pool named over two lines would fail
/// the whole report.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn a_label_value_is_one_promql_string_whatever_it_holds() {
        assert_eq!(escape("main"), "main");
        assert_eq!(
            escape("a \"quoted\" \\ value\nover\rtwo lines"),
            r#"a \"quoted\" \\ value\nover\rtwo lines"#
        );
    }
}
