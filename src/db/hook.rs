//! [`QueryAttributes`]: the application's own attributes on a pool call's
//! span, and the caller's operation name ([`operation`](super::operation)),
//! added once the span is known to record.

use std::ops::Deref;

use opentelemetry::{Context, KeyValue};

use super::meta::Meta;
use super::query::StatementMetrics;
use crate::hooks::{operation_attribute, operation_name, Attributes, MAX_HOOK_ATTRIBUTES};
use crate::instrument::ClientCall;

/// Adds the application's attributes to the span of each pool call (a
/// query, an execute, a prepare, `BEGIN`/`COMMIT`), from what wingspan
/// already knows of it ([`CallInfo`]: the pool, the statement's summary,
/// operation and collection, the caller's operation name). Never the
/// statement's text or its parameters.
///
/// Span attributes only: they never reach `db.client.operation.duration`,
/// whose attributes stay the closed semconv set, so a per-tenant value
/// cannot multiply its series. Bounded: at most [`MAX_HOOK_ATTRIBUTES`] per
/// call, string values cut to 1024 bytes (and to
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` by the SDK), arrays to
/// [`MAX_HOOK_ATTRIBUTES`] items. Called only for a span that records: an
/// unsampled call (or the SDK disabled) never calls it, so it costs nothing
/// there; it runs on the calling task, before the statement is sent, so
/// keep it to a lookup.
///
/// A closure `Fn(&CallInfo, &mut Attributes)` is a hook.
///
/// ```
/// use wingspan::db::{Attributes, CallInfo, QueryAttributes};
///
/// struct Shard(&'static str);
/// impl QueryAttributes for Shard {
///     fn on_call(&self, call: &CallInfo<'_>, attrs: &mut Attributes<'_>) {
///         attrs.add("app.db.shard", self.0);
///         if call.collection() == Some("audit_log") {
///             attrs.add("app.db.audit", true);
///         }
///     }
/// }
/// ```
pub trait QueryAttributes: Send + Sync + 'static {
    /// Called when the call's span has started and records. Defaults to
    /// adding nothing.
    fn on_call(&self, call: &CallInfo<'_>, attributes: &mut Attributes<'_>) {
        let _ = (call, attributes);
    }
}

impl<F> QueryAttributes for F
where
    F: Fn(&CallInfo<'_>, &mut Attributes<'_>) + Send + Sync + 'static,
{
    fn on_call(&self, call: &CallInfo<'_>, attributes: &mut Attributes<'_>) {
        self(call, attributes);
    }
}

/// What a [`QueryAttributes`] hook knows of a pool call: what its span
/// already carries, never the statement's text or parameters.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    pool: &'a str,
    summary: &'a str,
    db_operation: Option<&'a str>,
    collection: Option<&'a str>,
    operation_name: Option<&'a str>,
}

impl<'a> CallInfo<'a> {
    /// The pool's name (`db.client.connection.pool.name`).
    pub fn pool(&self) -> &'a str {
        self.pool
    }

    /// The statement's `db.query.summary` (`SELECT users`), also the span's
    /// name.
    pub fn summary(&self) -> &'a str {
        self.summary
    }

    /// The statement's `db.operation.name` (`SELECT`), when it has one.
    pub fn db_operation(&self) -> Option<&'a str> {
        self.db_operation
    }

    /// The statement's `db.collection.name`, when it names exactly one
    /// table.
    pub fn collection(&self) -> Option<&'a str> {
        self.collection
    }

    /// The caller's operation name (`wingspan.operation.name`, from
    /// [`operation`](super::operation)), when the call runs inside
    /// one.
    pub fn operation_name(&self) -> Option<&'a str> {
        self.operation_name
    }
}

/// Adds the operation name of `cx` and the pool's hook's attributes to
/// `call`'s span, if it records; nothing is built for one that does not.
pub(crate) fn decorate<M: Deref<Target = Meta>>(
    call: &mut ClientCall<StatementMetrics<'_, M>>,
    cx: &Context,
) {
    let shared = call.metrics().shared;
    let operation = operation_attribute(cx);
    if (operation.is_none() && shared.query_attributes.is_none()) || !call.is_recording() {
        return;
    }
    let mut added: Vec<KeyValue> = Vec::new();
    if let Some(hook) = &shared.query_attributes {
        let meta = &*call.metrics().meta;
        let s = &meta.sanitized;
        let info = CallInfo {
            pool: &shared.pool_name,
            summary: &meta.summary,
            db_operation: Some(s.operation.as_str()).filter(|o| !o.is_empty()),
            collection: s.collection(),
            operation_name: operation_name(cx).map(|n| n.as_str()),
        };
        added.reserve(MAX_HOOK_ATTRIBUTES + 1);
        hook.on_call(&info, &mut Attributes::new(&mut added));
    }
    if let Some(kv) = operation {
        call.set_attribute(kv);
    }
    for kv in added {
        call.set_attribute(kv);
    }
}
