//! N+1 query detection: within one instrumented HTTP request, the same
//! `db.query.summary` run more than `DB_N_PLUS_ONE_THRESHOLD` times in a row
//! (no other statement summary in between, on the same pool).
//!
//! The rule is Sentry's ("repeated sequential spans with the same
//! description, differing only in parameters"), with the summary as the
//! description: a handler that alternates two statements, runs a statement
//! a few times, or loads a set in one batch (`= ANY($1)`, a join) is not
//! flagged. Statement preparations (`PREPARE …`) neither count nor break a
//! run.
//!
//! The HTTP layer keeps a [`Tracker`] in the request's own state (only once
//! a pool with detection on exists) and, for each poll of the handler,
//! moves its state into a thread-local slot ([`Tracker::enter`]) and back
//! out afterwards; each query compares its summary with the slot's last one
//! (a pointer compare, a string compare when the pointers differ). No
//! allocation unless a statement repeats past the threshold: an earlier
//! version put the tracker in the request's OpenTelemetry `Context`, whose
//! `with_value` built a hash map per request (about 2 000 instructions,
//! measured with callgrind on the process bench). Statements run by a task
//! the handler spawns are outside the request's polls, and are not
//! counted. When the request ends, each flagged (summary, pool) becomes one
//! event on the server span, one add to the `wingspan.db.n_plus_one` counter
//! by `http.route` and summary, and one record in the in-process view.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use opentelemetry::metrics::{BoundCounter, Counter, Meter};
use opentelemetry::trace::{SpanRef, TraceId};
use opentelemetry::KeyValue;

use crate::capped::Capped;
use crate::names;

/// Set once a pool with detection on is built: until then the HTTP layer
/// adds nothing to a request.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Called by a pool whose threshold is above 0.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// A tracker for a new request, when detection is on.
pub(crate) fn tracker() -> Option<Tracker> {
    ENABLED.load(Ordering::Relaxed).then(Tracker::default)
}

thread_local! {
    /// The run state of the request being polled on this thread.
    static CURRENT: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// One request's run of statements.
#[derive(Default)]
pub(crate) struct Tracker {
    state: State,
}

/// While alive, the tracker's state is this thread's current one.
pub(crate) struct Entered<'a> {
    tracker: &'a mut Tracker,
    /// The slot's state before: a request polled inside another's poll.
    outer: Option<State>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let outer = self.outer.take();
        let mine = CURRENT.with(|c| c.replace(outer));
        self.tracker.state = mine.unwrap_or_default();
    }
}

#[derive(Default)]
struct State {
    run: Option<Run>,
    flagged: Vec<Flagged>,
}

struct Run {
    summary: Arc<str>,
    pool: Arc<str>,
    count: u32,
    threshold: u32,
}

/// A statement run past its pool's threshold in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flagged {
    pub(crate) summary: Arc<str>,
    pub(crate) pool: Arc<str>,
    /// The longest run of it in the request.
    pub(crate) count: u32,
}

fn same(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}

impl State {
    fn close(&mut self, run: Run) {
        if run.count <= run.threshold {
            return;
        }
        match self
            .flagged
            .iter_mut()
            .find(|f| same(&f.summary, &run.summary) && same(&f.pool, &run.pool))
        {
            Some(f) => f.count = f.count.max(run.count),
            None => self.flagged.push(Flagged {
                summary: run.summary,
                pool: run.pool,
                count: run.count,
            }),
        }
    }
}

impl State {
    /// One statement of `pool` ran.
    fn observe(&mut self, summary: &Arc<str>, pool: &Arc<str>, threshold: u32) {
        if let Some(r) = &mut self.run {
            if same(&r.summary, summary) && same(&r.pool, pool) {
                r.count = r.count.saturating_add(1);
                return;
            }
        }
        let next = Run {
            summary: Arc::clone(summary),
            pool: Arc::clone(pool),
            count: 1,
            threshold,
        };
        if let Some(old) = self.run.replace(next) {
            self.close(old);
        }
    }
}

impl Tracker {
    /// Makes this tracker the thread's current one until the guard drops
    /// (the HTTP layer holds it across one poll of the handler).
    pub(crate) fn enter(&mut self) -> Entered<'_> {
        let mine = std::mem::take(&mut self.state);
        let outer = CURRENT.with(|c| c.replace(Some(mine)));
        Entered {
            tracker: self,
            outer,
        }
    }

    /// What the request ran past the threshold; ends the current run.
    pub(crate) fn finish(&mut self) -> Vec<Flagged> {
        let s = &mut self.state;
        if let Some(run) = s.run.take() {
            s.close(run);
        }
        std::mem::take(&mut s.flagged)
    }
}

/// A statement of `pool` ran: counted when it runs inside an instrumented
/// request's poll and `threshold` is above 0.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
#[inline]
pub(crate) fn observe(summary: &Arc<str>, pool: &Arc<str>, threshold: u32) {
    if threshold == 0 {
        return;
    }
    CURRENT.with_borrow_mut(|current| {
        if let Some(state) = current {
            state.observe(summary, pool, threshold);
        }
    });
}

/// The most (route, summary) pairs the counter keeps a series of; later
/// pairs share one with both attributes `other`.
const MAX_SERIES: usize = 64;

/// The `wingspan.db.n_plus_one` counter, bound per (route, summary).
pub(crate) struct NPlusOneCounter {
    counter: Counter<u64>,
    series: Capped<BoundCounter<u64>>,
}

impl NPlusOneCounter {
    pub(crate) fn new(meter: &Meter) -> Self {
        Self {
            counter: meter
                .u64_counter(names::WINGSPAN_DB_N_PLUS_ONE)
                .with_unit("{occurrence}")
                .with_description(
                    "Requests that ran one statement more than DB_N_PLUS_ONE_THRESHOLD times in a row, by route and statement summary.",
                )
                .build(),
            series: Capped::new(MAX_SERIES),
        }
    }

    fn add(&self, route: &str, summary: &str) {
        let key = format!("{route}\u{1f}{summary}");
        self.series.with(
            &key,
            |k| {
                let (route, summary) = k.split_once('\u{1f}').unwrap_or((k, k));
                self.counter.bind(&[
                    KeyValue::new(names::HTTP_ROUTE, route.to_owned()),
                    KeyValue::new(names::DB_QUERY_SUMMARY, summary.to_owned()),
                ])
            },
            |c| c.add(1),
        );
    }
}

/// Ends a request's detection: one event on `span` per flagged statement
/// (no span: a request of a disabled SDK), the counter, and the view
/// (`stats`, under `view_route`, with the trace).
pub(crate) fn report(
    tracker: &mut Tracker,
    span: Option<&SpanRef<'_>>,
    route: Option<&str>,
    counter: &NPlusOneCounter,
    stats: Option<(&crate::stats::Stats, &str)>,
) {
    let flagged = tracker.finish();
    if flagged.is_empty() {
        return;
    }
    let route = route.unwrap_or(names::OTHER);
    let trace_id = span.map_or(TraceId::INVALID, |s| s.span_context().trace_id());
    for f in flagged {
        if let Some(span) = span {
            span.add_event(
                names::WINGSPAN_DB_N_PLUS_ONE,
                vec![
                    KeyValue::new(names::DB_QUERY_SUMMARY, f.summary.to_string()),
                    KeyValue::new(names::WINGSPAN_DB_N_PLUS_ONE_COUNT, i64::from(f.count)),
                    KeyValue::new(names::DB_CLIENT_CONNECTION_POOL_NAME, f.pool.to_string()),
                ],
            );
        }
        counter.add(route, &f.summary);
        if let Some((stats, view_route)) = stats {
            stats
                .n_plus_one(view_route, &f.summary)
                .record(f.count, trace_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &mut Tracker, seq: &[&Arc<str>], threshold: u32) {
        let pool: Arc<str> = Arc::from("main");
        let _entered = t.enter();
        for s in seq {
            observe(s, &pool, threshold);
        }
    }

    #[test]
    fn a_run_past_the_threshold_is_flagged_once_with_its_longest_run() {
        let a: Arc<str> = Arc::from("SELECT profiles");
        let b: Arc<str> = Arc::from("SELECT matches");
        let mut t = Tracker::default();
        let mut seq = vec![&b];
        seq.extend(std::iter::repeat_n(&a, 10));
        seq.push(&b);
        seq.extend(std::iter::repeat_n(&a, 7));
        run(&mut t, &seq, 5);
        let f = t.finish();
        assert_eq!(f.len(), 1);
        assert_eq!(&*f[0].summary, "SELECT profiles");
        assert_eq!(f[0].count, 10);
        assert!(t.finish().is_empty());
    }

    #[test]
    fn only_statements_inside_an_entered_tracker_with_a_threshold_count() {
        let a: Arc<str> = Arc::from("SELECT a");
        let pool: Arc<str> = Arc::from("main");
        // Outside a request: no tracker, nothing to do.
        observe(&a, &pool, 5);
        let mut t = Tracker::default();
        {
            let _entered = t.enter();
            for _ in 0..10 {
                observe(&a, &pool, 0);
            }
        }
        assert!(t.finish().is_empty(), "threshold 0 is off");
        for _ in 0..3 {
            let _entered = t.enter();
            for _ in 0..4 {
                observe(&a, &pool, 5);
            }
        }
        // Left between polls: not counted.
        observe(&a, &pool, 5);
        assert_eq!(t.finish()[0].count, 12, "a run spans the request's polls");
    }

    #[test]
    fn a_request_polled_inside_another_keeps_its_own_run() {
        let a: Arc<str> = Arc::from("SELECT a");
        let b: Arc<str> = Arc::from("SELECT b");
        let pool: Arc<str> = Arc::from("main");
        let (mut outer, mut inner) = (Tracker::default(), Tracker::default());
        {
            let _o = outer.enter();
            for _ in 0..3 {
                observe(&a, &pool, 5);
            }
            {
                let _i = inner.enter();
                for _ in 0..6 {
                    observe(&b, &pool, 5);
                }
            }
            for _ in 0..3 {
                observe(&a, &pool, 5);
            }
        }
        assert_eq!(outer.finish()[0].count, 6);
        assert_eq!(&*inner.finish()[0].summary, "SELECT b");
    }

    #[test]
    fn equal_text_in_another_allocation_continues_the_run() {
        let mut t = Tracker::default();
        let owned: Vec<Arc<str>> = (0..6).map(|_| Arc::from("SELECT users")).collect();
        let seq: Vec<&Arc<str>> = owned.iter().collect();
        run(&mut t, &seq, 5);
        assert_eq!(t.finish()[0].count, 6);
    }

    #[test]
    fn alternating_short_or_exactly_at_threshold_runs_are_not_flagged() {
        let a: Arc<str> = Arc::from("SELECT a");
        let b: Arc<str> = Arc::from("SELECT b");
        let mut t = Tracker::default();
        let alternating: Vec<&Arc<str>> =
            (0..20).map(|i| if i % 2 == 0 { &a } else { &b }).collect();
        run(&mut t, &alternating, 5);
        run(&mut t, &[&a, &a, &a, &a, &a], 5);
        assert!(t.finish().is_empty());
    }
}
