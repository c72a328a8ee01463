//! The `tracing` side: the filter shared by both bridges and the console,
//! and the layer that carries `tracing` spans and events into the pipeline.

use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use super::bridge::LogBridge;
use super::{Telemetry, TelemetryError};
use crate::config::{ConfigError, SdkLogLevel};

/// Targets kept out of both `tracing` bridges and the console, or the
/// exporters would trace and log themselves in a loop.
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

/// Driver crates held at `warn` unless `RUST_LOG` names them: they log
/// statement text with its literals and parameters (`tokio_postgres` at
/// DEBUG), server NOTICEs (at INFO) and connection details, none of which
/// may reach a log record by default. A directive naming the target (or a
/// prefix of it) opts in: `RUST_LOG=info,tokio_postgres=debug`.
pub const DRIVER_TARGETS: &[&str] = &[
    "tokio_postgres",
    "postgres_protocol",
    "postgres_types",
    "tokio_postgres_rustls",
    "deadpool",
    "deadpool_postgres",
    "deadpool_runtime",
    "fred",
    "redis_protocol",
    "rustls",
    "tokio_rustls",
    "rustls_native_certs",
    "webpki",
];

/// The filter of both bridges and the console: the application's
/// `RUST_LOG`, with the exporters' own targets always off and the drivers
/// at `warn` unless named.
pub(crate) fn env_filter(directives: &str) -> Result<EnvFilter, ConfigError> {
    let invalid = |e: &dyn std::fmt::Display| {
        ConfigError::invalid(
            "RUST_LOG",
            directives,
            &format!("tracing filter directives ({e})"),
        )
    };
    let mut filter = EnvFilter::builder()
        .parse(directives)
        .map_err(|e| invalid(&e))?;
    let named = named_targets(directives);
    let defaults = SILENCED_TARGETS.iter().map(|t| format!("{t}=off")).chain(
        DRIVER_TARGETS
            .iter()
            .filter(|t| !named.iter().any(|n| t.starts_with(n)))
            .map(|t| format!("{t}=warn")),
    );
    for directive in defaults {
        filter = filter.add_directive(directive.parse().map_err(|e| invalid(&e))?);
    }
    Ok(filter)
}

/// The SDK's own targets, which `OTEL_LOG_LEVEL` opens on stderr.
const SDK_TARGETS: &[&str] = &[
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry-otlp",
    "opentelemetry_http",
    "opentelemetry-http",
    "opentelemetry_prometheus",
    "opentelemetry-prometheus",
];

/// The filter of the SDK diagnostics layer: nothing but [`SDK_TARGETS`] at
/// `level`.
fn sdk_filter(level: SdkLogLevel) -> EnvFilter {
    SDK_TARGETS
        .iter()
        .fold(EnvFilter::new("off"), |filter, target| {
            match format!("{target}={}", level.as_str()).parse() {
                Ok(directive) => filter.add_directive(directive),
                // Static targets and levels always parse; a directive that did
                // not would only leave that target silent.
                Err(_) => filter,
            }
        })
}

/// The targets `RUST_LOG` names explicitly (`target=level`, `target`,
/// `target[span]=level`); a bare level names none.
fn named_targets(directives: &str) -> Vec<&str> {
    const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];
    directives
        .split(',')
        .map(|d| {
            let end = d.find(['=', '[']).unwrap_or(d.len());
            d[..end].trim()
        })
        .filter(|t| !t.is_empty() && !LEVELS.iter().any(|l| t.eq_ignore_ascii_case(l)))
        .collect()
}

impl Telemetry {
    /// The `tracing` layer of this pipeline: the application's `tracing`
    /// spans become OTel spans (nested with wingspan's), its events become
    /// OTLP log records carrying the active trace, and, when
    /// `WINGSPAN_CONSOLE_LOG` is on, they are printed to stderr; all behind
    /// the `RUST_LOG` filter with the exporters silenced and the drivers at
    /// `warn`.
    ///
    /// [`init`](super::init) installs it; with
    /// `Telemetry::builder(..).install_subscriber(false)` add it to a
    /// subscriber of your own:
    ///
    /// ```no_run
    /// # fn run(config: wingspan::Config) -> Result<(), Box<dyn std::error::Error>> {
    /// use tracing_subscriber::layer::SubscriberExt as _;
    /// use tracing_subscriber::util::SubscriberInitExt as _;
    /// let telemetry = wingspan::Telemetry::builder(config).install_subscriber(false).build()?;
    /// tracing_subscriber::registry().with(telemetry.tracing_layer()?).init();
    /// # Ok(()) }
    /// ```
    pub fn tracing_layer<S>(&self) -> Result<Box<dyn Layer<S> + Send + Sync>, TelemetryError>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let tc = &self.config().telemetry;
        // The application's own `tracing` spans belong to the application,
        // not to wingspan's instrumentation scope.
        let app_tracer = self.tracer_provider().tracer(tc.service_name.clone());
        // Without the bridge's bare `target`, `busy_ns` and `idle_ns` keys,
        // which are not in the conventions (the target is the span's module,
        // and `code.file.path`/`code.line.number` stay).
        let spans = tracing_opentelemetry::layer()
            .with_tracer(app_tracer)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(env_filter(&tc.log_filter)?);
        let logs = LogBridge::new(
            self.logger_provider(),
            tc.attribute_limits.log_record_value_length,
            tc.attribute_limits.log_record_attribute_count,
        )
        .with_filter(env_filter(&tc.log_filter)?);
        let mut layers = vec![spans.boxed(), logs.boxed()];
        if tc.console_log {
            // Colour only on a terminal: escape codes in a file or a log
            // collector's pipe are noise.
            let console = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_target(true)
                .with_filter(env_filter(&tc.log_filter)?);
            layers.push(console.boxed());
        }
        if let Some(level) = tc.sdk_log_level {
            // OTEL_LOG_LEVEL: the SDK's own diagnostics, on stderr only.
            // The other layers keep these targets off: exported, an export
            // failure would travel through the exporter that failed.
            let sdk = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_target(true)
                .with_filter(sdk_filter(level));
            layers.push(sdk.boxed());
        }
        Ok(layers.boxed())
    }

    /// Installs [`Self::tracing_layer`] as the global default subscriber.
    pub(crate) fn install_subscriber(&self) -> Result<(), TelemetryError> {
        tracing_subscriber::registry()
            .with(self.tracing_layer()?)
            .try_init()
            .map_err(|_| TelemetryError::SubscriberAlreadySet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_targets_ignore_bare_levels() {
        assert_eq!(named_targets("debug"), Vec::<&str>::new());
        assert_eq!(
            named_targets("info,tokio_postgres=debug, fred ,x[span]=trace"),
            ["tokio_postgres", "fred", "x"]
        );
    }

    #[test]
    fn the_sdk_filter_opens_only_the_sdk_targets() {
        let filter = sdk_filter(SdkLogLevel::Warn).to_string();
        assert!(filter.contains("opentelemetry_sdk=warn"), "{filter}");
        assert!(filter.contains("opentelemetry-otlp=warn"), "{filter}");
        assert!(!filter.contains("tonic"), "{filter}");
        assert!(filter.contains("off"), "{filter}");
    }

    #[test]
    fn drivers_are_held_at_warn_unless_named() {
        let filter = env_filter("debug").unwrap().to_string();
        assert!(filter.contains("tokio_postgres=warn"), "{filter}");
        assert!(filter.contains("fred=warn"), "{filter}");
        assert!(filter.contains("tonic=off"), "{filter}");
        let filter = env_filter("debug,tokio_postgres=debug")
            .unwrap()
            .to_string();
        assert!(filter.contains("tokio_postgres=debug"), "{filter}");
        assert!(!filter.contains("tokio_postgres=warn"), "{filter}");
        // A prefix names the crates under it.
        let filter = env_filter("deadpool=info").unwrap().to_string();
        assert!(!filter.contains("deadpool_postgres=warn"), "{filter}");
        // The exporters stay off whatever is asked.
        let filter = env_filter("tonic=trace").unwrap().to_string();
        assert!(filter.contains("tonic=off"), "{filter}");
    }
}
