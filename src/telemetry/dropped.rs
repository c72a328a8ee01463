//! Counting what the pipeline loses.
//!
//! The SDK's `BatchSpanProcessor` keeps its dropped count private, so wingspan
//! bounds the queue itself: [`GuardedProcessor`] counts every span it hands to
//! the batch processor, [`CountingExporter`] counts every span that left it,
//! and a span that would overflow the bound is dropped *here*, counted, and
//! never reaches the SDK's queue. The bound includes the batch being exported,
//! so it is never looser than the SDK's own. [`GuardedLogProcessor`] does the
//! same for log records. The guard is also where span attribute values are
//! capped (see [`super::limits`]), before the span waits in the queue.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

use super::every::Every;
use super::pipelined::InFlight;
use super::redact::Scrubber;
use crate::names;

/// How often at most a loss is logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The `error.type` values of a failed export: a bounded set, so each is
/// one pre-built series.
pub(crate) const EXPORT_ERRORS: [&str; 3] = [
    names::ERROR_TIMEOUT,
    names::ERROR_OTHER,
    names::ERROR_REJECTED,
];

/// The index of `rejected` in [`EXPORT_ERRORS`].
const REJECTED: usize = 2;

/// The class of a failed export, an index into [`EXPORT_ERRORS`]. The OTLP
/// exporters report timeouts as internal failures with a message, so the
/// message is read too.
fn error_class(e: &OTelSdkError) -> usize {
    let timeout = match e {
        OTelSdkError::Timeout(_) => true,
        OTelSdkError::InternalFailure(m) => {
            let m = m.to_ascii_lowercase();
            m.contains("timeout") || m.contains("timed out") || m.contains("deadline")
        }
        _ => false,
    };
    usize::from(!timeout)
}

/// Items delivered and items lost, per `error.type`.
#[derive(Debug, Default)]
pub(crate) struct Outcomes {
    pub(crate) ok: AtomicU64,
    pub(crate) failed: [AtomicU64; EXPORT_ERRORS.len()],
    /// Items a collector rejected in a partial success, reported by the
    /// exporter before [`CountingExporter`] counts its batch.
    rejected: AtomicU64,
}

impl Outcomes {
    fn record(&self, n: u64, result: &OTelSdkResult) {
        match result {
            Ok(()) => {
                // The conventions: rejected items count as failed, only the
                // rest as exported. Exports overlap, so a batch may take
                // another's rejections; the totals are the same.
                let taken = self
                    .rejected
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| {
                        Some(r.saturating_sub(n))
                    })
                    .map_or(0, |r| r.min(n));
                self.ok.fetch_add(n - taken, Ordering::Relaxed);
                self.failed[REJECTED].fetch_add(taken, Ordering::Relaxed);
            }
            Err(e) => {
                self.failed[error_class(e)].fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// `n` items of an export that succeeded were rejected by the collector.
    pub(crate) fn reject(&self, n: u64) {
        self.rejected.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    pub(crate) fn failed(&self) -> u64 {
        self.failed.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// Loss counters shared by the pipeline's wrappers and read by the
/// self-metrics.
pub(crate) struct Losses {
    queued_spans: AtomicUsize,
    queued_logs: AtomicUsize,
    pub(crate) spans_queue_full: AtomicU64,
    pub(crate) logs_queue_full: AtomicU64,
    pub(crate) spans: Outcomes,
    pub(crate) metric_points: Outcomes,
    pub(crate) metric_exports_failed: AtomicU64,
    pub(crate) logs: Outcomes,
    /// The loss warning, at most once per [`LOG_EVERY`].
    warn_every: Every,
    /// Keeps the endpoints' passwords out of the exporters' messages.
    pub(crate) scrubber: Scrubber,
    /// Span exports handed over and not yet done (see [`super::pipelined`]).
    pub(crate) span_exports: Arc<InFlight>,
}

impl fmt::Debug for Losses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Losses")
            .field("spans_queue_full", &self.spans_queue_full)
            .field("spans_export_failed", &self.spans.failed())
            .finish_non_exhaustive()
    }
}

impl Losses {
    pub(crate) fn new(scrubber: Scrubber) -> Arc<Self> {
        Arc::new(Self {
            queued_spans: AtomicUsize::new(0),
            queued_logs: AtomicUsize::new(0),
            spans_queue_full: AtomicU64::new(0),
            logs_queue_full: AtomicU64::new(0),
            spans: Outcomes::default(),
            metric_points: Outcomes::default(),
            metric_exports_failed: AtomicU64::new(0),
            logs: Outcomes::default(),
            warn_every: Every::new(LOG_EVERY),
            scrubber,
            span_exports: InFlight::new(),
        })
    }

    /// Spans dropped for any reason.
    pub(crate) fn spans_dropped(&self) -> u64 {
        self.spans_queue_full.load(Ordering::Relaxed) + self.spans.failed()
    }

    /// Logs a warning at most once per [`LOG_EVERY`], from whichever thread
    /// noticed the loss first.
    fn warn(&self, what: &str, error: Option<&dyn fmt::Display>) {
        if !self.warn_every.pass() {
            return;
        }
        // Counts and error go in the message: as fields they would be
        // attribute keys outside the conventions.
        // The exporter's message is not wingspan's: it may quote the endpoint.
        let error = error
            .map(|e| format!(" ({})", self.scrubber.scrub(e.to_string())))
            .unwrap_or_default();
        tracing::warn!(
            target: "wingspan::telemetry",
            "telemetry is being dropped: {what}{error}; so far {} spans at the full queue, {} in failed \
             exports, {} failed metric exports, {} log records at the full queue, {} in failed \
             exports (logged at most every {}s)",
            self.spans_queue_full.load(Ordering::Relaxed),
            self.spans.failed(),
            self.metric_exports_failed.load(Ordering::Relaxed),
            self.logs_queue_full.load(Ordering::Relaxed),
            self.logs.failed(),
            LOG_EVERY.as_secs()
        );
    }
}

/// Takes one slot of a bounded queue, or says the queue is full.
fn take_slot(queued: &AtomicUsize, max: usize) -> bool {
    if queued.fetch_add(1, Ordering::Relaxed) >= max {
        queued.fetch_sub(1, Ordering::Relaxed);
        return false;
    }
    true
}

/// Gives back `n` slots (never below zero).
fn release_slots(queued: &AtomicUsize, n: usize) {
    let _ = queued.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| {
        Some(q.saturating_sub(n))
    });
}

/// Bounds the queue in front of a batch span processor, counts what it
/// drops, strips the `tracing` bridge's unregistered keys
/// ([`strip_bridge_keys`](super::limits::strip_bridge_keys)), and caps
/// attribute values.
#[derive(Debug)]
pub(crate) struct GuardedProcessor<P> {
    inner: P,
    losses: Arc<Losses>,
    max_queued: usize,
    value_limit: Option<usize>,
    /// How long a flush waits for the exports in flight.
    flush_wait: Duration,
}

impl<P> GuardedProcessor<P> {
    /// `max_queued` bounds the spans queued and in flight together;
    /// `flush_wait` is how long a flush waits for the exports in flight.
    pub(crate) fn new(
        inner: P,
        losses: Arc<Losses>,
        max_queued: usize,
        value_limit: Option<usize>,
        flush_wait: Duration,
    ) -> Self {
        Self {
            inner,
            losses,
            max_queued,
            value_limit,
            flush_wait,
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for GuardedProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if !take_slot(&self.losses.queued_spans, self.max_queued) {
            self.losses.spans_queue_full.fetch_add(1, Ordering::Relaxed);
            self.losses.warn("span queue full", None);
            return;
        }
        super::limits::strip_bridge_keys(&mut span);
        if let Some(max) = self.value_limit {
            super::limits::limit_span(&mut span, max);
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        // The processor's flush hands its last batch over and returns; the
        // exports it started may still be in flight.
        self.inner.force_flush()?;
        if self.losses.span_exports.wait_idle(self.flush_wait) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(self.flush_wait))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Bounds the queue in front of a batch log processor and counts what it
/// drops. No warning on a drop: the warning is itself a log record.
#[derive(Debug)]
pub(crate) struct GuardedLogProcessor<P> {
    inner: P,
    losses: Arc<Losses>,
    max_queued: usize,
}

impl<P> GuardedLogProcessor<P> {
    pub(crate) fn new(inner: P, losses: Arc<Losses>, max_queued: usize) -> Self {
        Self {
            inner,
            losses,
            max_queued,
        }
    }
}

impl<P: LogProcessor> LogProcessor for GuardedLogProcessor<P> {
    fn emit(&self, data: &mut SdkLogRecord, scope: &InstrumentationScope) {
        if !take_slot(&self.losses.queued_logs, self.max_queued) {
            self.losses.logs_queue_full.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.inner.emit(data, scope);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Wraps any exporter of spans, metrics or logs and counts what it
/// delivers and what it fails to deliver.
#[derive(Debug)]
pub(crate) struct CountingExporter<E> {
    inner: E,
    losses: Arc<Losses>,
}

impl<E> CountingExporter<E> {
    pub(crate) fn new(inner: E, losses: Arc<Losses>) -> Self {
        Self { inner, losses }
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.len();
        let fut = self.inner.export(batch);
        let losses = self.losses.clone();
        async move {
            let result = fut.await;
            release_slots(&losses.queued_spans, n);
            losses.spans.record(n as u64, &result);
            if let Err(e) = &result {
                losses.warn("span export failed", Some(e));
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

fn points_of<T>(data: &MetricData<T>) -> usize {
    match data {
        MetricData::Gauge(g) => g.data_points().count(),
        MetricData::Sum(s) => s.data_points().count(),
        MetricData::Histogram(h) => h.data_points().count(),
        MetricData::ExponentialHistogram(h) => h.data_points().count(),
    }
}

/// The data points of one export, for `otel.sdk.exporter.metric_data_point.exported`.
fn data_points(metrics: &ResourceMetrics) -> u64 {
    metrics
        .scope_metrics()
        .flat_map(|s| s.metrics())
        .map(|m| match m.data() {
            AggregatedMetrics::F64(d) => points_of(d),
            AggregatedMetrics::U64(d) => points_of(d),
            AggregatedMetrics::I64(d) => points_of(d),
        } as u64)
        .sum()
}

impl<E: PushMetricExporter> PushMetricExporter for CountingExporter<E> {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let points = data_points(metrics);
        let fut = self.inner.export(metrics);
        let losses = self.losses.clone();
        async move {
            let result = fut.await;
            losses.metric_points.record(points, &result);
            if let Err(e) = &result {
                losses.metric_exports_failed.fetch_add(1, Ordering::Relaxed);
                losses.warn("metric export failed", Some(e));
            }
            result
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

impl<E: LogExporter> LogExporter for CountingExporter<E> {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.iter().count();
        let fut = self.inner.export(batch);
        let losses = self.losses.clone();
        async move {
            let result = fut.await;
            release_slots(&losses.queued_logs, n);
            // No warning here: the warning itself is a log record and would
            // feed the failing exporter; the span and metric paths report
            // for all three.
            losses.logs.record(n as u64, &result);
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_errors_are_classified() {
        let timeout = OTelSdkError::InternalFailure("grpc: Timeout expired".into());
        assert_eq!(EXPORT_ERRORS[error_class(&timeout)], "timeout");
        let timed_out = OTelSdkError::InternalFailure("operation timed out".into());
        assert_eq!(EXPORT_ERRORS[error_class(&timed_out)], "timeout");
        let other = OTelSdkError::InternalFailure("status 503".into());
        assert_eq!(EXPORT_ERRORS[error_class(&other)], "_OTHER");
        assert_eq!(
            EXPORT_ERRORS[error_class(&OTelSdkError::Timeout(Duration::from_secs(1)))],
            "timeout"
        );
    }

    #[test]
    fn rejected_items_count_as_failed_not_exported() {
        let o = Outcomes::default();
        o.reject(2);
        o.record(5, &Ok(()));
        assert_eq!((o.ok(), o.failed()), (3, 2));
        assert_eq!(o.failed[REJECTED].load(Ordering::Relaxed), 2);
        // More rejected than the batch held (overlapping exports): the
        // rest is taken by the next batch, and nothing goes negative.
        o.reject(4);
        o.record(1, &Ok(()));
        o.record(10, &Ok(()));
        assert_eq!(
            (o.ok(), o.failed()),
            (10, 6),
            "3 + 7 exported, 2 + 1 + 3 rejected"
        );
        assert_eq!(EXPORT_ERRORS[REJECTED], "rejected");
    }

    #[test]
    fn slots_never_go_below_zero() {
        let q = AtomicUsize::new(0);
        assert!(take_slot(&q, 1));
        assert!(!take_slot(&q, 1));
        release_slots(&q, 5);
        assert_eq!(q.load(Ordering::Relaxed), 0);
    }
}
