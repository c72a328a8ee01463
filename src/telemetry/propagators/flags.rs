//! Trace flags of the non-W3C formats, reduced to W3C's one sampled bit.
//!
//! The B3 and X-Ray propagators keep their "debug" (0x04) and "deferred"
//! (0x02) states as extra trace-flag bits. The SDK copies a parent's flags
//! into its children, so left alone those bits would reach the W3C
//! `traceparent` wingspan writes (`-03`, `-06`), where they are reserved.

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

const DEBUG: u8 = 0x04;

/// `sc` with only the sampled bit: debug implies sampled (the B3 spec);
/// deferred ("the receiver decides") reads as not sampled, as the other
/// OTel SDKs read it, so a parent-based sampler follows the caller.
pub(crate) fn normalise(sc: SpanContext) -> SpanContext {
    let raw = sc.trace_flags().to_u8();
    let sampled = raw & (TraceFlags::SAMPLED.to_u8() | DEBUG) != 0;
    if raw == u8::from(sampled) {
        return sc;
    }
    SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        TraceFlags::default().with_sampled(sampled),
        sc.is_remote(),
        sc.trace_state().clone(),
    )
}

/// The remote context a caller's ids and sampling decision describe, when
/// valid (ids of zeros are not): what every hand-written format extracts.
pub(crate) fn remote(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Option<SpanContext> {
    let sc = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::default().with_sampled(sampled),
        true,
        TraceState::default(),
    );
    sc.is_valid().then_some(sc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceId, TraceState};

    fn with(flags: u8) -> SpanContext {
        SpanContext::new(
            TraceId::from(1),
            SpanId::from(1),
            TraceFlags::new(flags),
            true,
            TraceState::default(),
        )
    }

    #[test]
    fn only_the_sampled_bit_is_left() {
        for (raw, sampled) in [(0, 0), (1, 1), (2, 0), (4, 1), (5, 1), (6, 1)] {
            assert_eq!(normalise(with(raw)).trace_flags().to_u8(), sampled, "{raw}");
        }
    }
}
