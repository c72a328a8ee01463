//! Tail sampling's counters, read by observable instruments beside the
//! `otel.sdk.*` self-metrics: `wingspan.sampling.traces` by decision and
//! `wingspan.sampling.overflow`. Every series is reported from the start,
//! at 0, so an alert on the overflow has a series to read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry::metrics::Meter;
use opentelemetry::KeyValue;

use super::policy::Verdict;
use crate::names;

/// What the sampler decided, counted.
#[derive(Debug, Default)]
pub(crate) struct TailCounts {
    traces: [AtomicU64; Verdict::VALUES.len()],
    overflow: AtomicU64,
}

impl TailCounts {
    pub(super) fn decided(&self, verdict: Verdict) {
        self.traces[verdict.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn overflowed(&self) {
        self.overflow.fetch_add(1, Ordering::Relaxed);
    }

    /// Traces decided so.
    #[cfg(test)]
    pub(crate) fn traces(&self, verdict: Verdict) -> u64 {
        self.traces[verdict.index()].load(Ordering::Relaxed)
    }

    /// Traces decided early for want of room.
    pub(crate) fn overflow(&self) -> u64 {
        self.overflow.load(Ordering::Relaxed)
    }
}

/// Registers the two counters on `meter`.
pub(crate) fn register(meter: &Meter, counts: &Arc<TailCounts>) {
    let sets: Vec<[KeyValue; 1]> = Verdict::VALUES
        .iter()
        .map(|v| [KeyValue::new(names::WINGSPAN_SAMPLING_DECISION, *v)])
        .collect();
    let c = counts.clone();
    meter
        .u64_observable_counter(names::WINGSPAN_SAMPLING_TRACES)
        .with_unit("{trace}")
        .with_description("Local traces decided by in-process tail sampling.")
        .with_callback(move |o| {
            for (count, attrs) in c.traces.iter().zip(&sets) {
                o.observe(count.load(Ordering::Relaxed), attrs);
            }
        })
        .build();
    let c = counts.clone();
    meter
        .u64_observable_counter(names::WINGSPAN_SAMPLING_OVERFLOW)
        .with_unit("{trace}")
        .with_description(
            "Local traces decided early, by the base ratio alone, because the tail sampling buffer was full.",
        )
        .with_callback(move |o| o.observe(c.overflow(), &[]))
        .build();
}
