//! What the application's attribute hooks share, whichever resource calls
//! them: [`Attributes`], the capped list a hook writes to (the HTTP layer's
//! `SpanAttributes`, the pool's `QueryAttributes`, the cache's
//! `CommandAttributes`), and the caller-supplied operation name
//! ([`operation`]) that pool and cache calls record as
//! [`names::WINGSPAN_OPERATION_NAME`].
//!
//! Below the resources (which never import each other) so that one type and
//! one scope serve them all; public through their re-exports
//! (`wingspan::http::Attributes`, `wingspan::db::operation`, ...).

// The operation scope exists only with `postgres` or `redis`, its users.
#![cfg_attr(
    not(any(feature = "postgres", feature = "redis")),
    allow(unused_imports)
)]

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::context::FutureExt as _;
use opentelemetry::{Array, Context, Key, KeyValue, StringValue, Value};

use crate::names;

/// The most attributes one hook call adds; past it [`Attributes::add`]
/// refuses and returns false.
pub const MAX_HOOK_ATTRIBUTES: usize = 8;

/// The longest string value a hook adds, in bytes (cut on a character
/// boundary); `http::HEADER_VALUE_LIMIT` is the same bound.
pub(crate) const HOOK_VALUE_LIMIT: usize = 1024;

#[cfg(any(feature = "postgres", feature = "redis"))]
/// The longest operation name recorded, in bytes (cut on a character
/// boundary): a name is a label for a code path, not a place for data.
pub const MAX_OPERATION_NAME_LEN: usize = 128;

/// Where a hook puts its attributes: at most [`MAX_HOOK_ATTRIBUTES`],
/// values capped (strings to 1024 bytes on a character boundary, and
/// further by `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`; arrays to
/// [`MAX_HOOK_ATTRIBUTES`] items).
#[derive(Debug)]
pub struct Attributes<'a> {
    out: &'a mut Vec<KeyValue>,
    added: usize,
    refused: usize,
}

impl<'a> Attributes<'a> {
    pub(crate) fn new(out: &'a mut Vec<KeyValue>) -> Self {
        Self {
            out,
            added: 0,
            refused: 0,
        }
    }

    /// Adds `key = value`; false (and nothing added) past
    /// [`MAX_HOOK_ATTRIBUTES`]. A string is cut to 1024 bytes on a
    /// character boundary, an array to [`MAX_HOOK_ATTRIBUTES`] items of as
    /// many bytes each.
    pub fn add(&mut self, key: impl Into<Key>, value: impl Into<Value>) -> bool {
        if self.added >= MAX_HOOK_ATTRIBUTES {
            self.refused += 1;
            return false;
        }
        self.added += 1;
        self.out.push(KeyValue::new(key, bound(value.into())));
        true
    }

    /// How many attributes this call added.
    pub fn len(&self) -> usize {
        self.added
    }

    /// Whether this call added none.
    pub fn is_empty(&self) -> bool {
        self.added == 0
    }

    /// How many [`add`](Self::add) refused, over the cap.
    pub fn refused(&self) -> usize {
        self.refused
    }
}

fn bound_str(s: StringValue) -> StringValue {
    let text = s.as_str();
    let cut = crate::text::prefix_bytes(text, HOOK_VALUE_LIMIT);
    if cut.len() == text.len() {
        s
    } else {
        StringValue::from(cut.to_owned())
    }
}

fn bound(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(bound_str(s)),
        Value::Array(Array::String(mut v)) => {
            v.truncate(MAX_HOOK_ATTRIBUTES);
            Value::Array(Array::String(v.into_iter().map(bound_str).collect()))
        }
        Value::Array(Array::Bool(mut v)) => {
            v.truncate(MAX_HOOK_ATTRIBUTES);
            Value::Array(Array::Bool(v))
        }
        Value::Array(Array::I64(mut v)) => {
            v.truncate(MAX_HOOK_ATTRIBUTES);
            Value::Array(Array::I64(v))
        }
        Value::Array(Array::F64(mut v)) => {
            v.truncate(MAX_HOOK_ATTRIBUTES);
            Value::Array(Array::F64(v))
        }
        other => other,
    }
}

#[cfg(any(feature = "postgres", feature = "redis"))]
/// The operation name in a [`Context`]: put there by [`operation`], read by
/// each pool and cache call that starts under it.
#[derive(Clone, Debug)]
struct OperationName(StringValue);

#[cfg(any(feature = "postgres", feature = "redis"))]
/// Runs `fut` as the operation `name`: every pool and cache call made while
/// it runs (on its task, under the context it polls with) records
/// `wingspan.operation.name = name` on its span. The innermost scope wins.
///
/// Span only, never a metric attribute: the operation is free text, so the
/// duration histograms keep their closed attribute sets. Keep the name a
/// fixed label for a code path (`"load profile"`, `"settle match"`), never
/// data (an id, a user's input): a backend indexes span attributes too. It
/// is cut to [`MAX_OPERATION_NAME_LEN`] bytes, on a character boundary.
///
/// The name travels in the OpenTelemetry [`Context`], like the trace
/// parent: a task spawned inside the scope has it only if the context is
/// passed on (`opentelemetry::context::FutureExt::with_current_context`).
/// A call whose span does not record (unsampled, SDK disabled) reads
/// nothing and records nothing.
///
/// ```no_run
/// # #[cfg(feature = "postgres")]
/// # async fn f(db: wingspan::db::Pool) -> Result<(), wingspan::db::DbError> {
/// use wingspan::db::Queryable;
/// let rows = wingspan::db::operation("load profile", async {
///     let client = db.get().await?;
///     client.query("SELECT name FROM users WHERE id = $1", &[&42_i64]).await
/// })
/// .await?;
/// # drop(rows); Ok(()) }
/// ```
pub fn operation<F: Future>(
    name: impl Into<Cow<'static, str>>,
    fut: F,
) -> impl Future<Output = F::Output> {
    let name = match name.into() {
        Cow::Borrowed(s) => StringValue::from(crate::text::prefix_bytes(s, MAX_OPERATION_NAME_LEN)),
        Cow::Owned(mut s) => {
            crate::text::truncate_bytes(&mut s, MAX_OPERATION_NAME_LEN);
            StringValue::from(s)
        }
    };
    fut.with_context(Context::current_with_value(OperationName(name)))
}

#[cfg(any(feature = "postgres", feature = "redis"))]
/// The operation name `cx` carries, if a [`operation`] scope set one.
pub(crate) fn operation_name(cx: &Context) -> Option<&StringValue> {
    cx.get::<OperationName>().map(|o| &o.0)
}

#[cfg(any(feature = "postgres", feature = "redis"))]
/// The `wingspan.operation.name` attribute of a call started under `cx`.
pub(crate) fn operation_attribute(cx: &Context) -> Option<KeyValue> {
    operation_name(cx).map(|name| KeyValue::new(names::WINGSPAN_OPERATION_NAME, name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_past_eight() {
        let mut out = Vec::new();
        let mut a = Attributes::new(&mut out);
        for i in 0..MAX_HOOK_ATTRIBUTES {
            assert!(a.add(format!("k{i}"), i as i64));
        }
        assert!(!a.add("k.over", 1_i64));
        assert_eq!((a.len(), a.refused()), (MAX_HOOK_ATTRIBUTES, 1));
        assert_eq!(out.len(), MAX_HOOK_ATTRIBUTES);
    }

    #[test]
    fn values_are_bounded() {
        let mut out = Vec::new();
        let mut a = Attributes::new(&mut out);
        a.add("long", "é".repeat(HOOK_VALUE_LIMIT));
        a.add(
            "many",
            Value::Array(Array::String(
                (0..20)
                    .map(|i| StringValue::from(format!("v{i}")))
                    .collect(),
            )),
        );
        a.add("short", "gold");
        assert_eq!(out[0].value.as_str().len(), HOOK_VALUE_LIMIT);
        match &out[1].value {
            Value::Array(Array::String(v)) => assert_eq!(v.len(), MAX_HOOK_ATTRIBUTES),
            other => panic!("{other:?}"),
        }
        assert_eq!(out[2].value.as_str(), "gold");
    }

    #[cfg(any(feature = "postgres", feature = "redis"))]
    #[tokio::test]
    async fn an_operation_is_scoped_capped_and_nested_scopes_win() {
        assert!(operation_name(&Context::current()).is_none());
        let inner = operation("outer", async {
            let outer = operation_name(&Context::current()).map(|n| n.to_string());
            let inner = operation("é".repeat(MAX_OPERATION_NAME_LEN), async {
                operation_name(&Context::current()).map(|n| n.as_str().len())
            })
            .await;
            let after = operation_name(&Context::current()).map(|n| n.to_string());
            (outer, inner, after)
        })
        .await;
        assert_eq!(inner.0.as_deref(), Some("outer"));
        assert_eq!(inner.1, Some(MAX_OPERATION_NAME_LEN));
        assert_eq!(inner.2.as_deref(), Some("outer"));
        assert!(operation_name(&Context::current()).is_none());
        let kv = operation("short", async { operation_attribute(&Context::current()) }).await;
        assert_eq!(
            kv,
            Some(KeyValue::new(names::WINGSPAN_OPERATION_NAME, "short"))
        );
    }
}
