//! The standard `OTEL_*` variables, as the OpenTelemetry specification
//! defines them, validated before the SDK sees them.

use std::net::SocketAddr;
use std::time::Duration;

use super::exporters::{self, ExporterSet};
use super::limits::AttributeLimits;
use super::sdk_log::SdkLogLevel;
use super::{ConfigError, Env, OtlpConfig, Profile};

/// How histogram instruments aggregate
/// (`OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistogramAggregation {
    /// `explicit_bucket_histogram`: fixed bucket edges (wingspan's, see
    /// `telemetry::buckets`, else the SDK's defaults).
    ExplicitBucket,
    /// `base2_exponential_bucket_histogram`: base-2 exponential buckets
    /// (160 buckets, scale up to 20, min/max kept) whose resolution follows
    /// the recorded values, so sub-millisecond durations keep a relative
    /// error of a few percent.
    Base2Exponential,
}

/// The specification's name of the histogram aggregation variable.
pub const HISTOGRAM_AGGREGATION_VAR: &str =
    "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION";

/// The head sampler (`OTEL_TRACES_SAMPLER` + `OTEL_TRACES_SAMPLER_ARG`).
///
/// Metrics are recorded for every request whatever the sampler decides, so
/// sampling never biases percentiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio`.
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default).
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`.
    ParentBasedTraceIdRatio(f64),
}

/// Batch processor settings: `OTEL_BSP_*` for spans, `OTEL_BLRP_*` for log
/// records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// `OTEL_BSP_MAX_QUEUE_SIZE` / `OTEL_BLRP_MAX_QUEUE_SIZE`, from 1 to
    /// [`MAX_QUEUE_SIZE`]: the SDK reserves the whole queue up front, so a
    /// huge value costs gigabytes before the first span. Defaults to 2048.
    pub max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` / `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`,
    /// from 1 to the queue size. Defaults to 512 (or the queue size if smaller).
    pub max_export_batch_size: usize,
    /// `OTEL_BSP_SCHEDULE_DELAY` / `OTEL_BLRP_SCHEDULE_DELAY` (ms), at least
    /// [`MIN_SCHEDULE_DELAY_MS`]: 0 makes the export thread spin a core.
    /// Defaults to 5000 for spans, 1000 for log records.
    pub scheduled_delay: Duration,
}

/// The largest accepted `OTEL_BSP_MAX_QUEUE_SIZE` / `OTEL_BLRP_MAX_QUEUE_SIZE`.
pub const MAX_QUEUE_SIZE: u64 = 65_536;
/// The smallest accepted `OTEL_BSP_SCHEDULE_DELAY` / `OTEL_BLRP_SCHEDULE_DELAY`, in ms.
pub const MIN_SCHEDULE_DELAY_MS: u64 = 10;

impl BatchConfig {
    /// Reads `{prefix}_MAX_QUEUE_SIZE`, `{prefix}_MAX_EXPORT_BATCH_SIZE` and
    /// `{prefix}_SCHEDULE_DELAY`.
    fn from_env(env: &Env<'_>, prefix: &str, default_delay_ms: u64) -> Result<Self, ConfigError> {
        let max_queue_size =
            env.u64_in(&format!("{prefix}_MAX_QUEUE_SIZE"), 2048, 1, MAX_QUEUE_SIZE)?;
        let max_export_batch_size = env.u64_in(
            &format!("{prefix}_MAX_EXPORT_BATCH_SIZE"),
            512.min(max_queue_size),
            1,
            max_queue_size,
        )?;
        Ok(Self {
            max_queue_size: max_queue_size as usize,
            max_export_batch_size: max_export_batch_size as usize,
            scheduled_delay: env.millis_in(
                &format!("{prefix}_SCHEDULE_DELAY"),
                default_delay_ms,
                MIN_SCHEDULE_DELAY_MS,
                MAX_MS,
            )?,
        })
    }
}

/// The OTel pipeline's settings.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// `OTEL_SDK_DISABLED`: no export at all; instrumentation stays in place
    /// and costs next to nothing. Defaults to false.
    pub sdk_disabled: bool,
    /// `OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`.
    /// Defaults to `unknown_service:<executable name>`.
    pub service_name: String,
    /// `WINGSPAN_SERVICE_VERSION`, else `service.version` in
    /// `OTEL_RESOURCE_ATTRIBUTES`. Defaults to unset.
    pub service_version: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`: resource attributes, which override the
    /// detected ones (`host.name`, `deployment.environment.name`, ...) but
    /// not `service.name` / `service.version` when `OTEL_SERVICE_NAME` /
    /// `WINGSPAN_SERVICE_VERSION` are set. Defaults to none.
    pub resource_attributes: Vec<(String, String)>,
    /// `service.instance.id`: the one of `OTEL_RESOURCE_ATTRIBUTES`, else a
    /// random UUID v4 generated once per process
    /// ([`process_instance_id`](super::process_instance_id)), so replicas of
    /// one service keep apart (Grafana maps it to the `instance` label).
    pub service_instance_id: String,
    /// The OTLP exporter.
    pub otlp: OtlpConfig,
    /// `OTEL_TRACES_EXPORTER`: a list of `otlp` and `console`, or `none`.
    /// Defaults to otlp.
    pub traces_exporter: ExporterSet,
    /// `OTEL_METRICS_EXPORTER`: a list of `otlp`, `console` and
    /// `prometheus` (feature `prometheus`: turns the pull endpoint on at
    /// `OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT` unless
    /// `WINGSPAN_PROMETHEUS_ADDR` says where), or `none`. Defaults to otlp.
    pub metrics_exporter: ExporterSet,
    /// `OTEL_LOGS_EXPORTER`: a list of `otlp` and `console`, or `none`.
    /// Defaults to otlp.
    pub logs_exporter: ExporterSet,
    /// The head sampler. Defaults to parent-based always-on (which in-process
    /// tail sampling imposes: see [`tail_sampling`](Self::tail_sampling)).
    pub sampler: Sampler,
    /// In-process tail sampling (`WINGSPAN_TAIL_SAMPLING*`). Defaults to off.
    pub tail_sampling: super::TailSamplingConfig,
    /// `OTEL_PROPAGATORS`: the context formats read from incoming requests
    /// (the HTTP layer), written on outgoing ones (`client`) and installed
    /// as the global propagator. Defaults to tracecontext,baggage.
    pub propagators: Vec<super::Propagator>,
    /// `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`:
    /// `explicit_bucket_histogram` or `base2_exponential_bucket_histogram`,
    /// for every histogram instrument. The exponential one is refused
    /// together with the Prometheus pull endpoint, whose exporter
    /// (opentelemetry-prometheus 0.33) silently drops exponential histograms.
    /// Defaults to explicit_bucket_histogram.
    pub histogram_aggregation: HistogramAggregation,
    /// `OTEL_METRIC_EXPORT_INTERVAL` (ms). Defaults to 60000.
    pub metric_export_interval: Duration,
    /// `OTEL_METRIC_EXPORT_TIMEOUT` (ms); `0` means no limit ([`NO_LIMIT`]).
    /// Defaults to 30000.
    pub metric_export_timeout: Duration,
    /// The batch span processor (`OTEL_BSP_*`).
    pub batch: BatchConfig,
    /// `OTEL_BSP_EXPORT_TIMEOUT` (ms); `0` means no limit ([`NO_LIMIT`]).
    /// The SDK's batch processor ignores it, so it tightens the span
    /// exporter's OTLP timeout instead. Defaults to 30000.
    pub span_export_timeout: Duration,
    /// `OTEL_BLRP_EXPORT_TIMEOUT` (ms), likewise for log records. Defaults
    /// to 30000.
    pub log_export_timeout: Duration,
    /// The batch log record processor (`OTEL_BLRP_*`).
    pub log_batch: BatchConfig,
    /// Attribute value length and count limits.
    pub attribute_limits: AttributeLimits,
    /// `OTEL_LOG_LEVEL`: `error`, `warn`, `info`, `debug` or `none`. When
    /// set, the SDK's own diagnostics (targets `opentelemetry*`) are printed
    /// to stderr at that level, whatever `WINGSPAN_CONSOLE_LOG` says, and
    /// never exported (an export failure exported through the failing
    /// exporter would loop). Defaults to unset: the SDK stays silent and
    /// wingspan reports export failures and losses itself.
    pub sdk_log_level: Option<SdkLogLevel>,
    /// `RUST_LOG`: which `tracing` spans and events of the application reach
    /// the OTel bridges and the console. wingspan always removes its exporters'
    /// own targets (`opentelemetry*`, `tonic`, `h2`, `hyper`, `reqwest`) so
    /// the exporter never traces itself, and keeps the database and TLS
    /// drivers (`tokio_postgres`, `postgres_protocol`, `deadpool*`, `fred`,
    /// `rustls`, ...) at `warn` unless a directive names them
    /// (`RUST_LOG=debug,tokio_postgres=debug`), because they log statement
    /// text and server NOTICEs. Defaults to `info`.
    pub log_filter: String,
    /// `WINGSPAN_CONSOLE_LOG`: also print `tracing` events to stderr.
    /// Defaults to true in development, false otherwise.
    pub console_log: bool,
    /// `WINGSPAN_PROMETHEUS_ADDR`: where the optional pull endpoint listens
    /// (feature `prometheus`); `METRICS_PORT` is an alias
    /// (`0.0.0.0:<port>`). Defaults to unset (no endpoint).
    pub prometheus_addr: Option<SocketAddr>,
    /// `WINGSPAN_PROMETHEUS`: keep a Prometheus registry for
    /// `Telemetry::prometheus_router` even without a listener of its own
    /// (feature `prometheus`); `ENABLE_METRICS` is an alias
    /// (`true` alone listens on `0.0.0.0:9464`). Defaults to false (true
    /// when an address is set).
    pub prometheus_enabled: bool,
}

const MAX_MS: u64 = 24 * 3600 * 1000;

/// What a timeout of `0` becomes: the spec reads 0 as "no limit", and the
/// exporters need a duration (the OTLP exporter left without one would read
/// the same `0` from the environment itself and time out at once), so it is
/// the largest timeout accepted, 24 hours.
pub const NO_LIMIT: Duration = Duration::from_millis(MAX_MS);

/// A timeout read in milliseconds, `0` meaning [`NO_LIMIT`].
pub(super) fn timeout(env: &Env<'_>, name: &str, default_ms: u64) -> Result<Duration, ConfigError> {
    let d = env.millis(name, default_ms, MAX_MS)?;
    Ok(if d.is_zero() { NO_LIMIT } else { d })
}

impl TelemetryConfig {
    pub(crate) fn from_env(env: &Env<'_>, profile: Profile) -> Result<Self, ConfigError> {
        let resource_attributes = env.pairs("OTEL_RESOURCE_ATTRIBUTES", false)?;
        let from_resource = |key: &str| {
            resource_attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let service_name = env
            .get("OTEL_SERVICE_NAME")
            .or_else(|| from_resource(crate::names::SERVICE_NAME))
            .unwrap_or_else(default_service_name);
        let service_version = env
            .get("WINGSPAN_SERVICE_VERSION")
            .or_else(|| from_resource(crate::names::SERVICE_VERSION));

        let traces_exporter = ExporterSet::read(env, "OTEL_TRACES_EXPORTER", false)?;
        let metrics_exporter =
            ExporterSet::read(env, "OTEL_METRICS_EXPORTER", cfg!(feature = "prometheus"))?;
        let logs_exporter = ExporterSet::read(env, "OTEL_LOGS_EXPORTER", false)?;

        let tail_sampling = super::TailSamplingConfig::from_env(env)?;
        let sampler = head_sampler(env, sampler(env)?, &tail_sampling)?;
        let batch = BatchConfig::from_env(env, "OTEL_BSP", 5000)?;
        let log_batch = BatchConfig::from_env(env, "OTEL_BLRP", 1000)?;

        let metric_export_interval =
            env.millis_in("OTEL_METRIC_EXPORT_INTERVAL", 60000, 1, MAX_MS)?;

        // ENABLE_METRICS / METRICS_PORT are aliases of these two.
        let mut prometheus = PrometheusSwitch::read(env)?;
        if metrics_exporter.prometheus {
            prometheus.enabled = true;
            if prometheus.addr.is_none() {
                prometheus.addr = Some(exporters::prometheus_addr(env)?);
            }
        }
        let log_filter = log_filter(env)?;
        let histogram_aggregation = histogram_aggregation(env, prometheus.enabled)?;

        Ok(Self {
            sdk_disabled: env.bool("OTEL_SDK_DISABLED", false)?,
            service_name,
            service_version,
            service_instance_id: super::resource::service_instance_id(&resource_attributes),
            resource_attributes,
            otlp: OtlpConfig::from_env(env)?,
            traces_exporter,
            metrics_exporter,
            logs_exporter,
            sampler,
            tail_sampling,
            propagators: super::Propagator::from_env(env)?,
            histogram_aggregation,
            metric_export_interval,
            metric_export_timeout: timeout(env, "OTEL_METRIC_EXPORT_TIMEOUT", 30000)?,
            batch,
            span_export_timeout: timeout(env, "OTEL_BSP_EXPORT_TIMEOUT", 30000)?,
            log_export_timeout: timeout(env, "OTEL_BLRP_EXPORT_TIMEOUT", 30000)?,
            log_batch,
            attribute_limits: AttributeLimits::from_env(env)?,
            sdk_log_level: SdkLogLevel::read(env)?,
            log_filter,
            console_log: env.bool("WINGSPAN_CONSOLE_LOG", profile == Profile::Development)?,
            prometheus_enabled: prometheus.enabled,
            prometheus_addr: prometheus.addr,
        })
    }
}

/// `OTEL_TRACES_SAMPLER` with its `OTEL_TRACES_SAMPLER_ARG`.
///
/// The argument is read only for the samplers that take one: an invalid
/// argument of `always_on` is no reason to stop (or warn).
fn sampler(env: &Env<'_>) -> Result<Sampler, ConfigError> {
    let ratio = || env.f64_in("OTEL_TRACES_SAMPLER_ARG", 1.0, 0.0, 1.0);
    #[derive(Clone, Copy)]
    enum S {
        On,
        Off,
        Ratio,
        POn,
        POff,
        PRatio,
    }
    Ok(
        match env.choice(
            "OTEL_TRACES_SAMPLER",
            S::POn,
            &[
                ("always_on", S::On),
                ("always_off", S::Off),
                ("traceidratio", S::Ratio),
                ("parentbased_always_on", S::POn),
                ("parentbased_always_off", S::POff),
                ("parentbased_traceidratio", S::PRatio),
            ],
        )? {
            S::On => Sampler::AlwaysOn,
            S::Off => Sampler::AlwaysOff,
            S::Ratio => Sampler::TraceIdRatio(ratio()?),
            S::POn => Sampler::ParentBasedAlwaysOn,
            S::POff => Sampler::ParentBasedAlwaysOff,
            S::PRatio => Sampler::ParentBasedTraceIdRatio(ratio()?),
        },
    )
}

/// The head sampler that tail sampling needs: every local root recorded,
/// a remote parent's sampled flag honoured. Another sampler set alongside
/// it is a warning (an error when strict) and gives way.
fn head_sampler(
    env: &Env<'_>,
    set: Sampler,
    tail: &super::TailSamplingConfig,
) -> Result<Sampler, ConfigError> {
    if !tail.enabled || set == Sampler::ParentBasedAlwaysOn {
        return Ok(set);
    }
    let value = env.get("OTEL_TRACES_SAMPLER").unwrap_or_default();
    env.fallback(
        ConfigError::invalid(
            "OTEL_TRACES_SAMPLER",
            &value,
            "parentbased_always_on (or unset) while WINGSPAN_TAIL_SAMPLING=true: tail \
             sampling records every local trace and decides when its root ends, with \
             WINGSPAN_TAIL_SAMPLING_RATIO as the ratio",
        ),
        Sampler::ParentBasedAlwaysOn,
    )
}

/// `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`; the
/// exponential one only without the Prometheus pull endpoint, which would
/// lose every histogram without a word.
fn histogram_aggregation(
    env: &Env<'_>,
    prometheus_enabled: bool,
) -> Result<HistogramAggregation, ConfigError> {
    let kind = env.choice(
        HISTOGRAM_AGGREGATION_VAR,
        HistogramAggregation::ExplicitBucket,
        &[
            (
                "explicit_bucket_histogram",
                HistogramAggregation::ExplicitBucket,
            ),
            (
                "base2_exponential_bucket_histogram",
                HistogramAggregation::Base2Exponential,
            ),
        ],
    )?;
    if kind == HistogramAggregation::Base2Exponential && prometheus_enabled {
        return env.fallback(
            ConfigError::invalid(
                HISTOGRAM_AGGREGATION_VAR,
                "base2_exponential_bucket_histogram",
                "explicit_bucket_histogram while the Prometheus pull endpoint is on \
             (WINGSPAN_PROMETHEUS / WINGSPAN_PROMETHEUS_ADDR): its exporter drops \
             exponential histograms",
            ),
            HistogramAggregation::ExplicitBucket,
        );
    }
    Ok(kind)
}

/// `RUST_LOG`, parsed once here so a bad value names the variable.
fn log_filter(env: &Env<'_>) -> Result<String, ConfigError> {
    let log_filter = env.string("RUST_LOG", "info");
    if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&log_filter) {
        return Err(ConfigError::invalid(
            "RUST_LOG",
            &log_filter,
            &format!("tracing filter directives ({e})"),
        ));
    }
    Ok(log_filter)
}

fn default_service_name() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    format!("unknown_service:{exe}")
}

/// The Prometheus pull endpoint's settings once the aliases are
/// applied: what `WINGSPAN_PROMETHEUS` and `WINGSPAN_PROMETHEUS_ADDR` become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PrometheusSwitch {
    /// Keep a Prometheus registry.
    enabled: bool,
    /// Where the pull endpoint listens, if anywhere.
    addr: Option<SocketAddr>,
}

impl PrometheusSwitch {
    /// Resolves the aliases `ENABLE_METRICS` and `METRICS_PORT` into the
    /// pull endpoint's settings:
    ///
    /// - `WINGSPAN_PROMETHEUS_ADDR` wins when set; `METRICS_PORT=p`
    ///   otherwise means `127.0.0.1:p`: loopback, like the admin listener,
    ///   so the exposition (route names, pool sizes, statement summaries) is
    ///   not on the network by default. A scraper on another host or
    ///   container needs `WINGSPAN_PROMETHEUS_ADDR=0.0.0.0:p`, and then the
    ///   admin token (or `WINGSPAN_ADMIN_OPEN=true`): `/metrics` follows the
    ///   admin rules. Both set with different ports is an error naming
    ///   `METRICS_PORT`.
    /// - `WINGSPAN_PROMETHEUS` wins when set; `ENABLE_METRICS` otherwise;
    ///   with neither, the endpoint is on when it has an address.
    /// - `ENABLE_METRICS=true` with no address and no port listens on
    ///   `127.0.0.1:9464` (the Prometheus exporter's registered port);
    ///   `ENABLE_METRICS=false` turns the endpoint off even with a port.
    fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let canonical = env.socket("WINGSPAN_PROMETHEUS_ADDR")?;
        let port = env.port("METRICS_PORT")?;
        if let (Some(addr), Some(p)) = (canonical, port) {
            if addr.port() != p {
                return Err(ConfigError::invalid(
                    "METRICS_PORT",
                    &p.to_string(),
                    &format!(
                        "unset, or the port of WINGSPAN_PROMETHEUS_ADDR ({})",
                        addr.port()
                    ),
                ));
            }
        }
        let enabled = match env.flag("WINGSPAN_PROMETHEUS")? {
            Some(b) => Some(b),
            None => env.flag("ENABLE_METRICS")?,
        };
        let loopback = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let mut addr = canonical.or_else(|| port.map(loopback));
        if enabled == Some(true) && addr.is_none() && env.get("ENABLE_METRICS").is_some() {
            addr = Some(loopback(9464));
        }
        let enabled = enabled.unwrap_or(addr.is_some());
        Ok(Self {
            enabled,
            addr: if enabled { addr } else { None },
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{lenient, strict};

    use super::*;

    /// Strict: the tests below assert on the errors; the lenient reading
    /// of the same values is `otel_values_are_warnings_by_default`.
    fn cfg(vars: &[(&str, &str)]) -> Result<TelemetryConfig, ConfigError> {
        strict(vars).map(|c| c.telemetry)
    }

    #[test]
    fn timeouts_of_zero_mean_no_limit() {
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "0"),
        ])
        .unwrap();
        assert_eq!(c.otlp.traces.timeout, NO_LIMIT);
        assert_eq!(c.metric_export_timeout, NO_LIMIT);
        let c = cfg(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "250")]).unwrap();
        assert_eq!(c.otlp.logs.timeout, Duration::from_millis(250));
        assert_eq!(c.metric_export_timeout, Duration::from_millis(30000));
    }

    #[test]
    fn bad_values_name_variable_and_accepted_values() {
        let e = cfg(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_EXPORTER_OTLP_PROTOCOL");
        assert!(e.expected.contains("grpc"));
        let e = cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_EXPORTER_OTLP_ENDPOINT");
        let e = cfg(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "OTEL_TRACES_SAMPLER_ARG");
        // An argument the sampler does not take is not read at all.
        let c = cfg(&[("OTEL_TRACES_SAMPLER_ARG", "1.5")]).unwrap();
        assert_eq!(c.sampler, Sampler::ParentBasedAlwaysOn);
        let e = cfg(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "20"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
        let e = cfg(&[("RUST_LOG", "info,[[[")]).unwrap_err();
        assert_eq!(e.variable, "RUST_LOG");
        let e = cfg(&[("OTEL_SDK_DISABLED", "maybe")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_SDK_DISABLED");
    }

    #[test]
    fn service_name_falls_back_to_resource_attributes() {
        let c = cfg(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=api,service.version=1.2.3",
        )])
        .unwrap();
        assert_eq!(c.service_name, "api");
        assert_eq!(c.service_version.as_deref(), Some("1.2.3"));
        let c = cfg(&[
            ("OTEL_SERVICE_NAME", "web"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=api"),
        ])
        .unwrap();
        assert_eq!(c.service_name, "web");
    }

    #[test]
    fn batch_settings_that_hurt_are_refused_with_the_range() {
        let e = cfg(&[("OTEL_BSP_MAX_QUEUE_SIZE", "16777216")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_BSP_MAX_QUEUE_SIZE");
        assert_eq!(e.value, "16777216");
        assert_eq!(e.expected, "a whole number from 1 to 65536");
        let e = cfg(&[("OTEL_BSP_SCHEDULE_DELAY", "0")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_BSP_SCHEDULE_DELAY");
        assert_eq!(e.expected, "a whole number from 10 to 86400000");
        let e = cfg(&[("OTEL_BLRP_MAX_QUEUE_SIZE", "100000")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_BLRP_MAX_QUEUE_SIZE");
        let e = cfg(&[
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "200"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE");
        assert_eq!(e.expected, "a whole number from 1 to 100");
        let e = cfg(&[("OTEL_BLRP_SCHEDULE_DELAY", "5")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_BLRP_SCHEDULE_DELAY");
        let c = cfg(&[]).unwrap();
        assert_eq!(c.log_batch.scheduled_delay, Duration::from_millis(1000));
        assert_eq!(c.batch.scheduled_delay, Duration::from_millis(5000));
    }

    #[test]
    fn histogram_aggregation_parses_and_refuses_the_pull_endpoint() {
        assert_eq!(
            cfg(&[]).unwrap().histogram_aggregation,
            HistogramAggregation::ExplicitBucket
        );
        let c = cfg(&[(
            HISTOGRAM_AGGREGATION_VAR,
            "Base2_Exponential_Bucket_Histogram",
        )])
        .unwrap();
        assert_eq!(
            c.histogram_aggregation,
            HistogramAggregation::Base2Exponential
        );
        let c = cfg(&[(HISTOGRAM_AGGREGATION_VAR, "explicit_bucket_histogram")]).unwrap();
        assert_eq!(
            c.histogram_aggregation,
            HistogramAggregation::ExplicitBucket
        );

        let e = cfg(&[(HISTOGRAM_AGGREGATION_VAR, "exponential")]).unwrap_err();
        assert_eq!(e.variable, HISTOGRAM_AGGREGATION_VAR);
        assert_eq!(e.value, "exponential");
        assert!(
            e.expected.contains("explicit_bucket_histogram")
                && e.expected.contains("base2_exponential_bucket_histogram"),
            "{}",
            e.expected
        );

        let e = cfg(&[
            (
                HISTOGRAM_AGGREGATION_VAR,
                "base2_exponential_bucket_histogram",
            ),
            ("WINGSPAN_PROMETHEUS", "true"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, HISTOGRAM_AGGREGATION_VAR);
        assert!(e.expected.contains("Prometheus"), "{}", e.expected);
    }

    /// The specification: "an invalid or unrecognised value SHOULD produce
    /// a warning and be ignored". Each value here stops start-up in strict
    /// mode (the tests above); by default each is a warning naming the
    /// variable, and the default applies.
    #[test]
    fn otel_values_are_warnings_by_default() {
        let bad = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "16777216"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "5"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign"),
            ("OTEL_RESOURCE_ATTRIBUTES", "=x"),
            ("OTEL_SDK_DISABLED", "yes"),
            (HISTOGRAM_AGGREGATION_VAR, "exponential"),
        ];
        let c = lenient(&bad).unwrap();
        let warned: Vec<&str> = c.warnings.iter().map(|w| w.variable.as_str()).collect();
        for (var, _) in bad {
            assert!(warned.contains(&var), "{var} not in {warned:?}");
            assert!(
                strict(&[(var, bad.iter().find(|(v, _)| *v == var).unwrap().1)]).is_err(),
                "{var}"
            );
        }
        let t = c.telemetry;
        let d = strict(&[]).unwrap().telemetry;
        assert_eq!(
            t.otlp.traces.protocol,
            crate::config::Protocol::HttpProtobuf
        );
        assert_eq!(t.otlp.traces.endpoint, d.otlp.traces.endpoint);
        assert_eq!(t.otlp.traces.timeout, d.otlp.traces.timeout);
        assert!(t.otlp.traces.headers.is_empty());
        assert_eq!(t.sampler, Sampler::ParentBasedAlwaysOn);
        assert_eq!(t.batch, d.batch);
        assert_eq!(t.log_batch, d.log_batch);
        assert_eq!(t.metric_export_interval, d.metric_export_interval);
        assert!(t.resource_attributes.is_empty());
        // `yes` is not a true value for the specification.
        assert!(!t.sdk_disabled);
        assert_eq!(
            t.histogram_aggregation,
            HistogramAggregation::ExplicitBucket
        );
        // Secrets stay out of the warning.
        let c = lenient(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key")]).unwrap();
        assert!(
            !c.warnings[0].to_string().contains("api-key"),
            "{:?}",
            c.warnings
        );
        // wingspan's own settings still stop start-up.
        assert_eq!(
            lenient(&[("WINGSPAN_CONSOLE_LOG", "perhaps")])
                .unwrap_err()
                .variable,
            "WINGSPAN_CONSOLE_LOG"
        );
        assert_eq!(
            lenient(&[("RUST_LOG", "info,[[[")]).unwrap_err().variable,
            "RUST_LOG"
        );
    }

    #[test]
    fn only_true_and_false_are_otel_booleans() {
        for (v, disabled) in [("true", true), ("TRUE", true), ("false", false)] {
            assert_eq!(
                cfg(&[("OTEL_SDK_DISABLED", v)]).unwrap().sdk_disabled,
                disabled
            );
        }
        for v in ["1", "yes", "on"] {
            assert_eq!(
                cfg(&[("OTEL_SDK_DISABLED", v)]).unwrap_err().variable,
                "OTEL_SDK_DISABLED"
            );
            let c = lenient(&[("OTEL_SDK_DISABLED", v)]).unwrap();
            assert!(!c.telemetry.sdk_disabled, "{v}");
        }
        // wingspan's own booleans keep the usual spellings.
        assert!(cfg(&[("WINGSPAN_CONSOLE_LOG", "yes")]).unwrap().console_log);
    }

    #[test]
    fn sampler_parses() {
        let c = cfg(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
        ])
        .unwrap();
        assert_eq!(c.sampler, Sampler::ParentBasedTraceIdRatio(0.5));
    }

    #[test]
    fn metrics_aliases() {
        let switch = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            let lookup = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            PrometheusSwitch::read(&Env::new(&lookup))
        };
        let s = |vars| switch(vars).unwrap();
        assert_eq!(
            s(&[]),
            PrometheusSwitch {
                enabled: false,
                addr: None
            }
        );
        assert_eq!(
            s(&[("ENABLE_METRICS", "true"), ("METRICS_PORT", "9090")]),
            PrometheusSwitch {
                enabled: true,
                addr: Some("127.0.0.1:9090".parse().unwrap())
            }
        );
        assert_eq!(
            s(&[("ENABLE_METRICS", "true")]).addr,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        assert!(!s(&[("ENABLE_METRICS", "false"), ("METRICS_PORT", "9090")]).enabled);
        assert_eq!(
            s(&[
                ("WINGSPAN_PROMETHEUS_ADDR", "127.0.0.1:9090"),
                ("METRICS_PORT", "9090")
            ])
            .addr,
            Some("127.0.0.1:9090".parse().unwrap())
        );
        assert_eq!(
            s(&[("WINGSPAN_PROMETHEUS", "false"), ("ENABLE_METRICS", "true")]),
            PrometheusSwitch {
                enabled: false,
                addr: None
            }
        );
        let e = switch(&[
            ("WINGSPAN_PROMETHEUS_ADDR", "127.0.0.1:1"),
            ("METRICS_PORT", "2"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "METRICS_PORT");
        let e = switch(&[("METRICS_PORT", "http")]).unwrap_err();
        assert_eq!(
            (e.value.as_str(), e.expected.as_str()),
            ("http", "a port from 1 to 65535")
        );
        let e = switch(&[("ENABLE_METRICS", "yes please")]).unwrap_err();
        assert_eq!(e.variable, "ENABLE_METRICS");
    }
}
