//! One capture on one pooled connection: the generic plan of a statement,
//! without running it and without any parameter value.
//!
//! In a `READ ONLY` transaction with `plan_cache_mode = force_generic_plan`
//! (PostgreSQL 12 and later), `statement_timeout` and `lock_timeout` set to
//! the capture's timeout: `PREPARE` the statement's own text, then
//! `EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE` it with a `NULL` per parameter
//! (a generic plan does not look at them), never `ANALYZE`; `DEALLOCATE`,
//! `ROLLBACK`. A connection on which any step failed or ran out of time is
//! discarded rather than reused: it may still be in the transaction or
//! hold the prepared statement.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::Timeouts;
use tokio_postgres::SimpleQueryMessage;

use super::parse;
use crate::db::shared::Shared;
use crate::db::DbError;
use crate::stats::PlanNode;

/// The prepared statement's name on the borrowed connection (gone before
/// the connection is returned).
const NAME: &str = "wingspan_plan";

/// How much longer than the server's bound the client waits, so the
/// server's clean error wins.
const CLIENT_MARGIN: Duration = Duration::from_millis(500);

/// Why a capture gave no plan. Its `Display` holds no server message.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No idle connection and no room for a new one: the capture never
    /// queues behind requests.
    Busy,
    /// The client-side bound elapsed.
    Timeout(Duration),
    /// A step failed (SQLSTATE only, as every `DbError`).
    Db(DbError),
    /// `EXPLAIN` answered something that is not a JSON plan.
    NoPlan,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Busy => f.write_str("no idle connection"),
            Self::Timeout(d) => write!(f, "no answer within {d:?}"),
            Self::Db(e) => write!(f, "{e}"),
            Self::NoPlan => f.write_str("EXPLAIN gave no JSON plan"),
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(DbError::from_pg(e))
    }
}

/// The plan of `sql`, taken on an idle connection of `shared` (or a new
/// one when the pool has room; never waiting for one) within
/// `timeout` (server side) and a little more (client side).
pub(crate) async fn capture(
    shared: &Shared,
    sql: &str,
    timeout: Duration,
) -> Result<Vec<PlanNode>, Failure> {
    let no_wait = Timeouts {
        wait: Some(Duration::ZERO),
        create: Some(shared.cfg.connect_timeout),
        recycle: Some(shared.cfg.connect_timeout),
    };
    let obj = shared
        .pool
        .timeout_get(&no_wait)
        .await
        .map_err(|_| Failure::Busy)?;
    let state = Arc::clone(&obj.state);
    let bound = timeout + CLIENT_MARGIN;
    let result = match tokio::time::timeout(bound, plan(&obj.client, sql, timeout)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(bound)),
    };
    if result.is_err() {
        state.broken.store(true, Ordering::Relaxed);
    }
    if !shared.cfg.pool_enabled {
        drop(deadpool::managed::Object::take(obj));
    }
    result
}

async fn plan(
    c: &tokio_postgres::Client,
    sql: &str,
    timeout: Duration,
) -> Result<Vec<PlanNode>, Failure> {
    let ms = timeout.as_millis().max(1);
    c.batch_execute(&format!(
        "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan; \
         SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}"
    ))
    .await?;
    // The extended protocol takes one statement: a text that held a second
    // one after a `;` fails here instead of running it.
    c.execute(&format!("PREPARE {NAME} AS {sql}"), &[]).await?;
    let params: i64 = c
        .query_one(
            "SELECT coalesce(cardinality(parameter_types), 0)::int8 \
             FROM pg_prepared_statements WHERE name = $1",
            &[&NAME],
        )
        .await?
        .get(0);
    let args = if params > 0 {
        // PostgreSQL takes at most 65 535 parameters; the bound keeps a
        // wrong answer from sizing the allocation.
        let n = usize::try_from(params).unwrap_or(0).min(65_535);
        format!("({})", vec!["NULL"; n].join(", "))
    } else {
        String::new()
    };
    // Simple protocol: the `json` column comes back as text; the command
    // is wingspan's own, with no value in it.
    let answer = c
        .simple_query(&format!(
            "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {NAME}{args}"
        ))
        .await?;
    let json = answer
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .ok_or(Failure::NoPlan)?;
    c.batch_execute(&format!("DEALLOCATE {NAME}")).await?;
    let mut nodes = parse::nodes(&json).ok_or(Failure::NoPlan)?;
    for n in nodes.iter_mut().filter(|n| n.node_type == "Seq Scan") {
        let Some(rel) = &n.relation else { continue };
        // `pg_class.reltuples`: the table's size as of its last ANALYZE
        // (-1, or 0 before PostgreSQL 14, when never analysed).
        let row = c
            .query_opt(
                "SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass($1)",
                &[&parse::qualified_ident(rel)],
            )
            .await?;
        n.table_rows = row.map(|r| r.get::<_, f64>(0)).filter(|v| *v > 0.0);
    }
    c.batch_execute("ROLLBACK").await?;
    Ok(nodes)
}
