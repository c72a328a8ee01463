//! The [`Telemetry`] handle: the providers, the tracer and meter every
//! wingspan instrument is made with, flush and shutdown, and the loss counts.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use opentelemetry::metrics::Meter;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::dropped::Losses;
use super::redact::Scrubber;
use super::{TelemetryError, SHUTDOWN_TIMEOUT};
use crate::config::Config;

/// The pipeline handle. Cheap to clone; every clone shares the providers.
#[derive(Clone)]
pub struct Telemetry {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) config: Config,
    pub(super) tracer_provider: SdkTracerProvider,
    pub(super) meter_provider: SdkMeterProvider,
    pub(super) logger_provider: SdkLoggerProvider,
    pub(super) tracer: SdkTracer,
    pub(super) meter: Meter,
    pub(super) losses: Arc<Losses>,
    pub(super) recording: super::recording::Recording,
    pub(super) stats: Option<crate::stats::Stats>,
    #[cfg(feature = "prometheus")]
    pub(super) prometheus: Option<super::prometheus::PullEndpoint>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("service_name", &self.inner.config.telemetry.service_name)
            .field("losses", &self.inner.losses)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// The configuration the pipeline was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The tracer every wingspan span is made with.
    pub fn tracer(&self) -> &SdkTracer {
        &self.inner.tracer
    }

    /// What a span can record, known before it is built.
    pub(crate) fn recording(&self) -> super::recording::Recording {
        self.inner.recording
    }

    /// The meter every wingspan instrument is made with.
    pub fn meter(&self) -> &Meter {
        &self.inner.meter
    }

    /// The in-process rolling window that the HTTP layer, the pool, the
    /// cache and the LLM wrapper feed, and `wingspan::health` reads; `None`
    /// with `WINGSPAN_STATS=false`.
    pub fn stats(&self) -> Option<&crate::stats::Stats> {
        self.inner.stats.as_ref()
    }

    /// The tracer provider (for `tracing-opentelemetry` layers of your own).
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.inner.tracer_provider
    }

    /// The meter provider.
    pub fn meter_provider(&self) -> &SdkMeterProvider {
        &self.inner.meter_provider
    }

    /// The logger provider.
    pub fn logger_provider(&self) -> &SdkLoggerProvider {
        &self.inner.logger_provider
    }

    /// Spans lost so far: dropped because the export queue was full, or
    /// because their export failed. Also exported as
    /// `otel.sdk.processor.span.processed{error.type=queue_full}` and
    /// `otel.sdk.exporter.span.exported{error.type=...}`.
    pub fn dropped_spans(&self) -> u64 {
        self.inner.losses.spans_dropped()
    }

    /// The pipeline's own counts, as raw counters for tests and health
    /// payloads.
    pub fn loss_counts(&self) -> LossCounts {
        let l = &self.inner.losses;
        LossCounts {
            spans_queue_full: l.spans_queue_full.load(Ordering::Relaxed),
            spans_export_failed: l.spans.failed(),
            spans_exported: l.spans.ok(),
            metric_exports_failed: l.metric_exports_failed.load(Ordering::Relaxed),
            metric_data_points_exported: l.metric_points.ok(),
            metric_data_points_export_failed: l.metric_points.failed(),
            log_records_queue_full: l.logs_queue_full.load(Ordering::Relaxed),
            log_records_export_failed: l.logs.failed(),
            log_records_exported: l.logs.ok(),
        }
    }

    /// The Prometheus text exposition of every metric, with the same names
    /// as the OTLP→Prometheus translation (feature `prometheus`).
    /// `None` unless the pull endpoint was enabled.
    #[cfg(feature = "prometheus")]
    #[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
    pub fn prometheus_text(&self) -> Option<String> {
        self.inner.prometheus.as_ref().map(|p| p.render())
    }

    /// An axum router serving `GET /metrics` in the Prometheus text format
    /// (feature `prometheus`); 404 unless the pull endpoint was enabled. It
    /// follows the admin rule of `wingspan::health`: the bearer token when
    /// `WINGSPAN_ADMIN_TOKEN` is set, else loopback clients only (from
    /// `ConnectInfo`) unless `WINGSPAN_ADMIN_OPEN=true`.
    #[cfg(feature = "prometheus")]
    #[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
    pub fn prometheus_router(&self) -> axum::Router {
        super::prometheus::router(self.clone())
    }

    /// Exports everything buffered so far, without stopping. Blocking work
    /// runs off the async executor.
    pub async fn force_flush(&self) -> Result<(), TelemetryError> {
        let this = self.clone();
        run_blocking("flush", move || {
            let i = &this.inner;
            let (t, m, l) = in_parallel(
                || i.tracer_provider.force_flush(),
                || i.meter_provider.force_flush(),
                || i.logger_provider.force_flush(),
            );
            first_error(
                [("traces", t), ("metrics", m), ("logs", l)],
                "flush",
                &i.losses.scrubber,
            )
        })
        .await
    }

    /// Flushes and stops traces, metrics and logs, all within
    /// [`SHUTDOWN_TIMEOUT`], even when the collector is unreachable.
    pub async fn shutdown(&self) -> Result<(), TelemetryError> {
        let this = self.clone();
        run_blocking("shutdown", move || {
            let i = &this.inner;
            let (t, m, l) = in_parallel(
                || i.tracer_provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
                || i.meter_provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
                || i.logger_provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
            );
            first_error(
                [("traces", t), ("metrics", m), ("logs", l)],
                "shutdown",
                &i.losses.scrubber,
            )
        })
        .await
    }

    /// Waits for SIGTERM or SIGINT ([`shutdown_signal`](super::shutdown_signal)),
    /// then [`shutdown`](Self::shutdown): for a service whose accept loop
    /// runs on its own task, the whole end of `main`.
    pub async fn shutdown_on_signal(&self) -> Result<(), TelemetryError> {
        super::shutdown_signal().await;
        self.shutdown().await
    }
}

/// A snapshot of the pipeline's own counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LossCounts {
    /// Spans dropped because the bounded queue was full.
    pub spans_queue_full: u64,
    /// Spans whose export failed (collector down, timeout).
    pub spans_export_failed: u64,
    /// Spans exported successfully.
    pub spans_exported: u64,
    /// Metric exports (calls) that failed.
    pub metric_exports_failed: u64,
    /// Metric data points exported successfully.
    pub metric_data_points_exported: u64,
    /// Metric data points whose export failed.
    pub metric_data_points_export_failed: u64,
    /// Log records dropped because the bounded queue was full.
    pub log_records_queue_full: u64,
    /// Log records whose export failed.
    pub log_records_export_failed: u64,
    /// Log records exported successfully.
    pub log_records_exported: u64,
}

/// Runs the three signals' flush or shutdown at once: against a dead
/// collector each provider spends its export retries, and one after the
/// other the three timeouts would add up to three times the bound.
fn in_parallel(
    traces: impl FnOnce() -> OTelSdkResult + Send,
    metrics: impl FnOnce() -> OTelSdkResult + Send,
    logs: impl FnOnce() -> OTelSdkResult,
) -> (OTelSdkResult, OTelSdkResult, OTelSdkResult) {
    std::thread::scope(|s| {
        let t = s.spawn(traces);
        let m = s.spawn(metrics);
        let l = logs();
        (joined(t), joined(m), l)
    })
}

fn joined(handle: std::thread::ScopedJoinHandle<'_, OTelSdkResult>) -> OTelSdkResult {
    handle.join().unwrap_or_else(|_| {
        Err(OTelSdkError::InternalFailure(
            "flush or shutdown panicked".to_owned(),
        ))
    })
}

async fn run_blocking<F>(action: &'static str, f: F) -> Result<(), TelemetryError>
where
    F: FnOnce() -> Result<(), TelemetryError> + Send + 'static,
{
    // The providers block while their threads export; doing that on an
    // executor thread would stall a current-thread runtime (and the gRPC
    // exporter needs that runtime to make progress).
    match tokio::runtime::Handle::try_current() {
        Ok(_) => tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
            Err(TelemetryError::Flush {
                signal: "all",
                action,
                message: e.to_string(),
            })
        }),
        Err(_) => f(),
    }
}

fn first_error(
    results: [(&'static str, OTelSdkResult); 3],
    action: &'static str,
    scrubber: &Scrubber,
) -> Result<(), TelemetryError> {
    for (signal, r) in results {
        match r {
            Ok(()) | Err(OTelSdkError::AlreadyShutdown) => {}
            Err(e) => {
                return Err(TelemetryError::Flush {
                    signal,
                    action,
                    // The SDK's message may quote the exporter's.
                    message: scrubber.scrub(e.to_string()),
                });
            }
        }
    }
    Ok(())
}
