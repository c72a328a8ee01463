//! Counting what the pipeline loses.
//!
//! The SDK's `BatchSpanProcessor` keeps its dropped count private, so wingspan
//! bounds the queue itself: [`GuardedProcessor`] counts every span it hands to
//! the batch processor, [`CountingExporter`] counts every span that left it,
//! and a span that would overflow the bound is dropped *here*, counted, and
//! never reaches the SDK's queue. The bound includes the batch being exported,
//! so it is never looser than the SDK's own.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

/// How often at most a loss is logged.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Loss counters shared by the pipeline's wrappers and read by the
/// self-metrics.
pub(crate) struct Losses {
    queued: AtomicUsize,
    pub(crate) spans_queue_full: AtomicU64,
    pub(crate) spans_export_failed: AtomicU64,
    pub(crate) spans_exported: AtomicU64,
    pub(crate) metric_exports_failed: AtomicU64,
    pub(crate) log_records_export_failed: AtomicU64,
    started: Instant,
    /// Milliseconds since `started` of the last warning, +1 (0 = never).
    last_warn_ms: AtomicU64,
}

impl fmt::Debug for Losses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Losses")
            .field("spans_queue_full", &self.spans_queue_full)
            .field("spans_export_failed", &self.spans_export_failed)
            .finish_non_exhaustive()
    }
}

impl Losses {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            queued: AtomicUsize::new(0),
            spans_queue_full: AtomicU64::new(0),
            spans_export_failed: AtomicU64::new(0),
            spans_exported: AtomicU64::new(0),
            metric_exports_failed: AtomicU64::new(0),
            log_records_export_failed: AtomicU64::new(0),
            started: Instant::now(),
            last_warn_ms: AtomicU64::new(0),
        })
    }

    /// Spans dropped for any reason.
    pub(crate) fn spans_dropped(&self) -> u64 {
        self.spans_queue_full.load(Ordering::Relaxed)
            + self.spans_export_failed.load(Ordering::Relaxed)
    }

    /// Logs a warning at most once per [`LOG_EVERY`], from whichever thread
    /// noticed the loss first.
    fn warn(&self, what: &str, error: Option<&dyn fmt::Display>) {
        let now = self.started.elapsed().as_millis() as u64 + 1;
        let last = self.last_warn_ms.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < LOG_EVERY.as_millis() as u64 {
            return;
        }
        if self
            .last_warn_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let error = error.map(|e| e.to_string()).unwrap_or_default();
        tracing::warn!(
            target: "wingspan::telemetry",
            spans_dropped_queue_full = self.spans_queue_full.load(Ordering::Relaxed),
            spans_dropped_export_failed = self.spans_export_failed.load(Ordering::Relaxed),
            metric_exports_failed = self.metric_exports_failed.load(Ordering::Relaxed),
            log_records_export_failed = self.log_records_export_failed.load(Ordering::Relaxed),
            error = %error,
            "telemetry is being dropped: {what} (logged at most every {}s)",
            LOG_EVERY.as_secs()
        );
    }
}

/// Bounds the queue in front of a batch processor and counts what it drops.
#[derive(Debug)]
pub(crate) struct GuardedProcessor<P> {
    inner: P,
    losses: Arc<Losses>,
    max_queued: usize,
}

impl<P> GuardedProcessor<P> {
    pub(crate) fn new(inner: P, losses: Arc<Losses>, max_queued: usize) -> Self {
        Self {
            inner,
            losses,
            max_queued,
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for GuardedProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.losses.queued.fetch_add(1, Ordering::Relaxed) >= self.max_queued {
            self.losses.queued.fetch_sub(1, Ordering::Relaxed);
            self.losses.spans_queue_full.fetch_add(1, Ordering::Relaxed);
            self.losses.warn("span queue full", None);
            return;
        }
        self.inner.on_end(span);
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

/// Wraps any exporter of spans, metrics or logs and counts what it fails to
/// deliver.
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
            losses.queued.fetch_sub(
                n.min(losses.queued.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            match &result {
                Ok(()) => {
                    losses.spans_exported.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    losses
                        .spans_export_failed
                        .fetch_add(n as u64, Ordering::Relaxed);
                    losses.warn("span export failed", Some(e));
                }
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

impl<E: PushMetricExporter> PushMetricExporter for CountingExporter<E> {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let fut = self.inner.export(metrics);
        let losses = self.losses.clone();
        async move {
            let result = fut.await;
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
        let n = batch.iter().count() as u64;
        let fut = self.inner.export(batch);
        let losses = self.losses.clone();
        async move {
            let result = fut.await;
            if result.is_err() {
                // No warning here: the warning itself is a log record and
                // would feed the failing exporter; the span and metric paths
                // report for all three.
                losses
                    .log_records_export_failed
                    .fetch_add(n, Ordering::Relaxed);
            }
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
