//! The spans of open local traces, held until their local root ends, and
//! the recent decisions that late spans follow. Bounded on both counts: the
//! caller evicts the oldest open trace when a cap would be passed.

use std::collections::{BTreeMap, HashMap, VecDeque};

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::SpanData;

use super::policy::Verdict;

/// One open local trace.
#[derive(Debug)]
struct Open {
    spans: Vec<SpanData>,
    /// Its place in the opening order.
    seq: u64,
}

/// The held spans and the recent decisions, behind the processor's lock.
#[derive(Debug)]
pub(crate) struct Buffer {
    open: HashMap<TraceId, Open>,
    /// Open traces by opening order, the oldest first.
    order: BTreeMap<u64, TraceId>,
    next_seq: u64,
    /// Spans held over all open traces.
    held: usize,
    max_spans: usize,
    max_traces: usize,
    decided: HashMap<TraceId, Verdict>,
    /// `decided`'s keys, the oldest first: the first forgotten.
    decided_order: VecDeque<TraceId>,
    max_decided: usize,
}

impl Buffer {
    pub(crate) fn new(max_spans: usize, max_traces: usize) -> Self {
        Self {
            open: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            held: 0,
            max_spans,
            max_traces,
            decided: HashMap::new(),
            decided_order: VecDeque::new(),
            // Late spans (a task that outlives its request) come soon after
            // the root: twice the open traces' cap covers them at any rate
            // the buffer itself can hold.
            max_decided: max_traces.saturating_mul(2),
        }
    }

    /// The decision on `trace`, if taken recently.
    pub(crate) fn decided(&self, trace: TraceId) -> Option<Verdict> {
        self.decided.get(&trace).copied()
    }

    /// Remembers a decision, for the spans that end after it; the oldest is
    /// forgotten past the cap.
    pub(crate) fn remember(&mut self, trace: TraceId, verdict: Verdict) {
        if self.decided.insert(trace, verdict).is_some() {
            return;
        }
        self.decided_order.push_back(trace);
        while self.decided_order.len() > self.max_decided {
            if let Some(old) = self.decided_order.pop_front() {
                self.decided.remove(&old);
            }
        }
    }

    /// Takes the spans held for `trace`, closing it.
    pub(crate) fn take(&mut self, trace: TraceId) -> Vec<SpanData> {
        match self.open.remove(&trace) {
            Some(open) => {
                self.order.remove(&open.seq);
                self.held -= open.spans.len();
                open.spans
            }
            None => Vec::new(),
        }
    }

    /// Whether holding one more span of `trace` would pass a cap.
    pub(crate) fn full_for(&self, trace: TraceId) -> bool {
        self.held >= self.max_spans
            || (!self.open.contains_key(&trace) && self.open.len() >= self.max_traces)
    }

    /// Closes the oldest open trace and returns it with its spans.
    pub(crate) fn pop_oldest(&mut self) -> Option<(TraceId, Vec<SpanData>)> {
        let (_, trace) = self.order.pop_first()?;
        let spans = self
            .open
            .remove(&trace)
            .map(|o| o.spans)
            .unwrap_or_default();
        self.held -= spans.len();
        Some((trace, spans))
    }

    /// Holds `span` of `trace`, opening the trace if needed. The caller has
    /// made room ([`full_for`](Self::full_for)).
    pub(crate) fn hold(&mut self, trace: TraceId, span: SpanData) {
        let seq = self.next_seq;
        let open = self.open.entry(trace).or_insert_with(|| Open {
            spans: Vec::new(),
            seq,
        });
        if open.seq == seq {
            self.order.insert(seq, trace);
            self.next_seq += 1;
        }
        open.spans.push(span);
        self.held += 1;
    }

    /// Spans held, all open traces together.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// Open traces.
    #[cfg(test)]
    pub(crate) fn open_traces(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::policy::tests::span;
    use super::super::policy::Reason;
    use super::*;

    fn id(n: u128) -> TraceId {
        TraceId::from(n)
    }

    #[test]
    fn spans_are_held_by_trace_and_taken_whole() {
        let mut b = Buffer::new(10, 3);
        b.hold(id(1), span(1, 2, 1, Duration::ZERO));
        b.hold(id(1), span(1, 3, 1, Duration::ZERO));
        b.hold(id(2), span(2, 2, 1, Duration::ZERO));
        assert_eq!((b.held(), b.open_traces()), (3, 2));
        assert_eq!(b.take(id(1)).len(), 2);
        assert_eq!((b.held(), b.open_traces()), (1, 1));
        assert!(b.take(id(1)).is_empty());
        assert_eq!(b.pop_oldest().map(|(t, s)| (t, s.len())), Some((id(2), 1)));
        assert!(b.pop_oldest().is_none());
        assert_eq!(b.held(), 0);
    }

    #[test]
    fn caps_are_on_spans_and_on_traces_and_the_oldest_goes_first() {
        let mut b = Buffer::new(3, 2);
        b.hold(id(1), span(1, 2, 1, Duration::ZERO));
        b.hold(id(2), span(2, 2, 1, Duration::ZERO));
        assert!(b.full_for(id(3)), "a third trace");
        assert!(!b.full_for(id(2)), "one more span of an open trace");
        b.hold(id(2), span(2, 3, 1, Duration::ZERO));
        assert!(b.full_for(id(2)), "a fourth span");
        assert_eq!(b.pop_oldest().map(|(t, _)| t), Some(id(1)));
        assert!(!b.full_for(id(3)));
    }

    #[test]
    fn decisions_are_remembered_up_to_twice_the_trace_cap() {
        let mut b = Buffer::new(10, 2);
        for n in 0..5 {
            b.remember(id(n), Verdict::Keep(Reason::Ratio));
        }
        b.remember(id(4), Verdict::Drop);
        assert_eq!(b.decided(id(0)), None);
        assert_eq!(b.decided(id(1)), Some(Verdict::Keep(Reason::Ratio)));
        assert_eq!(b.decided(id(4)), Some(Verdict::Drop));
        assert_eq!(b.decided.len(), 4);
        assert_eq!(b.decided_order.len(), 4);
    }
}
