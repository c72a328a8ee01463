//! The view's N+1 rows: one series per (route, statement summary), each
//! record a request that ran the statement past `DB_N_PLUS_ONE_THRESHOLD`
//! times in a row (the HTTP layer records it as the request ends). The
//! value observed is the run's length, so the series' count is the
//! occurrences in the window, its maximum the longest run, and its kept
//! traces those with the longest runs.

use std::sync::Arc;

use opentelemetry::trace::TraceId;
use serde::Serialize;

use super::clock::Clock;
use super::handle::Stats;
use super::series::Series;
use crate::names::OTHER;

/// (route, statement) pairs with a row of their own; later ones share the
/// `other` row (each row is a full series, ≈ 120 KB once made).
pub(crate) const MAX_ROWS: usize = 16;

/// Separates the route from the summary in a row's name.
const SEP: char = '\u{1f}';

/// One (route, statement) pair's N+1 row.
#[derive(Clone)]
pub struct NPlusOneStats {
    pub(crate) series: Arc<Series>,
    pub(crate) clock: Clock,
}

impl std::fmt::Debug for NPlusOneStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NPlusOneStats").finish_non_exhaustive()
    }
}

impl NPlusOneStats {
    /// Records one request that ran the statement `count` times in a row;
    /// `trace_id` (or [`TraceId::INVALID`]) is kept if among the longest.
    pub fn record(&self, count: u32, trace_id: TraceId) {
        if let Some(slot) = self.series.slot(self.clock.minute()) {
            slot.observe(u64::from(count), false);
            slot.offer_trace(u64::from(count), trace_id);
        }
    }
}

/// One route's N+1 of one statement over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NPlusOneFigures {
    /// `METHOD template`, or `other` (past the view's cap).
    pub route: String,
    /// The repeated statement's `db.query.summary` (`other` past the cap).
    pub summary: String,
    /// Requests that ran it past the threshold in the window.
    pub occurrences: u64,
    /// The longest run seen.
    pub max_repeats: u64,
    /// The requests with the longest runs: (trace ID, run length).
    pub traces: Vec<(String, u64)>,
}

impl Stats {
    /// The N+1 row of `summary` on `route` (`METHOD template`).
    pub fn n_plus_one(&self, route: &str, summary: &str) -> NPlusOneStats {
        NPlusOneStats {
            series: self
                .0
                .n_plus_one
                .resolve(&format!("{route}{SEP}{summary}"), ()),
            clock: self.0.clock.clone(),
        }
    }

    /// Each (route, statement) with an N+1 in the window, most
    /// occurrences first.
    pub(super) fn n_plus_one_figures(&self, now: u64, minutes: u64) -> Vec<NPlusOneFigures> {
        let mut out: Vec<NPlusOneFigures> = self
            .0
            .n_plus_one
            .rows()
            .into_iter()
            .filter_map(|r| {
                let m = r.series.window(now, minutes);
                let occurrences = m.count();
                if occurrences == 0 {
                    return None;
                }
                let (route, summary) = r.name.split_once(SEP).unwrap_or((OTHER, OTHER));
                Some(NPlusOneFigures {
                    route: route.to_owned(),
                    summary: summary.to_owned(),
                    occurrences,
                    max_repeats: m.max_us,
                    traces: m.slowest.iter().map(|(n, t)| (t.to_string(), *n)).collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.occurrences
                .cmp(&a.occurrences)
                .then(b.max_repeats.cmp(&a.max_repeats))
        });
        out
    }
}
