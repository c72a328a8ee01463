//! OpenTracing's headers (OTEL_PROPAGATORS `ottrace`); no Rust crate has
//! them, so they are ours, after the OTel SDKs' OT trace propagators.
//!
//! `ot-tracer-traceid`: 16 hex digits (32 read too, as the other SDKs do);
//! `ot-tracer-spanid`: 16 hex digits; `ot-tracer-sampled`: `true`/`false`
//! (`1`/`0` read too: Go once wrote bits). Baggage: one `ot-baggage-{key}`
//! header per entry, the value raw. The format's trace id is 64 bits, so
//! a 128-bit one is written as its low half, as Java and Go write it.

use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceId};
use opentelemetry::Context;

use super::{hex, with_entries};

pub(super) const TRACE_ID: &str = "ot-tracer-traceid";
pub(super) const SPAN_ID: &str = "ot-tracer-spanid";
pub(super) const SAMPLED: &str = "ot-tracer-sampled";
const BAGGAGE_PREFIX: &str = "ot-baggage-";

/// The span context of the `ot-tracer-*` headers, if valid.
pub(super) fn extract(extractor: &dyn Extractor) -> Option<SpanContext> {
    let trace = extractor.get(TRACE_ID)?.trim();
    let span = extractor.get(SPAN_ID)?.trim();
    if trace.len() != 16 && trace.len() != 32 || span.len() != 16 {
        return None;
    }
    let trace_id = TraceId::from(hex(trace, 32)?);
    let span_id = SpanId::from(u64::try_from(hex(span, 16)?).ok()?);
    let sampled = matches!(extractor.get(SAMPLED).map(str::trim), Some("true" | "1"));
    super::flags::remote(trace_id, span_id, sampled)
}

/// `cx` with the `ot-baggage-*` entries added to its baggage.
pub(super) fn extract_baggage(cx: &Context, extractor: &dyn Extractor) -> Context {
    let entries = extractor.keys().into_iter().filter_map(|k| {
        let key = k.strip_prefix(BAGGAGE_PREFIX).filter(|k| !k.is_empty())?;
        Some((key.to_owned(), extractor.get(k)?.to_owned()))
    });
    with_entries(cx, entries)
}

/// Writes the `ot-tracer-*` headers, and `ot-baggage-*` with `baggage`.
pub(super) fn inject(cx: &Context, injector: &mut dyn Injector, baggage: bool) {
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        let trace = sc.trace_id().to_string();
        injector.set(TRACE_ID, trace[16..].to_owned());
        injector.set(SPAN_ID, sc.span_id().to_string());
        injector.set(SAMPLED, sc.is_sampled().to_string());
    }
    if baggage {
        for (k, (v, _)) in cx.baggage() {
            injector.set(
                &format!("{BAGGAGE_PREFIX}{}", k.as_str()),
                v.as_str().to_owned(),
            );
        }
    }
}
