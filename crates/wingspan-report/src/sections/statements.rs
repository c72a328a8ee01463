//! Database statements by total time spent in them (operation and table,
//! the `db.client.operation.duration` attributes), the ones that grew most
//! first.

use crate::collect::Ctx;
use crate::model::{Section, Statement, Trend};
use crate::prom::PromError;

const KEYS: [&str; 2] = ["db_operation_name", "db_collection_name"];
const METRIC: &str = "db_client_operation_duration_seconds";

pub fn collect(ctx: &Ctx) -> Result<Section<Vec<Statement>>, PromError> {
    let w = ctx.w();
    let query = |suffix: &str| {
        format!(
            "sum by (db_operation_name, db_collection_name) (increase({}[{w}]))",
            ctx.m(
                &format!("{METRIC}_{suffix}"),
                r#"db_system_name="postgresql""#
            )
        )
    };
    let total = ctx.trends(&query("sum"), &KEYS)?;
    if total.is_empty() {
        return Ok(Section::none(
            "No db_client_operation_duration_seconds series of PostgreSQL in either window.",
        ));
    }
    let calls = ctx.trends(&query("count"), &KEYS)?;
    let mut out: Vec<Statement> = total
        .iter()
        .map(|(k, t)| Statement {
            operation: k[0].clone(),
            collection: k[1].clone(),
            total_seconds: Trend::counted(t.current, t.previous),
            calls: calls
                .get(k)
                .map(|c| Trend::counted(c.current, c.previous))
                .unwrap_or(Trend::counted(None, None)),
        })
        .collect();
    out.sort_by(|a, b| growth(b).total_cmp(&growth(a)));
    Ok(Section::some(out))
}

/// Seconds added to the statement's total time since the previous window.
pub fn growth(s: &Statement) -> f64 {
    s.total_seconds.current.unwrap_or(0.0) - s.total_seconds.previous.unwrap_or(0.0)
}
