//! The OpenTelemetry pipeline: one [`init`] call, one [`Telemetry`] handle.
//!
//! [`init`] builds, from a validated [`Config`]:
//! - the resource (`service.name`, `service.version`,
//!   `deployment.environment.name`, host and process attributes);
//! - a tracer provider with a parent-based ratio sampler and a batch span
//!   processor whose queue is bounded and whose losses are counted;
//! - a meter provider with a periodic reader and views carrying wingspan's
//!   bucket boundaries ([`buckets`]);
//! - a logger provider, so `tracing` events become OTLP log records that carry
//!   the active trace and span IDs;
//! - the W3C `tracecontext` + `baggage` propagators;
//! - the `tracing` bridge, so the application's own `tracing` spans nest with
//!   wingspan's, with the exporters' own targets (`opentelemetry*`, `tonic`,
//!   `h2`, `hyper`, `reqwest`) filtered out so the exporter never traces itself.
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

pub mod buckets;
mod dropped;
mod exporters;
mod process;
#[cfg(feature = "prometheus")]
mod prometheus;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::logs::{BatchLogProcessor, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanExporter,
};
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::{Config, ExporterKind, Sampler};
use dropped::{CountingExporter, GuardedProcessor, Losses};

/// The instrumentation scope name of everything wingspan emits.
pub const SCOPE_NAME: &str = "wingspan";

/// Targets kept out of both `tracing` bridges, or the exporters would trace
/// and log themselves in a loop.
pub const SILENCED_TARGETS: &[&str] = &[
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
    "opentelemetry-otlp",
    "tonic",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "tower",
];

/// The bound on `shutdown`: each provider gets this long to flush.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// What can go wrong while building or stopping the pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// A setting was rejected.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// An exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// A global `tracing` subscriber was already installed.
    #[error("a global tracing subscriber is already installed; build with `install_subscriber(false)` and compose `Telemetry::tracing_layer()` into yours")]
    SubscriberAlreadySet,
    /// Flushing or shutting down a provider failed or timed out.
    #[error("telemetry {signal} {action} failed: {message}")]
    Flush {
        /// `traces`, `metrics` or `logs`.
        signal: &'static str,
        /// `flush` or `shutdown`.
        action: &'static str,
        /// The SDK's message.
        message: String,
    },
}

impl TelemetryError {
    pub(crate) fn exporter(message: String) -> Self {
        Self::Exporter(message)
    }
}

/// Builds the pipeline from a validated [`Config`], exports with OTLP and
/// installs the global providers, propagator and `tracing` subscriber.
///
/// Must be called inside a Tokio runtime (the gRPC exporter's channel lives
/// there). Equivalent to `Telemetry::builder(config).build()`.
pub fn init(config: Config) -> Result<Telemetry, TelemetryError> {
    Telemetry::builder(config).build()
}

/// The pipeline handle. Cheap to clone; every clone shares the providers.
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    logger_provider: SdkLoggerProvider,
    tracer: SdkTracer,
    meter: Meter,
    losses: Arc<Losses>,
    #[cfg(feature = "prometheus")]
    prometheus: Option<prometheus::PullEndpoint>,
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
    /// A builder, for custom exporters or to skip the global installation.
    pub fn builder(config: Config) -> TelemetryBuilder {
        TelemetryBuilder {
            config,
            span_processor: None,
            metric_reader: None,
            log_processor: None,
            install_globals: true,
            install_subscriber: true,
        }
    }

    /// The configuration the pipeline was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The tracer every wingspan span is made with.
    pub fn tracer(&self) -> &SdkTracer {
        &self.inner.tracer
    }

    /// The meter every wingspan instrument is made with.
    pub fn meter(&self) -> &Meter {
        &self.inner.meter
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
    /// `wingspan.telemetry.spans.dropped`.
    pub fn dropped_spans(&self) -> u64 {
        self.inner.losses.spans_dropped()
    }

    /// The Prometheus text exposition of every metric, with the same names
    /// as the OTLP→Prometheus translation (feature `prometheus`).
    /// `None` unless the pull endpoint was enabled.
    #[cfg(feature = "prometheus")]
    pub fn prometheus_text(&self) -> Option<String> {
        self.inner.prometheus.as_ref().map(|p| p.render())
    }

    /// An axum router serving `GET /metrics` in the Prometheus text format
    /// (feature `prometheus`). Empty unless the pull endpoint was enabled.
    #[cfg(feature = "prometheus")]
    pub fn prometheus_router(&self) -> axum::Router {
        prometheus::router(self.clone())
    }

    /// Exports everything buffered so far, without stopping. Blocking work
    /// runs off the async executor.
    pub async fn force_flush(&self) -> Result<(), TelemetryError> {
        let this = self.clone();
        run_blocking(move || this.flush_blocking()).await
    }

    fn flush_blocking(&self) -> Result<(), TelemetryError> {
        let i = &self.inner;
        let (t, m, l) = in_parallel(
            || i.tracer_provider.force_flush(),
            || i.meter_provider.force_flush(),
            || i.logger_provider.force_flush(),
        );
        first_error([("traces", t), ("metrics", m), ("logs", l)], "flush")
    }

    /// Flushes and stops traces, metrics and logs, all within
    /// [`SHUTDOWN_TIMEOUT`], even when the collector is unreachable.
    pub async fn shutdown(&self) -> Result<(), TelemetryError> {
        let this = self.clone();
        run_blocking(move || {
            let i = &this.inner;
            let (t, m, l) = in_parallel(
                || i.tracer_provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
                || i.meter_provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
                || i.logger_provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT),
            );
            first_error([("traces", t), ("metrics", m), ("logs", l)], "shutdown")
        })
        .await
    }
}

type SdkResult = opentelemetry_sdk::error::OTelSdkResult;

/// Runs the three signals' flush or shutdown at once: against a dead
/// collector each provider spends its export retries, and one after the
/// other the three timeouts would add up to three times the bound.
fn in_parallel(
    traces: impl FnOnce() -> SdkResult + Send,
    metrics: impl FnOnce() -> SdkResult + Send,
    logs: impl FnOnce() -> SdkResult,
) -> (SdkResult, SdkResult, SdkResult) {
    std::thread::scope(|s| {
        let t = s.spawn(traces);
        let m = s.spawn(metrics);
        let l = logs();
        (joined(t), joined(m), l)
    })
}

fn joined(
    handle: std::thread::ScopedJoinHandle<'_, opentelemetry_sdk::error::OTelSdkResult>,
) -> opentelemetry_sdk::error::OTelSdkResult {
    handle.join().unwrap_or_else(|_| {
        Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
            "flush or shutdown panicked".to_owned(),
        ))
    })
}

async fn run_blocking<F>(f: F) -> Result<(), TelemetryError>
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
                action: "shutdown",
                message: e.to_string(),
            })
        }),
        Err(_) => f(),
    }
}

fn first_error(
    results: [(&'static str, opentelemetry_sdk::error::OTelSdkResult); 3],
    action: &'static str,
) -> Result<(), TelemetryError> {
    for (signal, r) in results {
        match r {
            Ok(()) | Err(opentelemetry_sdk::error::OTelSdkError::AlreadyShutdown) => {}
            Err(e) => {
                return Err(TelemetryError::Flush {
                    signal,
                    action,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(())
}

type SpanProcessorFn = Box<dyn FnOnce(&Config, Arc<Losses>) -> BatchSpanProcessor>;
type LogProcessorFn = Box<dyn FnOnce(&Config, Arc<Losses>) -> BatchLogProcessor>;
type MetricReaderFn =
    Box<dyn FnOnce(MeterProviderBuilder, &Config, Arc<Losses>) -> MeterProviderBuilder>;

/// Builds a [`Telemetry`]: custom exporters (tests, benches, a vendor
/// exporter), and whether to install the globals.
#[must_use]
pub struct TelemetryBuilder {
    config: Config,
    span_processor: Option<SpanProcessorFn>,
    metric_reader: Option<MetricReaderFn>,
    log_processor: Option<LogProcessorFn>,
    install_globals: bool,
    install_subscriber: bool,
}

impl fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("install_globals", &self.install_globals)
            .field("install_subscriber", &self.install_subscriber)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// Sends spans to `exporter` instead of OTLP (still through the bounded,
    /// counted batch processor). Defaults to OTLP per the configuration.
    pub fn with_span_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.span_processor = Some(Box::new(move |cfg, losses| {
            batch_span_processor(cfg, exporter, losses)
        }));
        self
    }

    /// Sends metrics to `exporter` instead of OTLP, on the periodic reader.
    /// Defaults to OTLP per the configuration.
    pub fn with_metric_exporter<E: PushMetricExporter>(mut self, exporter: E) -> Self {
        self.metric_reader = Some(Box::new(move |b, cfg, losses| {
            b.with_reader(periodic_reader(cfg, exporter, losses))
        }));
        self
    }

    /// Sends log records to `exporter` instead of OTLP. Defaults to OTLP per
    /// the configuration.
    pub fn with_log_exporter<E: LogExporter + 'static>(mut self, exporter: E) -> Self {
        self.log_processor = Some(Box::new(move |cfg, losses| {
            batch_log_processor(cfg, exporter, losses)
        }));
        self
    }

    /// Installs the providers and the propagator as the OTel globals.
    /// Defaults to true.
    pub fn install_globals(mut self, yes: bool) -> Self {
        self.install_globals = yes;
        self
    }

    /// Installs the `tracing` subscriber (bridges, filter, console output) as
    /// the global default. Defaults to true.
    pub fn install_subscriber(mut self, yes: bool) -> Self {
        self.install_subscriber = yes;
        self
    }

    /// Builds the pipeline.
    ///
    /// Also installs rustls' `ring` provider as the process default when the
    /// application has not installed one: wingspan's own TLS clients name
    /// their provider, but libraries that rely on the implicit default (an
    /// async `reqwest::Client::new()`, say) panic when a tree compiles in
    /// none or two. An application that wants another provider installs it
    /// before calling `init`.
    pub fn build(self) -> Result<Telemetry, TelemetryError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cfg = &self.config;
        let tc = &cfg.telemetry;
        let losses = Losses::new();
        let resource = resource(cfg);
        let export = !tc.sdk_disabled;

        // Traces.
        let mut tracer_builder = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_sampler(sampler(tc.sampler, tc.sdk_disabled));
        let span_processor = match self.span_processor {
            Some(f) if export => Some(f(cfg, losses.clone())),
            None if export && tc.traces_exporter == ExporterKind::Otlp => Some(
                batch_span_processor(cfg, exporters::spans(&tc.otlp)?, losses.clone()),
            ),
            _ => None,
        };
        if let Some(p) = span_processor {
            let max = tc.batch.max_queue_size;
            tracer_builder =
                tracer_builder.with_span_processor(GuardedProcessor::new(p, losses.clone(), max));
        }
        let tracer_provider = tracer_builder.build();

        // Metrics.
        let mut meter_builder = SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_view(buckets::view);
        match self.metric_reader {
            Some(f) if export => meter_builder = f(meter_builder, cfg, losses.clone()),
            None if export && tc.metrics_exporter == ExporterKind::Otlp => {
                let exporter = exporters::metrics(&tc.otlp, tc.metric_export_timeout)?;
                meter_builder =
                    meter_builder.with_reader(periodic_reader(cfg, exporter, losses.clone()));
            }
            _ => {}
        }
        #[cfg(feature = "prometheus")]
        let (meter_builder, prometheus) = prometheus::attach(meter_builder, tc)?;
        let meter_provider = meter_builder.build();

        // Logs.
        let mut logger_builder = SdkLoggerProvider::builder().with_resource(resource);
        let log_processor =
            match self.log_processor {
                Some(f) if export => Some(f(cfg, losses.clone())),
                None if export && tc.logs_exporter == ExporterKind::Otlp => Some(
                    batch_log_processor(cfg, exporters::logs(&tc.otlp)?, losses.clone()),
                ),
                _ => None,
            };
        if let Some(p) = log_processor {
            logger_builder = logger_builder.with_log_processor(p);
        }
        let logger_provider = logger_builder.build();

        let scope = InstrumentationScope::builder(SCOPE_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .with_schema_url(opentelemetry_semantic_conventions::SCHEMA_URL)
            .build();
        let tracer = tracer_provider.tracer_with_scope(scope.clone());
        let meter = meter_provider.meter_with_scope(scope);
        process::register(&meter, losses.clone());

        if self.install_subscriber {
            install_subscriber(cfg, &tracer_provider, &logger_provider)?;
        }
        if self.install_globals {
            global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ]));
            global::set_tracer_provider(tracer_provider.clone());
            global::set_meter_provider(meter_provider.clone());
        }

        let telemetry = Telemetry {
            inner: Arc::new(Inner {
                config: self.config,
                tracer_provider,
                meter_provider,
                logger_provider,
                tracer,
                meter,
                losses,
                #[cfg(feature = "prometheus")]
                prometheus,
            }),
        };
        #[cfg(feature = "prometheus")]
        prometheus::serve_if_configured(&telemetry)?;
        Ok(telemetry)
    }
}

fn batch_span_processor<E: SpanExporter + 'static>(
    cfg: &Config,
    exporter: E,
    losses: Arc<Losses>,
) -> BatchSpanProcessor {
    let b = &cfg.telemetry.batch;
    BatchSpanProcessor::builder(CountingExporter::new(exporter, losses))
        .with_batch_config(
            BatchConfigBuilder::default()
                // The guard in front bounds the queue; the SDK's own queue
                // gets the same size so it never drops first.
                .with_max_queue_size(b.max_queue_size)
                .with_max_export_batch_size(b.max_export_batch_size)
                .with_scheduled_delay(b.scheduled_delay)
                .build(),
        )
        .build()
}

fn periodic_reader<E: PushMetricExporter>(
    cfg: &Config,
    exporter: E,
    losses: Arc<Losses>,
) -> PeriodicReader<CountingExporter<E>> {
    PeriodicReader::builder(CountingExporter::new(exporter, losses))
        .with_interval(cfg.telemetry.metric_export_interval)
        .build()
}

fn batch_log_processor<E: LogExporter + 'static>(
    cfg: &Config,
    exporter: E,
    losses: Arc<Losses>,
) -> BatchLogProcessor {
    let b = &cfg.telemetry.batch;
    BatchLogProcessor::builder(CountingExporter::new(exporter, losses))
        .with_batch_config(
            opentelemetry_sdk::logs::BatchConfigBuilder::default()
                .with_max_queue_size(b.max_queue_size)
                .with_max_export_batch_size(b.max_export_batch_size)
                .with_scheduled_delay(b.scheduled_delay)
                .build(),
        )
        .build()
}

fn sampler(s: Sampler, disabled: bool) -> opentelemetry_sdk::trace::Sampler {
    use opentelemetry_sdk::trace::Sampler as S;
    if disabled {
        return S::AlwaysOff;
    }
    match s {
        Sampler::AlwaysOn => S::AlwaysOn,
        Sampler::AlwaysOff => S::AlwaysOff,
        Sampler::TraceIdRatio(r) => S::TraceIdRatioBased(r),
        Sampler::ParentBasedAlwaysOn => S::ParentBased(Box::new(S::AlwaysOn)),
        Sampler::ParentBasedAlwaysOff => S::ParentBased(Box::new(S::AlwaysOff)),
        Sampler::ParentBasedTraceIdRatio(r) => S::ParentBased(Box::new(S::TraceIdRatioBased(r))),
    }
}

fn resource(cfg: &Config) -> Resource {
    let tc = &cfg.telemetry;
    let mut attrs = vec![
        KeyValue::new("service.name", tc.service_name.clone()),
        KeyValue::new("deployment.environment.name", cfg.profile.as_str()),
        KeyValue::new("host.arch", std::env::consts::ARCH),
        KeyValue::new("os.type", std::env::consts::OS),
        KeyValue::new("process.pid", i64::from(std::process::id())),
        KeyValue::new("process.runtime.name", "rust"),
    ];
    if let Some(v) = &tc.service_version {
        attrs.push(KeyValue::new("service.version", v.clone()));
    }
    if let Some(host) = host_name() {
        attrs.push(KeyValue::new("host.name", host));
    }
    if let Some(exe) = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        attrs.push(KeyValue::new("process.executable.name", exe));
    }
    // OTEL_RESOURCE_ATTRIBUTES may add more, but never override the above.
    for (k, v) in &tc.resource_attributes {
        if !attrs.iter().any(|kv| kv.key.as_str() == k) {
            attrs.push(KeyValue::new(k.clone(), v.clone()));
        }
    }
    // The empty builder: the default one reads OTEL_* from the process
    // environment, which would bypass `Config::from_lookup`.
    Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(attrs)
        .build()
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
}

/// The filter of both bridges and the console: the application's
/// `RUST_LOG`, with the exporters' own targets always off.
pub(crate) fn env_filter(directives: &str) -> Result<EnvFilter, crate::config::ConfigError> {
    let mut filter = EnvFilter::builder().parse(directives).map_err(|e| {
        crate::config::ConfigError::invalid(
            "RUST_LOG",
            directives,
            &format!("tracing filter directives ({e})"),
        )
    })?;
    for target in SILENCED_TARGETS {
        filter = filter.add_directive(
            format!("{target}=off")
                .parse()
                .expect("static directive is valid"),
        );
    }
    Ok(filter)
}

fn install_subscriber(
    cfg: &Config,
    tracer_provider: &SdkTracerProvider,
    logger_provider: &SdkLoggerProvider,
) -> Result<(), TelemetryError> {
    let tc = &cfg.telemetry;
    // The application's own `tracing` spans belong to the application, not
    // to wingspan's instrumentation scope.
    let app_tracer = tracer_provider.tracer(tc.service_name.clone());
    let otel_spans = tracing_opentelemetry::layer().with_tracer(app_tracer);
    let otel_logs =
        opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(logger_provider);
    let console = tc.console_log.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(true)
    });
    tracing_subscriber::registry()
        .with(otel_spans.with_filter(env_filter(&tc.log_filter)?))
        .with(otel_logs.with_filter(env_filter(&tc.log_filter)?))
        .with(console.with_filter(env_filter(&tc.log_filter)?))
        .try_init()
        .map_err(|_| TelemetryError::SubscriberAlreadySet)
}

impl Telemetry {
    /// Spans dropped because the queue was full, export failures, as raw
    /// counters for tests and health payloads.
    pub fn loss_counts(&self) -> LossCounts {
        let l = &self.inner.losses;
        LossCounts {
            spans_queue_full: l.spans_queue_full.load(Ordering::Relaxed),
            spans_export_failed: l.spans_export_failed.load(Ordering::Relaxed),
            spans_exported: l.spans_exported.load(Ordering::Relaxed),
            metric_exports_failed: l.metric_exports_failed.load(Ordering::Relaxed),
            log_records_export_failed: l.log_records_export_failed.load(Ordering::Relaxed),
        }
    }
}

/// A snapshot of the pipeline's own losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LossCounts {
    /// Spans dropped because the bounded queue was full.
    pub spans_queue_full: u64,
    /// Spans whose export failed (collector down, timeout).
    pub spans_export_failed: u64,
    /// Spans exported successfully.
    pub spans_exported: u64,
    /// Metric exports that failed.
    pub metric_exports_failed: u64,
    /// Log records whose export failed.
    pub log_records_export_failed: u64,
}
