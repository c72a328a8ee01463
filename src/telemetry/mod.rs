//! The OpenTelemetry pipeline: one [`init`] call, one [`Telemetry`] handle.
//!
//! [`init`] builds, from a validated [`Config`]:
//! - the resource (`service.name`, `service.version`, `service.instance.id`,
//!   `deployment.environment.name`, host and process attributes), which
//!   `OTEL_RESOURCE_ATTRIBUTES` may override;
//! - a tracer provider with a parent-based ratio sampler and a batch span
//!   processor whose queue is bounded, whose losses are counted and whose
//!   attribute values are capped; with `WINGSPAN_TAIL_SAMPLING=true`, an
//!   in-process tail sampler in front of it keeps the local traces with an
//!   error, the slow ones and a ratio of the rest; the spans leave through
//!   wingspan's own OTLP exporter (`otlp`: the request encoded straight from
//!   the SDK's spans), metrics and logs through opentelemetry-otlp's;
//! - a meter provider with a periodic reader and views carrying wingspan's
//!   bucket boundaries ([`buckets`]);
//! - a logger provider, so `tracing` events become OTLP log records that carry
//!   the active trace and span IDs and the conventions' `code.*` attributes;
//! - the propagators of `OTEL_PROPAGATORS` (W3C `tracecontext` + `baggage`
//!   by default; B3, Jaeger, X-Ray and OT trace on request), installed as
//!   the global propagator and used by the HTTP layer and the client;
//! - the `tracing` bridge ([`Telemetry::tracing_layer`]), so the
//!   application's own `tracing` spans nest with wingspan's, with the
//!   exporters' own targets ([`SILENCED_TARGETS`]) filtered out so the
//!   exporter never traces itself, and the database and TLS drivers
//!   ([`DRIVER_TARGETS`]) held at `warn`;
//! - the pipeline's own metrics, under the conventions' `otel.sdk.*` names.
//!
//! Every resource handle (`http::layer`, `db::Pool`, `cache::Cache`) takes the
//! [`Telemetry`] handle, so instruments are created once per handle.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let telemetry = wingspan::init(wingspan::Config::from_env()?)?;
//! // ... serve ...
//! telemetry.shutdown().await?; // flushes traces, metrics and logs
//! # Ok(()) }
//! ```

mod bridge;
pub mod buckets;
mod builder;
mod dropped;
mod error;
mod every;
mod exporters;
mod fanout;
mod handle;
pub(crate) mod limits;
mod otlp;
mod pipelined;
mod process;
#[cfg(feature = "prometheus")]
mod prometheus;
pub(crate) mod propagators;
pub(crate) mod recording;
mod redact;
mod resource;
mod self_metrics;
mod signal;
mod subscriber;
mod tail;

use std::time::Duration;

pub use builder::TelemetryBuilder;
pub use error::TelemetryError;
pub use handle::{LossCounts, Telemetry};
pub use signal::shutdown_signal;
pub use subscriber::{DRIVER_TARGETS, SILENCED_TARGETS};

use crate::config::Config;

/// The instrumentation scope name of everything wingspan emits.
pub const SCOPE_NAME: &str = "wingspan";

/// The bound on `shutdown`: each provider gets this long to flush.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the pipeline from a validated [`Config`], exports with OTLP and
/// installs the global providers, propagator and `tracing` subscriber.
///
/// Needs no Tokio runtime (the gRPC exporters run on wingspan's own export
/// thread). Equivalent to `Telemetry::builder(config).build()`.
pub fn init(config: Config) -> Result<Telemetry, TelemetryError> {
    Telemetry::builder(config).build()
}

/// wingspan's span exporter and encoder, for its own benches
/// (`benches/export.rs` sets them beside opentelemetry-otlp's); not part of
/// the API, and not covered by semver.
#[doc(hidden)]
pub mod bench_support {
    use opentelemetry_sdk::trace::SpanData;
    use opentelemetry_sdk::Resource;

    use super::{exporters, otlp, TelemetryError};
    use crate::config::Config;

    /// The span exporter `init` builds for `config`'s OTLP traces settings.
    pub fn span_exporter(
        config: &Config,
    ) -> Result<impl opentelemetry_sdk::trace::SpanExporter, TelemetryError> {
        exporters::spans(&config.telemetry.otlp, config.telemetry.span_export_timeout)
    }

    /// The span exporter's encoder alone, its resource encoded once.
    #[derive(Debug)]
    pub struct TraceEncoder(otlp::encode::EncodedResource);

    impl TraceEncoder {
        pub fn new(resource: &Resource) -> Self {
            Self(otlp::encode::EncodedResource::new(resource))
        }

        /// The `ExportTraceServiceRequest` bytes for `batch`.
        pub fn encode(&self, batch: &[SpanData]) -> Vec<u8> {
            let mut out = Vec::with_capacity(64 + batch.len() * 512);
            otlp::encode::trace_request(&mut out, batch, &self.0);
            out
        }
    }
}
