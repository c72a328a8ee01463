//! What tail sampling keeps: the decision on a local trace once its local
//! root span has ended.

use std::time::Duration;

use opentelemetry::trace::{Status, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

use crate::config::TailSamplingConfig;
use crate::names;

/// Why a trace was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// A span with status Error, or a root that answered 5xx.
    Error,
    /// A root slower than its route class's threshold.
    Slow,
    /// The remote parent was sampled.
    Parent,
    /// The base ratio, on the trace id.
    Ratio,
}

impl Reason {
    /// The `wingspan.sampling.decision` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Error => names::SAMPLING_ERROR,
            Self::Slow => names::SAMPLING_SLOW,
            Self::Parent => names::SAMPLING_PARENT,
            Self::Ratio => names::SAMPLING_RATIO,
        }
    }
}

/// What happens to a local trace's spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Exported, the root carrying the reason.
    Keep(Reason),
    /// Dropped before export.
    Drop,
}

impl Verdict {
    /// An index into the counters: the four reasons, then drop.
    pub(crate) fn index(self) -> usize {
        match self {
            Self::Keep(Reason::Error) => 0,
            Self::Keep(Reason::Slow) => 1,
            Self::Keep(Reason::Parent) => 2,
            Self::Keep(Reason::Ratio) => 3,
            Self::Drop => 4,
        }
    }

    /// The `wingspan.sampling.decision` values, in [`index`](Self::index) order.
    pub(crate) const VALUES: [&'static str; 5] = [
        names::SAMPLING_ERROR,
        names::SAMPLING_SLOW,
        names::SAMPLING_PARENT,
        names::SAMPLING_RATIO,
        names::SAMPLING_DROP,
    ];
}

/// The thresholds and ratio of one pipeline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    slow: Duration,
    llm_slow: Duration,
    /// The ratio as the bound `traceidratio` compares the trace id's low 63
    /// bits with; `None` keeps all.
    ratio_bound: Option<u64>,
}

impl Policy {
    pub(crate) fn new(cfg: &TailSamplingConfig) -> Self {
        Self {
            slow: cfg.slow,
            llm_slow: cfg.llm_slow,
            ratio_bound: (cfg.ratio < 1.0)
                .then(|| (cfg.ratio.max(0.0) * (1u64 << 63) as f64) as u64),
        }
    }

    /// Whether the base ratio keeps `trace_id`: the SDK's `traceidratio`
    /// arithmetic, so a trace this process keeps by ratio is one a head
    /// sampler at the same ratio would have kept too.
    pub(crate) fn by_ratio(&self, trace_id: TraceId) -> Verdict {
        let Some(bound) = self.ratio_bound else {
            return Verdict::Keep(Reason::Ratio);
        };
        let bytes = trace_id.to_bytes();
        let mut low = [0u8; 8];
        low.copy_from_slice(&bytes[8..]);
        if (u64::from_be_bytes(low) >> 1) < bound {
            Verdict::Keep(Reason::Ratio)
        } else {
            Verdict::Drop
        }
    }

    /// The decision on a local trace: its root and the spans that ended
    /// before it.
    pub(crate) fn decide(&self, root: &SpanData, others: &[SpanData]) -> Verdict {
        if is_error(root)
            || others
                .iter()
                .any(|s| matches!(s.status, Status::Error { .. }))
        {
            return Verdict::Keep(Reason::Error);
        }
        // A clock step backwards reads as 0: not slow.
        let took = root
            .end_time
            .duration_since(root.start_time)
            .unwrap_or_default();
        if took > self.threshold(root) {
            return Verdict::Keep(Reason::Slow);
        }
        // Recorded under a remote parent means the parent was sampled: the
        // head sampler is parent-based.
        if root.parent_span_is_remote {
            return Verdict::Keep(Reason::Parent);
        }
        self.by_ratio(root.span_context.trace_id())
    }

    fn threshold(&self, root: &SpanData) -> Duration {
        let llm = root
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == names::WINGSPAN_ROUTE_CLASS && kv.value.as_str() == "llm");
        if llm {
            self.llm_slow
        } else {
            self.slow
        }
    }
}

/// Status Error, or a server answer of 5xx (a span whose status the
/// instrumentation left unset).
fn is_error(span: &SpanData) -> bool {
    matches!(span.status, Status::Error { .. })
        || span.attributes.iter().any(|kv| {
            kv.key.as_str() == names::HTTP_RESPONSE_STATUS_CODE
                && matches!(kv.value, Value::I64(code) if code >= 500)
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::SystemTime;

    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    /// A sampled span of `trace`, its parent `parent` (0: none), ended
    /// `took` after it started.
    pub(crate) fn span(trace: u128, id: u64, parent: u64, took: Duration) -> SpanData {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: start,
            end_time: start + took,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    fn policy(ratio: f64) -> Policy {
        Policy::new(&TailSamplingConfig {
            ratio,
            ..TailSamplingConfig::default()
        })
    }

    const FAST: Duration = Duration::from_millis(5);

    #[test]
    fn errors_anywhere_in_the_trace_keep_it() {
        let p = policy(0.0);
        let root = span(1, 1, 0, FAST);
        assert_eq!(p.decide(&root, &[]), Verdict::Drop);
        let mut child = span(1, 2, 1, FAST);
        child.status = Status::error("boom");
        assert_eq!(p.decide(&root, &[child]), Verdict::Keep(Reason::Error));
        let mut root = span(1, 1, 0, FAST);
        root.attributes
            .push(KeyValue::new(names::HTTP_RESPONSE_STATUS_CODE, 503_i64));
        assert_eq!(p.decide(&root, &[]), Verdict::Keep(Reason::Error));
        let mut root = span(1, 1, 0, FAST);
        root.attributes
            .push(KeyValue::new(names::HTTP_RESPONSE_STATUS_CODE, 404_i64));
        assert_eq!(p.decide(&root, &[]), Verdict::Drop);
    }

    #[test]
    fn slowness_is_judged_by_route_class() {
        let p = policy(0.0);
        let slow = span(1, 1, 0, Duration::from_millis(301));
        assert_eq!(p.decide(&slow, &[]), Verdict::Keep(Reason::Slow));
        assert_eq!(
            p.decide(&span(1, 1, 0, Duration::from_millis(300)), &[]),
            Verdict::Drop
        );
        let mut llm = span(1, 1, 0, Duration::from_secs(2));
        llm.attributes
            .push(KeyValue::new(names::WINGSPAN_ROUTE_CLASS, "llm"));
        assert_eq!(p.decide(&llm, &[]), Verdict::Drop);
        llm.end_time = llm.start_time + Duration::from_secs(11);
        assert_eq!(p.decide(&llm, &[]), Verdict::Keep(Reason::Slow));
        // A clock that stepped back is not slow.
        let mut back = span(1, 1, 0, FAST);
        back.end_time = back.start_time - Duration::from_secs(1);
        assert_eq!(p.decide(&back, &[]), Verdict::Drop);
    }

    #[test]
    fn a_recorded_remote_parent_was_sampled() {
        let mut root = span(1, 1, 9, FAST);
        root.parent_span_is_remote = true;
        assert_eq!(
            policy(0.0).decide(&root, &[]),
            Verdict::Keep(Reason::Parent)
        );
    }

    #[test]
    fn the_ratio_is_the_sdks_on_the_trace_id() {
        use opentelemetry::trace::{Link, SpanKind};
        use opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample as _};
        for ratio in [0.0, 0.01, 0.5, 1.0] {
            let p = policy(ratio);
            let head = Sampler::TraceIdRatioBased(ratio);
            let mut kept = 0;
            for i in 0..2_000u128 {
                // Spread over the low half, which both read.
                let id = TraceId::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835));
                let sdk = head
                    .should_sample(None, id, "s", &SpanKind::Server, &[], &[] as &[Link])
                    .decision
                    == SamplingDecision::RecordAndSample;
                let ours = p.by_ratio(id) == Verdict::Keep(Reason::Ratio);
                assert_eq!(ours, sdk, "{ratio} {id}");
                kept += usize::from(ours);
            }
            let share = kept as f64 / 2_000.0;
            assert!((share - ratio).abs() < 0.05, "{ratio}: {share}");
        }
    }
}
