//! [`SpanAttributes`]: the application's own attributes on the server span.

use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use super::attributes::capped;

/// The most attributes one hook call adds ([`SpanAttributes::on_request`]
/// and [`SpanAttributes::on_response`] each); past it [`Attributes::add`]
/// refuses and returns false.
pub const MAX_HOOK_ATTRIBUTES: usize = 8;

/// Adds the application's attributes to the server span, from the request
/// head and from the response head: a tenant, a user tier, a header.
///
/// Span attributes only: they never reach `http.server.request.duration`,
/// whose attributes stay the closed semconv set (method, route, scheme,
/// status, `error.type`, `wingspan.route.class`), so a per-user value cannot
/// multiply its series. Bounded: at most [`MAX_HOOK_ATTRIBUTES`] per call,
/// string values cut to [`super::HEADER_VALUE_LIMIT`] bytes (and to
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` by the SDK), arrays to
/// [`MAX_HOOK_ATTRIBUTES`] items. Not called for skipped requests.
///
/// A closure `Fn(&http::request::Parts, &mut Attributes)` is a hook with
/// `on_request` only.
///
/// ```
/// use wingspan::http::{Attributes, SpanAttributes};
///
/// struct Tenant;
/// impl SpanAttributes for Tenant {
///     fn on_request(&self, req: &http::request::Parts, attrs: &mut Attributes<'_>) {
///         if let Some(t) = req.headers.get("x-tenant").and_then(|v| v.to_str().ok()) {
///             attrs.add("app.tenant", t.to_owned());
///         }
///     }
///     fn on_response(&self, res: &http::response::Parts, attrs: &mut Attributes<'_>) {
///         if res.headers.contains_key("x-cache") {
///             attrs.add("app.cached", true);
///         }
///     }
/// }
/// ```
pub trait SpanAttributes: Send + Sync + 'static {
    /// Called before the span starts; what it adds is on the span from its
    /// start (so a sampler sees it too). Defaults to adding nothing.
    fn on_request(&self, request: &http::request::Parts, attributes: &mut Attributes<'_>) {
        let _ = (request, attributes);
    }

    /// Called when the inner service answers (not when it fails). Defaults
    /// to adding nothing.
    fn on_response(&self, response: &http::response::Parts, attributes: &mut Attributes<'_>) {
        let _ = (response, attributes);
    }
}

impl<F> SpanAttributes for F
where
    F: Fn(&http::request::Parts, &mut Attributes<'_>) + Send + Sync + 'static,
{
    fn on_request(&self, request: &http::request::Parts, attributes: &mut Attributes<'_>) {
        self(request, attributes);
    }
}

/// Where a [`SpanAttributes`] hook puts its attributes: at most
/// [`MAX_HOOK_ATTRIBUTES`], values capped.
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
    /// [`MAX_HOOK_ATTRIBUTES`]. A string is cut to
    /// [`super::HEADER_VALUE_LIMIT`] bytes on a character boundary, an array
    /// to [`MAX_HOOK_ATTRIBUTES`] items of as many bytes each.
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
    let cut = capped(text);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HEADER_VALUE_LIMIT;

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
        a.add("long", "é".repeat(HEADER_VALUE_LIMIT));
        a.add(
            "many",
            Value::Array(Array::String(
                (0..20)
                    .map(|i| StringValue::from(format!("v{i}")))
                    .collect(),
            )),
        );
        a.add("short", "gold");
        assert_eq!(out[0].value.as_str().len(), HEADER_VALUE_LIMIT);
        match &out[1].value {
            Value::Array(Array::String(v)) => assert_eq!(v.len(), MAX_HOOK_ATTRIBUTES),
            other => panic!("{other:?}"),
        }
        assert_eq!(out[2].value.as_str(), "gold");
    }

    #[test]
    fn a_closure_is_a_request_hook() {
        let hook = |req: &http::request::Parts, a: &mut Attributes<'_>| {
            a.add("app.path_len", req.uri.path().len() as i64);
        };
        let (parts, ()) = http::Request::get("/abc").body(()).unwrap().into_parts();
        let mut out = Vec::new();
        SpanAttributes::on_request(&hook, &parts, &mut Attributes::new(&mut out));
        let (res, ()) = http::Response::new(()).into_parts();
        SpanAttributes::on_response(&hook, &res, &mut Attributes::new(&mut out));
        assert_eq!(out, [KeyValue::new("app.path_len", 4_i64)]);
    }
}
