//! Whether a span can record, known before it is built, so that nothing is
//! built for one that cannot: no attribute vector, no clone of pre-built
//! attributes, no span at all when the SDK is disabled.
//!
//! The SDK decides sampling inside `build_with_context`, after the builder
//! (and its attributes) exists. Most of that decision is known earlier from
//! the configured sampler: a disabled SDK records nothing; `always_off`
//! records nothing; a `parentbased_*` sampler never records a span whose
//! parent is not sampled. Only a root span under a ratio sampler needs the
//! trace id the SDK is about to draw.

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::Context;
use opentelemetry_sdk::trace::Sampler;

/// What the pipeline can record, fixed at `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recording {
    /// `OTEL_SDK_DISABLED=true`: no span is built, nothing is extracted or
    /// propagated (the specification's no-op SDK).
    Off,
    /// Spans are built (a caller's context still propagates through them)
    /// but none records: `always_off`, or no span processor.
    Never,
    /// A `parentbased_*` sampler: a span under a parent that is not sampled
    /// does not record.
    ParentBased,
    /// The sampler decides per span (`always_on`, `traceidratio`).
    Sampler,
}

impl Recording {
    /// From the sampler the provider was built with and whether a span
    /// processor receives what it records.
    pub(crate) fn of(disabled: bool, sampler: &Sampler, processor: bool) -> Self {
        if disabled {
            return Self::Off;
        }
        match sampler {
            _ if !processor => Self::Never,
            Sampler::AlwaysOff => Self::Never,
            Sampler::ParentBased(_) => Self::ParentBased,
            _ => Self::Sampler,
        }
    }

    /// Whether a span started under `parent` may record: `false` only when
    /// it certainly will not.
    pub(crate) fn may_record(self, parent: &Context) -> bool {
        match self {
            Self::Off | Self::Never => false,
            Self::Sampler => true,
            Self::ParentBased => {
                // Borrowed, not cloned: a clone copies the trace state.
                let span = parent.span();
                let sc = span.span_context();
                !sc.is_valid() || sc.is_sampled()
            }
        }
    }

    /// Whether spans are built at all.
    pub(crate) fn is_off(self) -> bool {
        self == Self::Off
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    use super::*;

    fn parent(sampled: bool) -> Context {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(9u64),
            flags,
            true,
            TraceState::default(),
        ))
    }

    #[test]
    fn disabled_and_always_off_never_record() {
        let on = Sampler::AlwaysOn;
        assert_eq!(Recording::of(true, &on, true), Recording::Off);
        assert_eq!(
            Recording::of(false, &Sampler::AlwaysOff, true),
            Recording::Never
        );
        assert_eq!(Recording::of(false, &on, false), Recording::Never);
        for r in [Recording::Off, Recording::Never] {
            assert!(!r.may_record(&parent(true)));
            assert!(!r.may_record(&Context::new()));
        }
        assert!(Recording::Off.is_off());
        assert!(!Recording::Never.is_off());
    }

    #[test]
    fn parent_based_follows_the_parents_flag_and_roots_may_record() {
        let r = Recording::of(
            false,
            &Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.01))),
            true,
        );
        assert_eq!(r, Recording::ParentBased);
        assert!(r.may_record(&parent(true)));
        assert!(!r.may_record(&parent(false)));
        assert!(r.may_record(&Context::new()));
    }

    #[test]
    fn a_sampler_without_parent_rule_may_always_record() {
        let r = Recording::of(false, &Sampler::TraceIdRatioBased(0.5), true);
        assert_eq!(r, Recording::Sampler);
        assert!(r.may_record(&parent(false)));
    }
}
