//! Zipkin's B3 headers (OTEL_PROPAGATORS `b3`, `b3multi`), after
//! github.com/openzipkin/b3-propagation. Ours because the one Rust crate
//! with a B3 propagator, `opentelemetry-zipkin`, is deprecated as a whole
//! (0.33: "will be removed in a future release"), and wingspan follows
//! opentelemetry's releases.
//!
//! Single: `b3: {trace-id}-{span-id}[-{sampling}[-{parent-span-id}]]`.
//! Multi: `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`, `X-B3-Flags`
//! (`X-B3-ParentSpanId` is not needed to continue a trace). Trace ids are
//! 16 or 32 hex digits (16 zero-padded), span ids 16; sampling `1`, `0`,
//! or `d` (debug, which implies sampled); `X-B3-Sampled` also `true` /
//! `false`, which older tracers send. Both forms are read, the single one
//! first, whichever is configured (the OTel B3 requirements); absent
//! sampling ("the receiver decides") reads as not sampled, as the other
//! OTel SDKs read it.

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceId};
use opentelemetry::Context;

use super::hex;

pub(super) const SINGLE: &str = "b3";
pub(super) const TRACE_ID: &str = "x-b3-traceid";
pub(super) const SPAN_ID: &str = "x-b3-spanid";
pub(super) const SAMPLED: &str = "x-b3-sampled";
const FLAGS: &str = "x-b3-flags";

/// The span context of the single header, else of the multi headers.
pub(super) fn extract(extractor: &dyn Extractor) -> Option<SpanContext> {
    extractor
        .get(SINGLE)
        .and_then(single)
        .or_else(|| multi(extractor))
}

fn single(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let trace = trace_id(parts.next()?)?;
    let span = span_id(parts.next()?)?;
    let sampled = match parts.next() {
        None => false,
        Some("1" | "d") => true,
        Some("0") => false,
        Some(_) => return None,
    };
    if let Some(parent) = parts.next() {
        span_id(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    context(trace, span, sampled)
}

fn multi(extractor: &dyn Extractor) -> Option<SpanContext> {
    let trace = trace_id(extractor.get(TRACE_ID)?.trim())?;
    let span = span_id(extractor.get(SPAN_ID)?.trim())?;
    let debug = extractor.get(FLAGS).map(str::trim) == Some("1");
    let sampled = match extractor.get(SAMPLED).map(str::trim) {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => return None,
    };
    context(trace, span, sampled || debug)
}

fn trace_id(s: &str) -> Option<TraceId> {
    (s.len() == 16 || s.len() == 32)
        .then(|| hex(s, 32))
        .flatten()
        .map(TraceId::from)
}

fn span_id(s: &str) -> Option<SpanId> {
    (s.len() == 16)
        .then(|| hex(s, 16))
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .map(SpanId::from)
}

fn context(trace: TraceId, span: SpanId, sampled: bool) -> Option<SpanContext> {
    super::flags::remote(trace, span, sampled)
}

/// Writes `b3` (`multi` false) or the `X-B3-*` headers.
pub(super) fn inject(cx: &Context, injector: &mut dyn Injector, multi: bool) {
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return;
    }
    let sampled = if sc.is_sampled() { "1" } else { "0" };
    if multi {
        injector.set(TRACE_ID, sc.trace_id().to_string());
        injector.set(SPAN_ID, sc.span_id().to_string());
        injector.set(SAMPLED, sampled.to_owned());
    } else {
        injector.set(
            SINGLE,
            format!("{}-{}-{sampled}", sc.trace_id(), sc.span_id()),
        );
    }
}
