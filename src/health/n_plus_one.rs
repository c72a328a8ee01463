//! The N+1 section of `/health/detailed` and its recommendations: each
//! route that ran one statement past `DB_N_PLUS_ONE_THRESHOLD` times in a
//! row in the window, with trace links (`crate::n_plus_one`).

use serde::Serialize;

use super::advice::{AdviceFigures, Recommendation};
use super::detailed::TraceLink;
use crate::config::HealthConfig;
use crate::names::OTHER;
use crate::stats::Snapshot;

/// How many routes the section and the advice name at most.
const WORST: usize = 5;
/// Trace links per route.
const TRACES: usize = 3;

/// One route's N+1 of one statement over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NPlusOneRow {
    /// `METHOD template`, or `other`.
    pub route: String,
    /// The repeated statement's `db.query.summary`.
    pub summary: String,
    /// Requests that ran it past the threshold in the window.
    pub occurrences: u64,
    /// The longest run seen in one request.
    pub max_repeats: u64,
    /// The requests with the longest runs; `duration_ms` is not measured
    /// here (0).
    pub traces: Vec<TraceLink>,
}

/// The worst (route, statement) pairs, most occurrences first.
pub(crate) fn section(s: &Snapshot, c: &HealthConfig) -> Vec<NPlusOneRow> {
    s.n_plus_one
        .iter()
        .take(WORST)
        .map(|r| NPlusOneRow {
            route: r.route.clone(),
            summary: r.summary.clone(),
            occurrences: r.occurrences,
            max_repeats: r.max_repeats,
            traces: r
                .traces
                .iter()
                .take(TRACES)
                .map(|(id, _)| TraceLink::new(id, 0.0, c))
                .collect(),
        })
        .collect()
}

/// One `n_plus_one` recommendation per route and statement in the section.
pub(crate) fn recommendations(s: &Snapshot, out: &mut Vec<Recommendation>) {
    for r in s
        .n_plus_one
        .iter()
        .filter(|r| r.summary != OTHER)
        .take(WORST)
    {
        out.push(Recommendation {
            kind: "n_plus_one",
            message: format!(
                "`{}` runs `{}` up to {} times in a row per request ({} requests in the window): \
                 load the rows in one statement, batched with `= ANY($1)` or a join.",
                r.route, r.summary, r.max_repeats, r.occurrences
            ),
            figures: AdviceFigures::NPlusOne {
                route: r.route.clone(),
                summary: r.summary.clone(),
                occurrences: r.occurrences,
                max_repeats: r.max_repeats,
            },
        });
    }
}
