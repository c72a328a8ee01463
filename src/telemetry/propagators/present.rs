//! [`Present`]: which context headers a request carries, noted during the
//! HTTP layer's one pass over the headers, so a request without any (most
//! of them) skips extraction without a lookup or an allocation.

use crate::config::Propagator;

/// A set of context header families, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Present(u16);

const TRACEPARENT: u16 = 1 << 0;
const BAGGAGE: u16 = 1 << 1;
const B3_SINGLE: u16 = 1 << 2;
const B3_MULTI: u16 = 1 << 3;
const UBER_TRACE_ID: u16 = 1 << 4;
const UBERCTX: u16 = 1 << 5;
const XRAY: u16 = 1 << 6;
const OT_TRACER: u16 = 1 << 7;
const OT_BAGGAGE: u16 = 1 << 8;

impl Present {
    /// Every family: for an extractor whose headers were not scanned.
    pub(crate) const ALL: Present = Present(u16::MAX);

    /// Notes `name` (lower case, as `http::HeaderName` keeps it) when it is
    /// a context header.
    #[inline]
    pub(crate) fn note(&mut self, name: &str) {
        self.0 |= match name {
            "traceparent" => TRACEPARENT,
            "baggage" => BAGGAGE,
            "b3" => B3_SINGLE,
            // The multi-header form needs its trace id; the other X-B3-*
            // headers alone carry no context.
            "x-b3-traceid" => B3_MULTI,
            "uber-trace-id" => UBER_TRACE_ID,
            "x-amzn-trace-id" => XRAY,
            "ot-tracer-traceid" => OT_TRACER,
            n if n.starts_with("uberctx-") => UBERCTX,
            n if n.starts_with("ot-baggage-") => OT_BAGGAGE,
            _ => 0,
        };
    }

    /// The trace context headers `p` reads (B3 reads both forms).
    pub(crate) fn trace_of(p: Propagator) -> Present {
        Present(match p {
            Propagator::TraceContext => TRACEPARENT,
            Propagator::B3 | Propagator::B3Multi => B3_SINGLE | B3_MULTI,
            Propagator::Jaeger => UBER_TRACE_ID,
            Propagator::XRay => XRAY,
            Propagator::OtTrace => OT_TRACER,
            Propagator::Baggage | Propagator::None => 0,
        })
    }

    /// The baggage headers `p` reads.
    pub(crate) fn baggage_of(p: Propagator) -> Present {
        Present(match p {
            Propagator::Baggage => BAGGAGE,
            Propagator::Jaeger => UBERCTX,
            Propagator::OtTrace => OT_BAGGAGE,
            _ => 0,
        })
    }

    pub(crate) fn union(self, other: Present) -> Present {
        Present(self.0 | other.0)
    }

    pub(crate) fn any_of(self, other: Present) -> bool {
        self.0 & other.0 != 0
    }
}
