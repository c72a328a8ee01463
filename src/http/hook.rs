//! [`SpanAttributes`]: the application's own attributes on the server span.

pub use crate::hooks::{Attributes, MAX_HOOK_ATTRIBUTES};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HEADER_VALUE_LIMIT;
    use opentelemetry::KeyValue;

    #[test]
    fn the_value_limit_is_the_header_limit() {
        assert_eq!(crate::hooks::HOOK_VALUE_LIMIT, HEADER_VALUE_LIMIT);
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
