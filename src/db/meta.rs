//! [`Meta`]: a statement's telemetry, built once per distinct text per pool.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use opentelemetry::metrics::BoundHistogram;
use opentelemetry::{KeyValue, StringValue};

use super::instruments::Instruments;
use super::sanitize::{sanitize, Sanitized, MAX_SUMMARY_LEN};
use crate::names;

/// The span name and attributes and the metric series of one statement text.
pub(crate) struct Meta {
    pub(crate) sanitized: Sanitized,
    pub(crate) span_name: Cow<'static, str>,
    pub(crate) span_attrs: Vec<KeyValue>,
    pub(crate) metric_attrs: Vec<KeyValue>,
    pub(crate) ok_duration: BoundHistogram<f64>,
    /// Its row in the in-process view, by `db.query.summary` (never text).
    pub(crate) stats: Option<crate::stats::QueryStats>,
    /// `db.query.summary`, shared with the span attribute: N+1 detection
    /// compares it by pointer first (`crate::n_plus_one`).
    pub(crate) summary: Arc<str>,
    /// Whether N+1 detection counts it (a preparation does not).
    pub(crate) n_plus_one: bool,
    /// Microseconds spent in this text, counted only while the pool
    /// captures plans: several texts can share a summary (the view's row),
    /// and the plan shown for it is that of the text that took the most.
    spent_us: AtomicU64,
    /// The telemetry of preparing this statement, made on the first
    /// `prepare_cached` that reaches the server.
    prepare: OnceLock<Arc<Meta>>,
}

/// `db.operation.name` and the summary's first word of a statement's
/// preparation (a Parse round trip), apart from its executions.
pub(crate) const PREPARE: &str = "PREPARE";

fn arc_str(s: &str) -> StringValue {
    StringValue::from(Arc::<str>::from(s))
}

impl Meta {
    /// `base_attrs` are the pool's `db.system.name`, `db.namespace`,
    /// `server.address`, `server.port`, in that order.
    pub(crate) fn new(
        base_attrs: &[KeyValue],
        instruments: &Instruments,
        stats: Option<&crate::stats::Stats>,
        sql: &str,
    ) -> Self {
        Self::of(base_attrs, instruments, stats, sanitize(sql))
    }

    /// The preparation of this statement: span and summary
    /// `PREPARE {db.query.summary}`, operation `PREPARE`, the same text and
    /// collection; its durations are a series of their own (operation
    /// `PREPARE`), so a cold cache does not skew the statement's latency.
    pub(crate) fn prepare(
        &self,
        base_attrs: &[KeyValue],
        instruments: &Instruments,
        stats: Option<&crate::stats::Stats>,
    ) -> Arc<Meta> {
        Arc::clone(self.prepare.get_or_init(|| {
            let s = &self.sanitized;
            let mut summary = format!("{PREPARE} {}", s.summary);
            if summary.len() > MAX_SUMMARY_LEN {
                // Whole words only: cut at the last space that fits.
                let fits = crate::text::prefix_bytes(&summary, MAX_SUMMARY_LEN + 1);
                let end = fits.rfind(' ').unwrap_or(PREPARE.len());
                summary.truncate(end);
            }
            let sanitized = Sanitized {
                text: s.text.clone(),
                summary,
                operation: PREPARE.to_owned(),
                collections: s.collections.clone(),
            };
            Arc::new(Self::of(base_attrs, instruments, stats, sanitized))
        }))
    }

    fn of(
        base_attrs: &[KeyValue],
        instruments: &Instruments,
        stats: Option<&crate::stats::Stats>,
        sanitized: Sanitized,
    ) -> Self {
        let mut span_attrs = base_attrs.to_vec();
        span_attrs.push(KeyValue::new(
            names::DB_QUERY_TEXT,
            arc_str(&sanitized.text),
        ));
        let summary: Arc<str> = Arc::from(sanitized.summary.as_str());
        span_attrs.push(KeyValue::new(
            names::DB_QUERY_SUMMARY,
            StringValue::from(Arc::clone(&summary)),
        ));
        // metric: system + namespace (+ operation, collection).
        let mut metric_attrs = base_attrs[..2].to_vec();
        if !sanitized.operation.is_empty() {
            let op = KeyValue::new(names::DB_OPERATION_NAME, arc_str(&sanitized.operation));
            span_attrs.push(op.clone());
            metric_attrs.push(op);
        }
        if let Some(c) = sanitized.collection() {
            let c = KeyValue::new(names::DB_COLLECTION_NAME, arc_str(c));
            span_attrs.push(c.clone());
            metric_attrs.push(c);
        }
        let ok_duration = instruments.operation_duration.bind(&metric_attrs);
        Self {
            stats: stats.map(|s| s.query(&sanitized.summary)),
            n_plus_one: sanitized.operation != PREPARE,
            summary,
            span_name: Cow::Owned(sanitized.summary.clone()),
            sanitized,
            span_attrs,
            metric_attrs,
            ok_duration,
            spent_us: AtomicU64::new(0),
            prepare: OnceLock::new(),
        }
    }

    /// Counts `seconds` spent in this text (plan capture on).
    pub(crate) fn spend(&self, seconds: f64) {
        self.spent_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Microseconds spent in this text since the pool was built.
    pub(crate) fn spent_us(&self) -> u64 {
        self.spent_us.load(Ordering::Relaxed)
    }
}
