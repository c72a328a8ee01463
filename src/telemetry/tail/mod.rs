//! In-process tail sampling (`WINGSPAN_TAIL_SAMPLING=true`).
//!
//! The head sampler records every local trace (`parentbased_always_on`);
//! [`TailSampler`], in front of the guarded batch processor, holds each
//! local trace's spans until its local root span (no parent, or a remote
//! one) ends, then keeps the whole trace if a span has status Error or the
//! root answered 5xx, if the root was slower than its route class's
//! threshold, if a remote parent had sampled it, or by the base ratio on the
//! trace id ([`policy`]); otherwise it drops it before it reaches the queue.
//! The kept root carries `wingspan.sampling.decision`.
//!
//! Spans that end after their root follow the remembered decision; memory
//! is bounded by a cap on held spans and one on open traces ([`buffer`]):
//! past either, the oldest open trace is decided at once by the base ratio
//! alone (counted in `wingspan.sampling.overflow`), and its later spans,
//! root included, follow that decision.

mod buffer;
mod metrics;
mod policy;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config::TailSamplingConfig;
use crate::names;

use buffer::Buffer;
pub(crate) use metrics::{register, TailCounts};
use policy::{Policy, Reason, Verdict};

/// Holds local traces until their root ends and forwards the kept ones to
/// `inner`.
#[derive(Debug)]
pub(crate) struct TailSampler<P> {
    inner: P,
    policy: Policy,
    buffer: Mutex<Buffer>,
    counts: Arc<TailCounts>,
}

/// What one call decided, carried out once the lock is released.
#[derive(Default)]
struct Out {
    forward: Vec<SpanData>,
}

impl<P> TailSampler<P> {
    pub(crate) fn new(inner: P, cfg: &TailSamplingConfig, counts: Arc<TailCounts>) -> Self {
        Self {
            inner,
            policy: Policy::new(cfg),
            buffer: Mutex::new(Buffer::new(cfg.max_spans, cfg.max_traces)),
            counts,
        }
    }

    /// The buffer; a thread that panicked while holding it left it
    /// consistent (every mutation is a single step), so poisoning is ignored.
    fn buffer(&self) -> MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `verdict` on `trace` and adds its `spans` to `out` if kept.
    fn settle(
        &self,
        b: &mut Buffer,
        trace: TraceId,
        verdict: Verdict,
        spans: Vec<SpanData>,
        out: &mut Out,
    ) {
        b.remember(trace, verdict);
        self.counts.decided(verdict);
        if let Verdict::Keep(_) = verdict {
            out.forward.extend(spans);
        }
    }

    /// `span` under an earlier decision.
    fn follow(verdict: Verdict, mut span: SpanData, out: &mut Out) {
        if let Verdict::Keep(reason) = verdict {
            if is_local_root(&span) {
                mark(&mut span, reason);
            }
            out.forward.push(span);
        }
    }

    fn end(&self, span: SpanData, out: &mut Out) {
        let trace = span.span_context.trace_id();
        let mut b = self.buffer();
        if let Some(verdict) = b.decided(trace) {
            return Self::follow(verdict, span, out);
        }
        if is_local_root(&span) {
            let mut spans = b.take(trace);
            let verdict = self.policy.decide(&span, &spans);
            let mut span = span;
            if let Verdict::Keep(reason) = verdict {
                mark(&mut span, reason);
            }
            spans.push(span);
            return self.settle(&mut b, trace, verdict, spans, out);
        }
        // Room first: the oldest open traces are decided by ratio alone.
        while b.full_for(trace) {
            let Some((old, spans)) = b.pop_oldest() else {
                break;
            };
            self.counts.overflowed();
            let verdict = self.policy.by_ratio(old);
            self.settle(&mut b, old, verdict, spans, out);
        }
        match b.decided(trace) {
            // This very trace was the oldest.
            Some(verdict) => Self::follow(verdict, span, out),
            None => b.hold(trace, span),
        }
    }

    /// Decides every open trace by ratio (at shutdown: their roots will not
    /// end in time).
    fn drain(&self, out: &mut Out) {
        let mut b = self.buffer();
        while let Some((trace, spans)) = b.pop_oldest() {
            let verdict = self.policy.by_ratio(trace);
            self.settle(&mut b, trace, verdict, spans, out);
        }
    }
}

/// The local root: no parent, or a parent in another process.
fn is_local_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

fn mark(span: &mut SpanData, reason: Reason) {
    span.attributes.push(KeyValue::new(
        names::WINGSPAN_SAMPLING_DECISION,
        reason.as_str(),
    ));
}

impl<P: SpanProcessor> SpanProcessor for TailSampler<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        // A sampled remote parent decided for the whole local trace: its
        // spans go straight through instead of waiting for the root.
        let parent = cx.span();
        let parent = parent.span_context();
        if parent.is_remote() && parent.is_sampled() {
            let trace = parent.trace_id();
            let mut b = self.buffer();
            if b.decided(trace).is_none() {
                let verdict = Verdict::Keep(Reason::Parent);
                b.remember(trace, verdict);
                self.counts.decided(verdict);
            }
        }
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        // Not sampled: the guard behind drops it (and counts nothing).
        if !span.span_context.is_sampled() {
            return self.inner.on_end(span);
        }
        let mut out = Out::default();
        self.end(span, &mut out);
        for s in out.forward {
            self.inner.on_end(s);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Open traces are still running: only what was decided is flushed.
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let mut out = Out::default();
        self.drain(&mut out);
        for s in out.forward {
            self.inner.on_end(s);
        }
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use opentelemetry::trace::Status;

    use super::policy::tests::span;
    use super::*;

    /// Collects what the sampler forwards.
    #[derive(Debug, Default)]
    struct Sink(Arc<StdMutex<Vec<SpanData>>>);

    impl SpanProcessor for Sink {
        fn on_start(&self, _: &mut Span, _: &Context) {}
        fn on_end(&self, span: SpanData) {
            self.0.lock().unwrap().push(span);
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    fn sampler(
        cfg: TailSamplingConfig,
    ) -> (
        TailSampler<Sink>,
        Arc<StdMutex<Vec<SpanData>>>,
        Arc<TailCounts>,
    ) {
        let got = Arc::new(StdMutex::new(Vec::new()));
        let counts = Arc::new(TailCounts::default());
        (
            TailSampler::new(Sink(got.clone()), &cfg, counts.clone()),
            got,
            counts,
        )
    }

    fn cfg(max_spans: usize, max_traces: usize) -> TailSamplingConfig {
        TailSamplingConfig {
            enabled: true,
            ratio: 0.0,
            max_spans,
            max_traces,
            ..TailSamplingConfig::default()
        }
    }

    fn decision(s: &SpanData) -> Option<String> {
        s.attributes
            .iter()
            .find(|kv| kv.key.as_str() == names::WINGSPAN_SAMPLING_DECISION)
            .map(|kv| kv.value.as_str().into_owned())
    }

    const FAST: Duration = Duration::from_millis(1);

    #[test]
    fn a_kept_trace_goes_whole_with_the_decision_on_its_root() {
        let (t, got, counts) = sampler(cfg(100, 10));
        let mut failed = span(7, 2, 1, FAST);
        failed.status = Status::error("x");
        t.on_end(failed);
        t.on_end(span(7, 3, 1, FAST));
        assert!(got.lock().unwrap().is_empty(), "held until the root ends");
        t.on_end(span(7, 1, 0, FAST));
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(decision(&got[2]).as_deref(), Some("error"));
        assert_eq!(decision(&got[0]), None);
        assert_eq!(counts.traces(Verdict::Keep(Reason::Error)), 1);
    }

    #[test]
    fn a_dropped_trace_stays_dropped_for_late_spans_and_a_kept_one_lets_them_through() {
        let (t, got, counts) = sampler(cfg(100, 10));
        t.on_end(span(1, 2, 1, FAST));
        t.on_end(span(1, 1, 0, FAST));
        t.on_end(span(1, 3, 2, FAST)); // a detached task, after the root
        assert!(got.lock().unwrap().is_empty());
        assert_eq!(counts.traces(Verdict::Drop), 1);
        t.on_end(span(2, 1, 0, Duration::from_secs(1)));
        t.on_end(span(2, 3, 1, FAST));
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(decision(&got[0]).as_deref(), Some("slow"));
        // The buffer is empty again: nothing held for a decided trace.
        assert_eq!(t.buffer().held(), 0);
    }

    #[test]
    fn past_a_cap_the_oldest_trace_is_decided_by_ratio_and_its_root_follows() {
        let (t, got, counts) = sampler(cfg(3, 2));
        t.on_end(span(1, 2, 1, FAST));
        t.on_end(span(2, 2, 1, FAST));
        t.on_end(span(3, 2, 1, FAST)); // a third trace: trace 1 goes
        assert_eq!(counts.overflow(), 1);
        assert_eq!(t.buffer().open_traces(), 2);
        t.on_end(span(3, 3, 1, FAST));
        t.on_end(span(3, 4, 1, FAST)); // a fourth span: trace 2 goes
        assert_eq!(counts.overflow(), 2);
        // Trace 1's root, slow, follows the ratio's drop.
        t.on_end(span(1, 1, 0, Duration::from_secs(5)));
        assert!(got.lock().unwrap().is_empty());
        // A span cap of 1 with one open trace: the trace itself is the oldest.
        let (t, _, counts) = sampler(cfg(1, 1));
        t.on_end(span(1, 2, 1, FAST));
        t.on_end(span(1, 3, 1, FAST));
        assert_eq!(counts.overflow(), 1);
        assert_eq!(t.buffer().held(), 0);
    }

    #[test]
    fn shutdown_decides_what_is_still_open() {
        let (t, got, counts) = sampler(TailSamplingConfig {
            ratio: 1.0,
            ..cfg(10, 10)
        });
        t.on_end(span(1, 2, 1, FAST));
        t.shutdown_with_timeout(Duration::from_secs(1)).unwrap();
        assert_eq!(got.lock().unwrap().len(), 1);
        assert_eq!(counts.traces(Verdict::Keep(Reason::Ratio)), 1);
    }

    #[test]
    fn many_threads_lose_nothing_and_leave_nothing_held() {
        let (t, got, counts) = sampler(TailSamplingConfig {
            ratio: 0.5,
            ..cfg(1_000, 100)
        });
        let t = Arc::new(t);
        let threads: Vec<_> = (0..4u128)
            .map(|n| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for i in 0..500u64 {
                        // Unique per thread and per i: an odd multiplier is a
                        // bijection of the low 64 bits, the thread in the high.
                        let low = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                        let trace = ((n + 1) << 64) | u128::from(low);
                        t.on_end(span(trace, 2, 1, FAST));
                        t.on_end(span(trace, 1, 0, FAST));
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        let kept = counts.traces(Verdict::Keep(Reason::Ratio));
        assert_eq!(kept + counts.traces(Verdict::Drop), 2_000);
        assert_eq!(got.lock().unwrap().len() as u64, kept * 2);
        assert_eq!(t.buffer().held(), 0);
    }
}
