//! One exporter that hands every batch to two: the OTLP one and the console
//! one, when a signal's exporter list names both (`OTEL_TRACES_EXPORTER=
//! otlp,console`). One batch processor and one reader serve both, so the
//! queue bound, the value limits and the loss counts apply once per item.

use std::fmt;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// `primary` (OTLP) and/or `console`. The result reported, and so counted
/// by the self-metrics, is the primary's: the console cannot lose data that
/// matters.
pub(crate) struct Fanout<P, C> {
    primary: Option<P>,
    console: Option<C>,
}

impl<P, C> Fanout<P, C> {
    pub(crate) fn new(primary: Option<P>, console: Option<C>) -> Self {
        Self { primary, console }
    }
}

impl<P, C> fmt::Debug for Fanout<P, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fanout")
            .field("primary", &self.primary.is_some())
            .field("console", &self.console.is_some())
            .finish()
    }
}

/// The primary's result when there is one, else the console's.
fn pick(primary: Option<OTelSdkResult>, console: Option<OTelSdkResult>) -> OTelSdkResult {
    primary.or(console).unwrap_or(Ok(()))
}

impl<P: SpanExporter, C: SpanExporter> SpanExporter for Fanout<P, C> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let console = match &self.console {
            // A copy only when both get the batch.
            Some(c) if self.primary.is_some() => Some(c.export(batch.clone()).await),
            Some(c) => return c.export(batch).await,
            None => None,
        };
        let primary = match &self.primary {
            Some(p) => Some(p.export(batch).await),
            None => None,
        };
        pick(primary, console)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        pick(
            self.primary
                .as_ref()
                .map(|p| p.shutdown_with_timeout(timeout)),
            self.console
                .as_ref()
                .map(|c| c.shutdown_with_timeout(timeout)),
        )
    }

    fn force_flush(&self) -> OTelSdkResult {
        pick(
            self.primary.as_ref().map(SpanExporter::force_flush),
            self.console.as_ref().map(SpanExporter::force_flush),
        )
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(p) = &mut self.primary {
            p.set_resource(resource);
        }
        if let Some(c) = &mut self.console {
            c.set_resource(resource);
        }
    }
}

impl<P: LogExporter, C: LogExporter> LogExporter for Fanout<P, C> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        // A batch is consumed by its export: both get the same borrowed
        // records.
        let records: Vec<_> = batch.iter().collect();
        let console = match &self.console {
            Some(c) => Some(c.export(LogBatch::new(&records)).await),
            None => None,
        };
        let primary = match &self.primary {
            Some(p) => Some(p.export(LogBatch::new(&records)).await),
            None => None,
        };
        pick(primary, console)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        pick(
            self.primary
                .as_ref()
                .map(|p| p.shutdown_with_timeout(timeout)),
            self.console
                .as_ref()
                .map(|c| c.shutdown_with_timeout(timeout)),
        )
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(p) = &mut self.primary {
            p.set_resource(resource);
        }
        if let Some(c) = &mut self.console {
            c.set_resource(resource);
        }
    }
}

impl<P: PushMetricExporter, C: PushMetricExporter> PushMetricExporter for Fanout<P, C> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let console = match &self.console {
            Some(c) => Some(c.export(metrics).await),
            None => None,
        };
        let primary = match &self.primary {
            Some(p) => Some(p.export(metrics).await),
            None => None,
        };
        pick(primary, console)
    }

    fn force_flush(&self) -> OTelSdkResult {
        pick(
            self.primary.as_ref().map(PushMetricExporter::force_flush),
            self.console.as_ref().map(PushMetricExporter::force_flush),
        )
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        pick(
            self.primary
                .as_ref()
                .map(|p| p.shutdown_with_timeout(timeout)),
            self.console
                .as_ref()
                .map(|c| c.shutdown_with_timeout(timeout)),
        )
    }

    /// The primary's: one reader serves both, and the console prints
    /// whatever it is given.
    fn temporality(&self) -> Temporality {
        match (&self.primary, &self.console) {
            (Some(p), _) => p.temporality(),
            (None, Some(c)) => c.temporality(),
            (None, None) => Temporality::Cumulative,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_sdk::error::OTelSdkError;

    #[test]
    fn the_primary_result_wins() {
        let failed = || Err(OTelSdkError::InternalFailure("x".into()));
        assert!(pick(Some(failed()), Some(Ok(()))).is_err());
        assert!(pick(Some(Ok(())), Some(failed())).is_ok());
        assert!(pick(None, Some(failed())).is_err());
        assert!(pick(None, None).is_ok());
    }
}
