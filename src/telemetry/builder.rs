//! [`TelemetryBuilder`]: builds the three providers from a validated
//! [`Config`], with custom exporters for tests, benches or a vendor.

use std::fmt;
use std::sync::Arc;

use opentelemetry::global;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::logs::{BatchLogProcessor, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanExporter,
};
use opentelemetry_sdk::Resource;

use super::dropped::{CountingExporter, GuardedLogProcessor, GuardedProcessor, Losses};
use super::fanout::Fanout;
use super::handle::{Inner, Telemetry};
use super::pipelined::{Pipelined, MAX_CONCURRENT_EXPORTS};
use super::recording::Recording;
use super::redact::Scrubber;
use super::self_metrics::Components;
use super::tail::{self, TailCounts, TailSampler};
use super::{buckets, exporters, process, resource, self_metrics, TelemetryError, SCOPE_NAME};
use crate::config::{AttributeLimits, Config, Protocol, Sampler};
use crate::names;

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
            .field("custom_span_exporter", &self.span_processor.is_some())
            .field("custom_metric_exporter", &self.metric_reader.is_some())
            .field("custom_log_exporter", &self.log_processor.is_some())
            .field("install_globals", &self.install_globals)
            .field("install_subscriber", &self.install_subscriber)
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

    /// Sends log records to `exporter` instead of OTLP (still through the
    /// bounded, counted batch processor). Defaults to OTLP per the
    /// configuration.
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

    /// Installs [`Telemetry::tracing_layer`] (bridges, filter, console
    /// output) as the global default `tracing` subscriber. Defaults to true.
    pub fn install_subscriber(mut self, yes: bool) -> Self {
        self.install_subscriber = yes;
        self
    }

    /// Builds the pipeline. Needs no Tokio runtime: the gRPC exporters run
    /// on wingspan's own export thread, the HTTP ones on their client's.
    ///
    /// Also installs rustls' `ring` provider as the process default when the
    /// application has not installed one: wingspan's own TLS clients name
    /// their provider, but libraries that rely on the implicit default (an
    /// async `reqwest::Client::new()`, say) panic when a tree compiles in
    /// none or two. An application that wants another provider installs it
    /// before calling `init`.
    pub fn build(mut self) -> Result<Telemetry, TelemetryError> {
        crate::tls::install_default();
        let losses = Losses::new(Scrubber::new(&self.config.telemetry.otlp));
        let resource = resource::resource(&self.config);
        let components = self.components();
        let tail = Arc::new(TailCounts::default());
        let (tracer_provider, recording) = self.traces(&resource, &losses, &tail)?;
        // `()` without the `prometheus` feature.
        let (meter_provider, _pull) = self.metrics(&resource, &losses)?;
        let logger_provider = self.logs(resource, &losses)?;

        let scope = InstrumentationScope::builder(SCOPE_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .with_schema_url(crate::names::SCHEMA_URL)
            .build();
        let tracer = tracer_provider.tracer_with_scope(scope.clone());
        let meter = meter_provider.meter_with_scope(scope);
        process::register(&meter);
        self_metrics::register(&meter, &losses, components);
        let tc = &self.config.telemetry;
        if tc.tail_sampling.enabled && !tc.sdk_disabled {
            tail::register(&meter, &tail);
        }

        // The in-process view is independent of the exporters: it serves
        // /health/detailed even with OTEL_SDK_DISABLED or no collector.
        let stats = self
            .config
            .health
            .stats
            .then(|| crate::stats::Stats::builder().build());
        let telemetry = Telemetry {
            inner: Arc::new(Inner {
                stats,
                config: self.config,
                tracer_provider,
                meter_provider,
                logger_provider,
                tracer,
                meter,
                losses,
                recording,
                #[cfg(feature = "prometheus")]
                prometheus: _pull,
            }),
        };
        if self.install_subscriber {
            telemetry.install_subscriber()?;
        }
        warn_ignored_settings(&telemetry.inner.config);
        if self.install_globals {
            install_globals(&telemetry);
        }
        #[cfg(feature = "prometheus")]
        super::prometheus::serve_if_configured(&telemetry)?;
        Ok(telemetry)
    }

    /// The `otel.component.type` of each exporter, for the self-metrics.
    fn components(&self) -> Components {
        let otlp = &self.config.telemetry.otlp;
        let pick = |custom: bool, protocol, grpc_kind, http_kind| match (custom, protocol) {
            (true, _) => names::COMPONENT_CUSTOM_EXPORTER,
            (false, Protocol::Grpc) => grpc_kind,
            (false, Protocol::HttpProtobuf) => http_kind,
        };
        Components {
            span_exporter: pick(
                self.span_processor.is_some(),
                otlp.traces.protocol,
                names::COMPONENT_OTLP_GRPC_SPAN_EXPORTER,
                names::COMPONENT_OTLP_HTTP_SPAN_EXPORTER,
            ),
            metric_exporter: pick(
                self.metric_reader.is_some(),
                otlp.metrics.protocol,
                names::COMPONENT_OTLP_GRPC_METRIC_EXPORTER,
                names::COMPONENT_OTLP_HTTP_METRIC_EXPORTER,
            ),
            log_exporter: pick(
                self.log_processor.is_some(),
                otlp.logs.protocol,
                names::COMPONENT_OTLP_GRPC_LOG_EXPORTER,
                names::COMPONENT_OTLP_HTTP_LOG_EXPORTER,
            ),
        }
    }

    fn traces(
        &mut self,
        resource: &Resource,
        losses: &Arc<Losses>,
        tail: &Arc<TailCounts>,
    ) -> Result<(SdkTracerProvider, Recording), TelemetryError> {
        let cfg = &self.config;
        let tc = &cfg.telemetry;
        let export = !tc.sdk_disabled;
        let head = sampler(tc.sampler, tc.sdk_disabled);
        let mut builder = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_limits(span_limits(&tc.attribute_limits));
        let set = tc.traces_exporter;
        let processor = match self.span_processor.take() {
            Some(f) if export => Some(f(cfg, losses.clone())),
            None if export && !set.is_empty() => {
                let otlp = set
                    .otlp
                    .then(|| exporters::spans(&tc.otlp, tc.span_export_timeout))
                    .transpose()?
                    .map(|e| e.count_rejections(losses.clone()));
                let console = set
                    .console
                    .then(opentelemetry_stdout::SpanExporter::default);
                Some(batch_span_processor(
                    cfg,
                    Fanout::new(otlp, console),
                    losses.clone(),
                ))
            }
            _ => None,
        };
        let recording = Recording::of(tc.sdk_disabled, &head, processor.is_some());
        builder = builder.with_sampler(head);
        if let Some(p) = processor {
            // The bound covers the queue and the batches in flight, as the
            // SDK's own queue excludes the batch it exports.
            let guarded = GuardedProcessor::new(
                p,
                losses.clone(),
                span_bound(&tc.batch),
                tc.attribute_limits.span_value_length,
                tc.span_export_timeout,
            );
            // Tail sampling decides before the guard: a dropped trace never
            // takes a slot of the queue.
            builder = if tc.tail_sampling.enabled {
                builder.with_span_processor(TailSampler::new(
                    guarded,
                    &tc.tail_sampling,
                    tail.clone(),
                ))
            } else {
                builder.with_span_processor(guarded)
            };
        }
        Ok((builder.build(), recording))
    }

    fn metrics(
        &mut self,
        resource: &Resource,
        losses: &Arc<Losses>,
    ) -> Result<(SdkMeterProvider, PrometheusEndpoint), TelemetryError> {
        let cfg = &self.config;
        let tc = &cfg.telemetry;
        let export = !tc.sdk_disabled;
        let mut builder = SdkMeterProvider::builder()
            .with_resource(resource.clone())
            .with_view(buckets::view(tc.histogram_aggregation));
        match self.metric_reader.take() {
            Some(f) if export => builder = f(builder, cfg, losses.clone()),
            None if export && (tc.metrics_exporter.otlp || tc.metrics_exporter.console) => {
                let otlp = tc
                    .metrics_exporter
                    .otlp
                    .then(|| exporters::metrics(&tc.otlp, tc.metric_export_timeout))
                    .transpose()?;
                let console = tc
                    .metrics_exporter
                    .console
                    .then(opentelemetry_stdout::MetricExporter::default);
                let exporter = Fanout::new(otlp, console);
                builder = builder.with_reader(periodic_reader(cfg, exporter, losses.clone()));
            }
            _ => {}
        }
        // OTEL_SDK_DISABLED turns the pull endpoint off too: the
        // specification disables the whole SDK, and a throughput comparison
        // against a disabled SDK must not keep a reader running.
        #[cfg(feature = "prometheus")]
        let (builder, prometheus) = if export {
            super::prometheus::attach(builder, tc)?
        } else {
            (builder, None)
        };
        #[cfg(not(feature = "prometheus"))]
        let prometheus = ();
        Ok((builder.build(), prometheus))
    }

    fn logs(
        &mut self,
        resource: Resource,
        losses: &Arc<Losses>,
    ) -> Result<SdkLoggerProvider, TelemetryError> {
        let cfg = &self.config;
        let tc = &cfg.telemetry;
        let export = !tc.sdk_disabled;
        let mut builder = SdkLoggerProvider::builder().with_resource(resource);
        let set = tc.logs_exporter;
        let processor = match self.log_processor.take() {
            Some(f) if export => Some(f(cfg, losses.clone())),
            None if export && !set.is_empty() => {
                let otlp = set
                    .otlp
                    .then(|| exporters::logs(&tc.otlp, tc.log_export_timeout))
                    .transpose()?;
                let console = set.console.then(opentelemetry_stdout::LogExporter::default);
                Some(batch_log_processor(
                    cfg,
                    Fanout::new(otlp, console),
                    losses.clone(),
                ))
            }
            _ => None,
        };
        if let Some(p) = processor {
            builder = builder.with_log_processor(GuardedLogProcessor::new(
                p,
                losses.clone(),
                tc.log_batch.max_queue_size,
            ));
        }
        Ok(builder.build())
    }
}

#[cfg(feature = "prometheus")]
type PrometheusEndpoint = Option<super::prometheus::PullEndpoint>;
#[cfg(not(feature = "prometheus"))]
type PrometheusEndpoint = ();

/// The `OTEL_*` values the configuration ignored, logged once the log
/// pipeline can carry them (and on stderr as well when the console output
/// is off: the warning may be about the very exporter that would carry it).
fn warn_ignored_settings(config: &Config) {
    for w in &config.warnings {
        let message = format!(
            "{w}; ignored, the default applies (the OpenTelemetry specification's rule; \
             WINGSPAN_STRICT_CONFIG=true makes it an error)"
        );
        tracing::warn!(target: "wingspan::config", variable = %w.variable, "{message}");
        if !config.telemetry.console_log {
            eprintln!("wingspan: {message}");
        }
    }
}

fn install_globals(telemetry: &Telemetry) {
    global::set_text_map_propagator(super::propagators::Propagation::new(
        &telemetry.config().telemetry.propagators,
    ));
    global::set_tracer_provider(telemetry.tracer_provider().clone());
    global::set_meter_provider(telemetry.meter_provider().clone());
}

/// The most spans in flight the bound allows for, whatever the batch size:
/// sixteen default batches. The SDK reserves its whole queue up front, and
/// sixteen batches of the largest allowed size would be a million slots.
const MAX_IN_FLIGHT_SPANS: usize = 16 * 512;

/// The most spans queued or in flight: `OTEL_BSP_MAX_QUEUE_SIZE` bounds the
/// queue, as the SDK's queue excludes the batch it exports; the overlapping
/// exports ([`Pipelined`]) add theirs, up to [`MAX_IN_FLIGHT_SPANS`] (past
/// that, spans are dropped and counted sooner, never held).
fn span_bound(b: &crate::config::BatchConfig) -> usize {
    b.max_queue_size + (MAX_CONCURRENT_EXPORTS * b.max_export_batch_size).min(MAX_IN_FLIGHT_SPANS)
}

fn batch_span_processor<E: SpanExporter + 'static>(
    cfg: &Config,
    exporter: E,
    losses: Arc<Losses>,
) -> BatchSpanProcessor {
    let b = &cfg.telemetry.batch;
    let counted = CountingExporter::new(exporter, losses.clone());
    let exporter = Pipelined::new(
        counted,
        losses.span_exports.clone(),
        exporters::export_runtime_handle(),
        cfg.telemetry.span_export_timeout,
    );
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                // The guard in front bounds the queue and the batches in
                // flight; the SDK's own queue gets that size so it never
                // drops first.
                .with_max_queue_size(span_bound(b))
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
    let b = &cfg.telemetry.log_batch;
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

/// The count limits of `OTEL_SPAN_*_COUNT_LIMIT` and friends; the SDK
/// applies them as items are added (the first ones are kept) and reports
/// the dropped counts in the exported span.
fn span_limits(l: &AttributeLimits) -> opentelemetry_sdk::trace::SpanLimits {
    opentelemetry_sdk::trace::SpanLimits {
        max_events_per_span: l.span_event_count,
        max_attributes_per_span: l.span_attribute_count,
        max_links_per_span: l.span_link_count,
        max_attributes_per_event: l.event_attribute_count,
        max_attributes_per_link: l.link_attribute_count,
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn bound(queue: usize, batch: usize) -> usize {
        span_bound(&crate::config::BatchConfig {
            max_queue_size: queue,
            max_export_batch_size: batch,
            scheduled_delay: Duration::from_secs(5),
        })
    }

    #[test]
    fn the_span_bound_holds_the_queue_and_sixteen_default_batches_at_most() {
        assert_eq!(bound(2048, 512), 2048 + 16 * 512);
        assert_eq!(bound(2048, 100), 2048 + 16 * 100);
        // The largest settings reserve no million slots.
        assert_eq!(bound(65_536, 65_536), 65_536 + MAX_IN_FLIGHT_SPANS);
    }
}
