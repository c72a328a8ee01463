//! wingspan's own OTLP span exporter: the request encoded straight from the
//! SDK's spans ([`encode`]), sent over OTLP/gRPC or OTLP/HTTP ([`send`]) with
//! the specification's retries ([`retry`]).
//!
//! Metrics and logs keep opentelemetry-otlp's exporters: they export a few
//! times a minute, spans at the rate of requests. On the process bench the
//! library's span path (convert to opentelemetry-proto's structs, then
//! prost) cost about 20 000 instructions per span, more than the request it
//! described; BENCHMARKS.md's export section shows both side by side.
//!
//! The wire is the same: the same bytes as prost's for the same batch (the
//! encoder's tests), the same channel, TLS, headers, compression and
//! timeouts as the other signals (`exporters.rs` builds them all), and
//! the user agent `OTel-OTLP-Exporter-Rust/<wingspan's version>`.

pub(crate) mod encode;
mod retry;
mod send;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

pub(crate) use send::Transport;

/// The `User-Agent` every OTLP span export sends, as the OTLP exporter
/// specification asks: language and version of the exporter.
pub(crate) const USER_AGENT: &str = concat!("OTel-OTLP-Exporter-Rust/", env!("CARGO_PKG_VERSION"));

/// Exports batches of spans to one OTLP endpoint.
#[derive(Debug)]
pub(crate) struct SpanExporter {
    transport: Transport,
    resource: encode::EncodedResource,
    timeout: Duration,
    shut_down: AtomicBool,
    /// Where spans a collector rejects in a partial success are counted.
    losses: Option<Arc<super::dropped::Losses>>,
}

impl SpanExporter {
    pub(crate) fn new(transport: Transport, timeout: Duration) -> Self {
        Self {
            transport,
            resource: encode::EncodedResource::default(),
            timeout,
            shut_down: AtomicBool::new(false),
            losses: None,
        }
    }

    /// Counts the spans a collector rejects in a partial success as failed
    /// (`error.type=rejected`), as the conventions of
    /// `otel.sdk.exporter.span.exported` ask. Without it they are only logged.
    pub(crate) fn count_rejections(mut self, losses: Arc<super::dropped::Losses>) -> Self {
        self.losses = Some(losses);
        self
    }

    /// The request's bytes for `batch`; most spans take 300 to 600 bytes.
    fn encode(&self, batch: &[SpanData]) -> bytes::Bytes {
        let mut out = Vec::with_capacity(64 + batch.len() * 512);
        encode::trace_request(&mut out, batch, &self.resource);
        out.into()
    }
}

impl opentelemetry_sdk::trace::SpanExporter for SpanExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let body = (!self.shut_down.load(Ordering::Acquire)).then(|| self.encode(&batch));
        let sent = batch.len() as u64;
        // The spans are not needed past here: freed before the send waits.
        drop(batch);
        async move {
            let Some(body) = body else {
                return Err(OTelSdkError::AlreadyShutdown);
            };
            let rejected =
                retry::with_backoff(self.timeout, |left| self.transport.send(body.clone(), left))
                    .await
                    .map_err(|failure| OTelSdkError::InternalFailure(failure.to_string()))?;
            // A collector cannot reject more than it was sent: a larger
            // count would stay owed and mark later exported spans rejected.
            if let (Some(losses), 1..) = (&self.losses, rejected) {
                losses.spans.reject(rejected.min(sent));
            }
            Ok(())
        }
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            Err(OTelSdkError::AlreadyShutdown)
        } else {
            Ok(())
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = encode::EncodedResource::new(resource);
    }
}
