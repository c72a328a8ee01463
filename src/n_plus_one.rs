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
//! The HTTP layer puts a [`Tracker`] in the request's [`Context`] (only
//! once a pool with detection on exists: `Context::with_value` costs three
//! small allocations per request); each query looks it up in the
//! context it already holds and compares its summary with the last one (a
//! pointer compare, a string compare when the pointers differ): no
//! allocation unless a statement repeats past the threshold. When the
//! request ends, each flagged (summary, pool) becomes one event on the
//! server span, one add to the `wingspan.db.n_plus_one` counter by
//! `http.route` and summary, and one record in the in-process view.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry::metrics::{BoundCounter, Counter, Meter};
use opentelemetry::trace::SpanRef;
use opentelemetry::{Context, KeyValue};

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

/// The request's context, with a tracker when detection is on.
pub(crate) fn with_tracker(cx: Context) -> Context {
    if ENABLED.load(Ordering::Relaxed) {
        cx.with_value(Tracker::default())
    } else {
        cx
    }
}

/// A context holding only a tracker, for a request without a span (the
/// SDK disabled); `None` when detection is off.
pub(crate) fn tracker_context() -> Option<Context> {
    ENABLED
        .load(Ordering::Relaxed)
        .then(|| Context::new().with_value(Tracker::default()))
}

/// One request's run of statements.
#[derive(Default)]
pub(crate) struct Tracker {
    state: Mutex<State>,
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

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tracker {
    /// One statement of `pool` ran.
    pub(crate) fn observe(&self, summary: &Arc<str>, pool: &Arc<str>, threshold: u32) {
        let mut s = lock(&self.state);
        if let Some(r) = &mut s.run {
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
        if let Some(old) = s.run.replace(next) {
            s.close(old);
        }
    }

    /// What the request ran past the threshold; ends the current run.
    pub(crate) fn finish(&self) -> Vec<Flagged> {
        let mut s = lock(&self.state);
        if let Some(run) = s.run.take() {
            s.close(run);
        }
        std::mem::take(&mut s.flagged)
    }
}

/// A statement of `pool` ran under `cx`: counted when `cx` is an
/// instrumented request's and `threshold` is above 0.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
#[inline]
pub(crate) fn observe(cx: &Context, summary: &Arc<str>, pool: &Arc<str>, threshold: u32) {
    if threshold == 0 {
        return;
    }
    if let Some(t) = cx.get::<Tracker>() {
        t.observe(summary, pool, threshold);
    }
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

/// Ends a request's detection: one event on `span` per flagged statement,
/// the counter, and the view (`stats`, under `view_route`, with the trace).
pub(crate) fn report(
    cx: &Context,
    span: &SpanRef<'_>,
    route: Option<&str>,
    counter: &NPlusOneCounter,
    stats: Option<(&crate::stats::Stats, &str)>,
) {
    let Some(t) = cx.get::<Tracker>() else { return };
    let flagged = t.finish();
    if flagged.is_empty() {
        return;
    }
    let route = route.unwrap_or(names::OTHER);
    let trace_id = span.span_context().trace_id();
    for f in flagged {
        span.add_event(
            names::WINGSPAN_DB_N_PLUS_ONE,
            vec![
                KeyValue::new(names::DB_QUERY_SUMMARY, f.summary.to_string()),
                KeyValue::new(names::WINGSPAN_DB_N_PLUS_ONE_COUNT, i64::from(f.count)),
                KeyValue::new(names::DB_CLIENT_CONNECTION_POOL_NAME, f.pool.to_string()),
            ],
        );
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

    fn run(t: &Tracker, seq: &[&Arc<str>], threshold: u32) {
        let pool: Arc<str> = Arc::from("main");
        for s in seq {
            t.observe(s, &pool, threshold);
        }
    }

    #[test]
    fn a_run_past_the_threshold_is_flagged_once_with_its_longest_run() {
        let a: Arc<str> = Arc::from("SELECT profiles");
        let b: Arc<str> = Arc::from("SELECT matches");
        let t = Tracker::default();
        let mut seq = vec![&b];
        seq.extend(std::iter::repeat_n(&a, 10));
        seq.push(&b);
        seq.extend(std::iter::repeat_n(&a, 7));
        run(&t, &seq, 5);
        let f = t.finish();
        assert_eq!(f.len(), 1);
        assert_eq!(&*f[0].summary, "SELECT profiles");
        assert_eq!(f[0].count, 10);
        assert!(t.finish().is_empty());
    }

    #[test]
    fn only_a_request_context_with_a_tracker_and_a_threshold_counts() {
        let a: Arc<str> = Arc::from("SELECT a");
        let pool: Arc<str> = Arc::from("main");
        // Outside a request: no tracker, nothing to do.
        observe(&Context::new(), &a, &pool, 5);
        let cx = Context::new().with_value(Tracker::default());
        for _ in 0..10 {
            observe(&cx, &a, &pool, 0);
        }
        let t = cx.get::<Tracker>().unwrap();
        assert!(t.finish().is_empty(), "threshold 0 is off");
        for _ in 0..10 {
            observe(&cx, &a, &pool, 5);
        }
        assert_eq!(t.finish()[0].count, 10);
    }

    #[test]
    fn equal_text_in_another_allocation_continues_the_run() {
        let t = Tracker::default();
        let owned: Vec<Arc<str>> = (0..6).map(|_| Arc::from("SELECT users")).collect();
        let seq: Vec<&Arc<str>> = owned.iter().collect();
        run(&t, &seq, 5);
        assert_eq!(t.finish()[0].count, 6);
    }

    #[test]
    fn alternating_short_or_exactly_at_threshold_runs_are_not_flagged() {
        let a: Arc<str> = Arc::from("SELECT a");
        let b: Arc<str> = Arc::from("SELECT b");
        let t = Tracker::default();
        let alternating: Vec<&Arc<str>> =
            (0..20).map(|i| if i % 2 == 0 { &a } else { &b }).collect();
        run(&t, &alternating, 5);
        run(&t, &[&a, &a, &a, &a, &a], 5);
        assert!(t.finish().is_empty());
    }
}
