//! Incoming context: the formats of `OTEL_PROPAGATORS` (W3C
//! `traceparent`/`tracestate` and `baggage` by default; B3, Jaeger, X-Ray,
//! OT trace on request).
//!
//! Parsed with the configured propagators directly rather than the global
//! one, so a layer works the same whether or not the globals are installed,
//! and only when the request carries one of their headers (most do not):
//! the layer's header scan notes them, so the others cost no lookup.

use http::header::HeaderName;
use http::HeaderMap;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{Link, TraceContextExt};
use opentelemetry::Context;

use crate::telemetry::propagators::{Present, Propagation};

pub(crate) const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The parent context of the server span, and the link to an untrusted
/// incoming context. `present` is what the header scan found.
pub(crate) fn extract(
    headers: &HeaderMap,
    propagation: &Propagation,
    present: Present,
    trust: bool,
) -> (Context, Option<Link>) {
    let has_parent = propagation.reads_trace(present);
    let has_baggage = trust && propagation.reads_baggage(present);
    if !has_parent && !has_baggage {
        return (Context::new(), None);
    }
    let extractor = Headers(headers);
    // A malformed header yields a context without a span: a new root.
    let cx = if has_parent {
        propagation.extract_trace(present, &extractor)
    } else {
        Context::new()
    };
    if !trust {
        let sc = cx.span().span_context().clone();
        let link = sc.is_valid().then(|| Link::with_context(sc));
        return (Context::new(), link);
    }
    if has_baggage {
        return (propagation.extract_baggage(cx, present, &extractor), None);
    }
    (cx, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Propagator;
    use opentelemetry::baggage::BaggageExt;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn present(h: &HeaderMap) -> Present {
        let mut p = Present::default();
        for name in h.keys() {
            p.note(name.as_str());
        }
        p
    }

    /// [`extract`] over these headers with the default propagators, as the
    /// layer calls it.
    fn extract_from(
        pairs: &[(&'static str, &'static str)],
        trusted: bool,
    ) -> (Context, Option<Link>) {
        let h = headers(pairs);
        extract(&h, &defaults(), present(&h), trusted)
    }

    fn defaults() -> Propagation {
        Propagation::new(&Propagator::defaults())
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn trusted_parent_and_baggage() {
        let (cx, link) = extract_from(&[("traceparent", TP), ("baggage", "tenant=acme")], true);
        assert!(link.is_none());
        let sc = cx.span().span_context().clone();
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(sc.is_remote());
        assert_eq!(
            cx.baggage().get("tenant").map(|v| v.as_str().to_owned()),
            Some("acme".to_owned())
        );
    }

    #[test]
    fn untrusted_becomes_a_link() {
        let (cx, link) = extract_from(&[("traceparent", TP), ("baggage", "tenant=acme")], false);
        assert!(!cx.span().span_context().is_valid());
        assert_eq!(cx.baggage().len(), 0);
        let link = link.expect("a link");
        assert_eq!(link.span_context.span_id().to_string(), "00f067aa0ba902b7");
    }

    #[test]
    fn garbage_is_ignored() {
        for bad in [
            "garbage",
            "00-zz-00-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ] {
            let (cx, link) = extract_from(&[("traceparent", bad)], true);
            assert!(!cx.span().span_context().is_valid(), "{bad}");
            assert!(link.is_none());
            let (_, link) = extract_from(&[("traceparent", bad)], false);
            assert!(link.is_none());
        }
    }

    #[test]
    fn no_headers_no_work() {
        let (cx, link) = extract(&HeaderMap::new(), &defaults(), Present::default(), true);
        assert!(!cx.has_active_span());
        assert!(link.is_none());
    }
}
