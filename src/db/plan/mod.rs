//! Plans of slow statements (`DB_PLAN_CAPTURE`, [`PoolBuilder::capture_plans`]):
//! a background task that, at most once per `min_interval`, picks the
//! statement whose P95 over the health window crosses the threshold (past
//! the advice floors), takes its generic plan on a pooled connection
//! ([`explain`]) and keeps it in the view beside the statement.
//!
//! Off the request path: the task borrows an idle connection or opens one
//! the pool has room for (never waiting in the pool's queue), runs no span, records nothing in the
//! statement or pool figures and is not seen by N+1 detection. The same
//! statement is planned again after [`PlanCapture::RECAPTURE_AFTER`].
//!
//! [`PoolBuilder::capture_plans`]: super::PoolBuilder::capture_plans

mod explain;
mod parse;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::shared::Shared;
use crate::config::PlanCapture;
use crate::names::OTHER;
use crate::stats::{QueryPlan, Stats};

/// The shortest interval between two captures, whatever the setting.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Which statements qualify besides the threshold: the advice's floors and
/// window (`WINGSPAN_ADVICE_MIN_CALLS`, `WINGSPAN_ADVICE_MIN_DB_SHARE`,
/// `WINGSPAN_HEALTH_WINDOW_MINUTES`), so a plan is taken for what the
/// advice would name, not for a one-off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Floors {
    pub(crate) window_minutes: u64,
    pub(crate) min_calls: u64,
    pub(crate) min_db_share: f64,
}

/// A statement run once is an event, not a pattern (as in the advice).
const MIN_CALLS_FOR_SHARE: u64 = 2;

/// Statements `PREPARE` accepts and `EXPLAIN` plans without running them.
fn plannable(operation: &str) -> bool {
    matches!(
        operation,
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "VALUES" | "TABLE" | "WITH"
    )
}

/// Starts the capture task of `shared`; it holds only a `Weak` and ends
/// with the pool. Without the view there is nowhere to show a plan: no task.
pub(crate) fn spawn(shared: &Arc<Shared>, capture: PlanCapture, floors: Floors) {
    let Some(stats) = shared.stats.clone() else {
        tracing::warn!(
            target: "wingspan::db",
            "DB_PLAN_CAPTURE is on but the in-process view is off: no plan is captured"
        );
        return;
    };
    let weak = Arc::downgrade(shared);
    tokio::spawn(run(weak, stats, capture, floors));
}

async fn run(weak: Weak<Shared>, stats: Stats, capture: PlanCapture, floors: Floors) {
    let mut tick = tokio::time::interval(capture.min_interval.max(MIN_INTERVAL));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    // Summaries planned (or tried) lately: at most one per statement row of
    // the view, so bounded by its statement cap.
    let mut taken: HashMap<String, Instant> = HashMap::new();
    loop {
        tick.tick().await;
        let Some(shared) = weak.upgrade() else { return };
        if shared.pool.is_closed() {
            return;
        }
        taken.retain(|_, at| at.elapsed() < PlanCapture::RECAPTURE_AFTER);
        let Some((summary, sql)) = candidate(&shared, &stats, &capture, &floors, &taken) else {
            continue;
        };
        taken.insert(summary.clone(), Instant::now());
        match explain::capture(&shared, &sql, capture.timeout).await {
            Ok(nodes) => {
                stats.record_plan(&summary, QueryPlan::new(stats.clock().now_ms(), nodes));
            }
            // The summary is sanitized and the error carries no server
            // message (`DbError`'s rule), so neither can hold a value.
            Err(e) => tracing::debug!(
                target: "wingspan::db",
                "plan of `{summary}` not captured: {e}"
            ),
        }
    }
}

/// The statement to plan now: past the threshold and the floors, not
/// planned lately, the largest total time first, with a text the pool
/// still has cached (the text stays in memory; only its summary is shown);
/// of the texts that share its summary, the one that took the most time.
fn candidate(
    shared: &Shared,
    stats: &Stats,
    capture: &PlanCapture,
    floors: &Floors,
    taken: &HashMap<String, Instant>,
) -> Option<(String, Box<str>)> {
    let s = stats.snapshot(floors.window_minutes);
    let total: f64 = s.statements.iter().map(|q| q.figures.total_ms).sum();
    let threshold_ms = capture.p95_threshold.as_secs_f64() * 1000.0;
    let mut slow: Vec<_> = s
        .statements
        .iter()
        .filter(|q| q.summary != OTHER && !taken.contains_key(&q.summary))
        .filter(|q| q.figures.count > 0 && q.figures.p95_ms >= threshold_ms)
        .filter(|q| {
            let share = if total > 0.0 {
                q.figures.total_ms / total
            } else {
                0.0
            };
            q.figures.count >= floors.min_calls
                || (q.figures.count >= MIN_CALLS_FOR_SHARE && share >= floors.min_db_share)
        })
        .collect();
    slow.sort_by(|a, b| b.figures.total_ms.total_cmp(&a.figures.total_ms));
    slow.into_iter().find_map(|q| {
        // Several texts can share the summary: the one that took the most.
        let sql = shared.statements.max_by_key(
            |m| *m.summary == *q.summary && plannable(&m.sanitized.operation),
            |m| m.spent_us(),
        )?;
        Some((q.summary.clone(), sql))
    })
}
