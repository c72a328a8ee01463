//! Jaeger's `uber-trace-id` and `uberctx-*` baggage (OTEL_PROPAGATORS
//! `jaeger`). Ours because `opentelemetry-jaeger-propagator`'s latest (0.32)
//! pairs with opentelemetry 0.32, and the tree keeps one version.
//!
//! `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`: the ids
//! in hex, possibly shorter than 32/16 digits (zero-padded on the left),
//! zero invalid; the parent deprecated (written `0`); flags a byte in hex,
//! 1 sampled, 2 debug (which implies sampled). The value may arrive
//! URL-encoded (`%3A` for `:`). Baggage: one `uberctx-{key}` header per
//! entry, the value URL-encoded.

use std::borrow::Cow;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};
use opentelemetry::Context;

use super::{hex, with_entries};

pub(super) const HEADER: &str = "uber-trace-id";
const BAGGAGE_PREFIX: &str = "uberctx-";
const DEBUG: u8 = 0x02;

/// The longest value worth parsing: 32 + 16 + 16 + 2 digits and 3 colons,
/// URL-encoded at most thrice as long.
const MAX_LEN: usize = 3 * (32 + 16 + 16 + 2 + 3);

/// The span context of `uber-trace-id`, if valid.
pub(super) fn extract(extractor: &dyn Extractor) -> Option<SpanContext> {
    let raw = extractor.get(HEADER)?.trim();
    if raw.len() > MAX_LEN {
        return None;
    }
    let value: Cow<'_, str> = if raw.contains('%') {
        Cow::Owned(crate::config::percent_decode(raw).ok()?)
    } else {
        Cow::Borrowed(raw)
    };
    let mut parts = value.split(':');
    let (trace, span, _parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let trace_id = TraceId::from(hex(trace, 32)?);
    let span_id = SpanId::from(u64::try_from(hex(span, 16)?).ok()?);
    let flags = u8::try_from(hex(flags, 2)?).ok()?;
    let sampled = flags & (TraceFlags::SAMPLED.to_u8() | DEBUG) != 0;
    super::flags::remote(trace_id, span_id, sampled)
}

/// `cx` with the `uberctx-*` entries added to its baggage.
pub(super) fn extract_baggage(cx: &Context, extractor: &dyn Extractor) -> Context {
    let entries = extractor.keys().into_iter().filter_map(|k| {
        let key = k.strip_prefix(BAGGAGE_PREFIX).filter(|k| !k.is_empty())?;
        let raw = extractor.get(k)?;
        // Lenient: a stray `%` keeps the value as written.
        let value = crate::config::percent_decode(raw).unwrap_or_else(|lenient| lenient);
        Some((key.to_owned(), value))
    });
    with_entries(cx, entries)
}

/// Writes `uber-trace-id`, and the `uberctx-*` headers with `baggage`.
pub(super) fn inject(cx: &Context, injector: &mut dyn Injector, baggage: bool) {
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        injector.set(
            HEADER,
            format!(
                "{}:{}:0:{:02x}",
                sc.trace_id(),
                sc.span_id(),
                u8::from(sc.is_sampled())
            ),
        );
    }
    if baggage {
        for (k, (v, _)) in cx.baggage() {
            injector.set(
                &format!("{BAGGAGE_PREFIX}{}", k.as_str()),
                url_encode(v.as_str()),
            );
        }
    }
}

/// Everything but RFC 3986's unreserved characters as `%XX`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
