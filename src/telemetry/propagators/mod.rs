//! The propagators of `OTEL_PROPAGATORS` at run time: one [`Propagation`]
//! that the HTTP layer extracts with, the client injects with, and
//! `install_globals` installs as the global propagator.
//!
//! Kept libraries where one pairs with opentelemetry 0.33 (the tree holds
//! exactly one version, scripts/check-otel-single.sh): the SDK's W3C
//! propagators and `opentelemetry-aws`' X-Ray. The others are wingspan's
//! own, small, after the formats' documents: [`b3`] because
//! `opentelemetry-zipkin` is deprecated as a whole, [`jaeger`] because
//! `opentelemetry-jaeger-propagator` is at 0.32 (a second opentelemetry),
//! [`ottrace`] because no Rust crate has it.

mod b3;
mod flags;
mod jaeger;
mod ottrace;
mod present;

use std::sync::Arc;

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::Context;
use opentelemetry_aws::trace::XrayPropagator;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

use crate::config::Propagator;
pub(crate) use present::Present;

/// The configured propagators, in the configured order; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Propagation(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    list: Vec<Propagator>,
    /// The headers whose presence makes extraction worth its cost.
    trace_headers: Present,
    baggage_headers: Present,
    /// `fields()`: every header name injected.
    fields: Vec<String>,
}

impl Propagation {
    /// From `OTEL_PROPAGATORS`' list (`none` contributes nothing).
    pub(crate) fn new(list: &[Propagator]) -> Self {
        let list: Vec<Propagator> = list
            .iter()
            .copied()
            .filter(|p| *p != Propagator::None)
            .collect();
        let mut trace_headers = Present::default();
        let mut baggage_headers = Present::default();
        let mut fields = Vec::new();
        for p in &list {
            trace_headers = trace_headers.union(Present::trace_of(*p));
            baggage_headers = baggage_headers.union(Present::baggage_of(*p));
            fields.extend(fields_of(*p).iter().map(|f| (*f).to_owned()));
        }
        Self(Arc::new(Inner {
            list,
            trace_headers,
            baggage_headers,
            fields,
        }))
    }

    /// Whether `present` holds a trace context header this set reads.
    pub(crate) fn reads_trace(&self, present: Present) -> bool {
        present.any_of(self.0.trace_headers)
    }

    /// Whether `present` holds a baggage header this set reads.
    pub(crate) fn reads_baggage(&self, present: Present) -> bool {
        present.any_of(self.0.baggage_headers)
    }

    /// The remote parent from the trace context headers, in the configured
    /// order: a later format's valid context replaces an earlier one (as
    /// the SDKs' composite propagators do), an invalid one changes nothing.
    pub(crate) fn extract_trace(&self, present: Present, extractor: &dyn Extractor) -> Context {
        let mut cx = Context::new();
        for p in &self.0.list {
            if !present.any_of(Present::trace_of(*p)) {
                continue;
            }
            if let Some(sc) = trace_of(*p, extractor) {
                cx = cx.with_remote_span_context(sc);
            }
        }
        cx
    }

    /// `cx` with the baggage of the headers present added.
    pub(crate) fn extract_baggage(
        &self,
        cx: Context,
        present: Present,
        extractor: &dyn Extractor,
    ) -> Context {
        let mut cx = cx;
        for p in &self.0.list {
            if !present.any_of(Present::baggage_of(*p)) {
                continue;
            }
            cx = match p {
                Propagator::Baggage => {
                    BaggagePropagator::new().extract_with_context(&cx, extractor)
                }
                Propagator::Jaeger => jaeger::extract_baggage(&cx, extractor),
                Propagator::OtTrace => ottrace::extract_baggage(&cx, extractor),
                _ => cx,
            };
        }
        cx
    }

    /// Writes `cx` in every configured format; the baggage (W3C `baggage`,
    /// `uberctx-*`, `ot-baggage-*`) only with `baggage`, since it may carry
    /// values the remote party should not see.
    pub(crate) fn inject(&self, cx: &Context, injector: &mut dyn Injector, baggage: bool) {
        for p in &self.0.list {
            match p {
                Propagator::TraceContext => {
                    TraceContextPropagator::new().inject_context(cx, injector)
                }
                Propagator::Baggage if baggage => {
                    BaggagePropagator::new().inject_context(cx, injector);
                }
                Propagator::B3 => b3::inject(cx, injector, false),
                Propagator::B3Multi => b3::inject(cx, injector, true),
                Propagator::Jaeger => jaeger::inject(cx, injector, baggage),
                Propagator::XRay => XrayPropagator::new().inject_context(cx, injector),
                Propagator::OtTrace => ottrace::inject(cx, injector, baggage),
                Propagator::Baggage | Propagator::None => {}
            }
        }
    }
}

/// The fixed header names `p` writes. The prefixed baggage headers
/// (`uberctx-*`, `ot-baggage-*`) have no fixed names, so, as in the other
/// SDKs, they are not fields.
fn fields_of(p: Propagator) -> &'static [&'static str] {
    match p {
        Propagator::TraceContext => &["traceparent", "tracestate"],
        Propagator::Baggage => &["baggage"],
        Propagator::B3 => &[b3::SINGLE],
        Propagator::B3Multi => &[b3::TRACE_ID, b3::SPAN_ID, b3::SAMPLED],
        Propagator::Jaeger => &[jaeger::HEADER],
        Propagator::XRay => &["x-amzn-trace-id"],
        Propagator::OtTrace => &[ottrace::TRACE_ID, ottrace::SPAN_ID, ottrace::SAMPLED],
        Propagator::None => &[],
    }
}

/// The valid span context of `p`'s headers, its flags only W3C's sampled
/// bit.
fn trace_of(p: Propagator, extractor: &dyn Extractor) -> Option<SpanContext> {
    let sc = match p {
        Propagator::TraceContext => {
            let cx = TraceContextPropagator::new().extract_with_context(&Context::new(), extractor);
            return Some(cx.span().span_context().clone()).filter(SpanContext::is_valid);
        }
        Propagator::B3 | Propagator::B3Multi => b3::extract(extractor),
        Propagator::Jaeger => jaeger::extract(extractor),
        // X-Ray's propagator keeps "deferred" as an extra flag bit.
        Propagator::XRay => {
            let cx = XrayPropagator::new().extract_with_context(&Context::new(), extractor);
            let sc = cx.span().span_context().clone();
            sc.is_valid().then(|| flags::normalise(sc))
        }
        Propagator::OtTrace => ottrace::extract(extractor),
        Propagator::Baggage | Propagator::None => None,
    };
    sc
}

/// 1 to `max_digits` hex digits (no sign, which `from_str_radix` would
/// take), for the Jaeger and OT trace ids.
fn hex(s: &str, max_digits: usize) -> Option<u128> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

/// `cx` with its baggage plus `entries` (the baggage's own limits, 64
/// entries and 8192 bytes, drop the rest), for the prefixed baggage
/// headers of Jaeger and OT trace.
fn with_entries(cx: &Context, entries: impl Iterator<Item = (String, String)>) -> Context {
    let mut entries = entries.peekable();
    if entries.peek().is_none() {
        return cx.clone();
    }
    let mut baggage: Baggage = cx
        .baggage()
        .iter()
        .map(|(k, (v, m))| (k.clone(), (v.clone(), m.clone())))
        .collect();
    for (k, v) in entries {
        baggage.insert(k, v);
    }
    cx.with_baggage(baggage)
}

/// The global propagator: every header checked, baggage injected.
impl TextMapPropagator for Propagation {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        self.inject(cx, injector, true);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let present = Present::ALL;
        let trace = self.extract_trace(present, extractor);
        let sc = trace.span().span_context().clone();
        let cx = if sc.is_valid() {
            cx.with_remote_span_context(sc)
        } else {
            cx.clone()
        };
        self.extract_baggage(cx, present, extractor)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.0.fields)
    }
}

#[cfg(test)]
mod tests;
