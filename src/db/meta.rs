//! [`Meta`]: a statement's telemetry, built once per distinct text per pool.

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::metrics::BoundHistogram;
use opentelemetry::{KeyValue, StringValue};

use super::instruments::Instruments;
use super::sanitize::{sanitize, Sanitized};
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
}

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
        let sanitized = sanitize(sql);
        let mut span_attrs = base_attrs.to_vec();
        span_attrs.push(KeyValue::new(
            names::DB_QUERY_TEXT,
            arc_str(&sanitized.text),
        ));
        span_attrs.push(KeyValue::new(
            names::DB_QUERY_SUMMARY,
            arc_str(&sanitized.summary),
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
            span_name: Cow::Owned(sanitized.summary.clone()),
            sanitized,
            span_attrs,
            metric_attrs,
            ok_duration,
        }
    }
}
