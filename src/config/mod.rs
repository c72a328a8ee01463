//! Every setting wingspan reads, validated into typed values.
//!
//! [`Config::from_env`] reads the process environment once:
//! the standard `OTEL_*` variables first, then `WINGSPAN_*`, `DB_*` and
//! `REDIS_*`. [`Config::from_lookup`] does the same through any function, so
//! tests never touch the process environment, and [`Config::builder`] sets
//! values in code through the very same validation.
//!
//! A bad value of wingspan's own settings stops start-up with a
//! [`ConfigError`] that names the variable, the value and what is accepted.
//! A bad `OTEL_*` value is, as the OpenTelemetry specification asks, a
//! warning and the default: it lands in [`Config::warnings`], which
//! `wingspan::init` logs once the log pipeline is up; with
//! `WINGSPAN_STRICT_CONFIG=true` (for CI) it is an error like the others.
//! wingspan validates first and then configures the SDK explicitly, because
//! the SDK reads some `OTEL_*` variables itself and silently falls back to
//! defaults on a bad one.
//!
//! ```
//! let cfg = wingspan::Config::builder()
//!     .service_name("checkout")
//!     .environment(wingspan::config::Profile::Production)
//!     .var("OTEL_TRACES_SAMPLER_ARG", "0.25")
//!     .build()
//!     .unwrap();
//! assert_eq!(cfg.telemetry.service_name, "checkout");
//! ```

#[cfg(feature = "postgres")]
mod db;
mod env;
mod exporters;
mod file;
mod health;
mod http;
mod limits;
#[cfg(feature = "llm")]
mod llm;
mod otel;
mod otlp;
mod propagators;
#[cfg(feature = "redis")]
mod redis;
mod resource;
mod sdk_log;
mod tail;
mod thresholds;

use std::collections::BTreeMap;
use std::fmt;

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use db::{DbConfig, PlanCapture, SslMode};
pub(crate) use env::Env;
pub use exporters::{ExporterKind, ExporterSet, PROMETHEUS_DEFAULT_PORT};
pub use health::{AdminToken, HealthConfig};
pub use http::{HttpConfig, ServeConfig, DEFAULT_SKIP_ROUTES};
pub use limits::{AttributeLimits, DEFAULT_COUNT_LIMIT};
#[cfg(feature = "llm")]
#[cfg_attr(docsrs, doc(cfg(feature = "llm")))]
pub use llm::LlmConfig;
pub use otel::{
    BatchConfig, HistogramAggregation, Sampler, TelemetryConfig, HISTOGRAM_AGGREGATION_VAR,
    MAX_QUEUE_SIZE, MIN_SCHEDULE_DELAY_MS, NO_LIMIT,
};
pub use otlp::{Compression, OtlpConfig, Protocol, SignalExport, Temporality, TEMPORALITY_VAR};
pub use propagators::{Propagator, PROPAGATORS_VAR};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{KeyDisplay, RedisConfig};
#[cfg(test)]
pub(crate) use resource::is_uuid_v4 as resource_is_uuid_v4;
pub use resource::process_instance_id;
pub use sdk_log::SdkLogLevel;
pub use tail::{TailSamplingConfig, DEFAULT_LLM_SLOW_MS};
pub use thresholds::{AlertThresholds, THRESHOLDS_JSON};

/// The deployment profile chosen by `WINGSPAN_ENV`; it picks the defaults of
/// the settings whose good value depends on the environment (pool sizes,
/// timeouts). Defaults to [`Profile::Development`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Small pools, short timeouts.
    #[default]
    Development,
    /// Mid-sized pools.
    Staging,
    /// Large pools.
    Production,
}

impl Profile {
    /// Picks the development, staging or production value.
    pub fn pick<T>(self, development: T, staging: T, production: T) -> T {
        match self {
            Profile::Development => development,
            Profile::Staging => staging,
            Profile::Production => production,
        }
    }

    /// The value of `deployment.environment.name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Development => "development",
            Profile::Staging => "staging",
            Profile::Production => "production",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A setting that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {variable}={value:?}: expected {expected}")]
pub struct ConfigError {
    /// The environment variable (or builder setting) at fault.
    pub variable: String,
    /// The value found, or `<redacted>` for secrets.
    pub value: String,
    /// What would have been accepted.
    pub expected: String,
}

impl ConfigError {
    pub(crate) fn invalid(variable: &str, value: &str, expected: &str) -> Self {
        Self {
            variable: variable.to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        }
    }
}

/// Every setting of wingspan, grouped by the module that uses it.
///
/// Secrets (OTLP header values, database passwords) are redacted in `Debug`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// `WINGSPAN_ENV`. Defaults to development.
    pub profile: Profile,
    /// The OTel pipeline: resource, exporters, sampler, batching.
    pub telemetry: TelemetryConfig,
    /// The HTTP layer.
    pub http: HttpConfig,
    /// The in-process view (`wingspan::stats`) and the health endpoints.
    pub health: HealthConfig,
    /// The PostgreSQL pool.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub db: DbConfig,
    /// The Redis cache.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub redis: RedisConfig,
    /// LLM calls and the Anthropic adapter.
    #[cfg(feature = "llm")]
    #[cfg_attr(docsrs, doc(cfg(feature = "llm")))]
    pub llm: LlmConfig,
    /// The `OTEL_*` values that were invalid and ignored (their defaults
    /// apply), as the specification asks; `wingspan::init` logs each once.
    /// Always empty with `WINGSPAN_STRICT_CONFIG=true`, where they are
    /// errors instead.
    pub warnings: Vec<ConfigError>,
}

impl Config {
    /// Reads every setting from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup`, which maps a variable name to its
    /// value. Tests use it to pass variables without touching the process
    /// environment.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        // OTEL_CONFIG_FILE, when set, decides every other OTEL_* variable.
        let Some(file) = file::ConfigFile::from_lookup(&lookup)? else {
            return Self::read(&lookup);
        };
        let overlaid = |name: &str| file.lookup(name, &lookup);
        let mut config = Self::read(&overlaid).map_err(|e| file.annotate(e))?;
        // The warnings, too, name the file and the key that set the value.
        config.warnings = config
            .warnings
            .into_iter()
            .map(|w| file.annotate(w))
            .collect();
        Ok(config)
    }

    fn read(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        env.set_strict(env.bool("WINGSPAN_STRICT_CONFIG", false)?);
        let profile = env.choice(
            "WINGSPAN_ENV",
            Profile::Development,
            &[
                ("development", Profile::Development),
                ("dev", Profile::Development),
                ("staging", Profile::Staging),
                ("production", Profile::Production),
                ("prod", Profile::Production),
            ],
        )?;
        Ok(Self {
            profile,
            telemetry: TelemetryConfig::from_env(&env, profile)?,
            http: HttpConfig::from_env(&env)?,
            health: HealthConfig::read(&env)?,
            #[cfg(feature = "postgres")]
            db: DbConfig::from_env(&env, profile)?,
            #[cfg(feature = "redis")]
            redis: RedisConfig::from_env(&env, profile)?,
            #[cfg(feature = "llm")]
            llm: LlmConfig::from_env(&env)?,
            warnings: env.take_warnings(),
        })
    }

    /// A builder for configuration in code. Each setter stands for one
    /// variable and goes through the same validation as the environment.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }
}

/// Builds a [`Config`] in code.
///
/// Values set here take precedence; anything not set falls back to the
/// process environment only if [`ConfigBuilder::with_process_env`] was called,
/// and otherwise to the defaults.
#[derive(Default, Clone)]
#[must_use]
pub struct ConfigBuilder {
    vars: BTreeMap<String, String>,
    process_env: bool,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("process_env", &self.process_env)
            .finish()
    }
}

impl ConfigBuilder {
    /// Sets any variable of the configuration table by name, such as
    /// `("DB_POOL_SIZE", "8")`. Defaults to the variable's default (or,
    /// after [`with_process_env`](Self::with_process_env), the process
    /// environment's value).
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Falls back to the process environment for what is not set here.
    /// Defaults to off.
    pub fn with_process_env(mut self) -> Self {
        self.process_env = true;
        self
    }

    /// `OTEL_SERVICE_NAME`. Defaults to `unknown_service:<executable>`.
    pub fn service_name(self, name: impl Into<String>) -> Self {
        self.var("OTEL_SERVICE_NAME", name)
    }

    /// `WINGSPAN_ENV`. Defaults to development.
    pub fn environment(self, profile: Profile) -> Self {
        self.var("WINGSPAN_ENV", profile.as_str())
    }

    /// `OTEL_EXPORTER_OTLP_ENDPOINT`. Defaults to `http://localhost:4318`
    /// (HTTP, the default protocol) or `http://localhost:4317` (gRPC).
    pub fn otlp_endpoint(self, endpoint: impl Into<String>) -> Self {
        self.var("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    }

    /// `OTEL_EXPORTER_OTLP_PROTOCOL`. Defaults to `http/protobuf`, as the
    /// OpenTelemetry specification says.
    pub fn otlp_protocol(self, protocol: Protocol) -> Self {
        self.var("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.as_str())
    }

    /// `OTEL_TRACES_SAMPLER=parentbased_traceidratio` with this ratio.
    /// Defaults to parent-based always-on.
    pub fn sample_ratio(self, ratio: f64) -> Self {
        self.var("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
            .var("OTEL_TRACES_SAMPLER_ARG", ratio.to_string())
    }

    /// `WINGSPAN_STRICT_CONFIG=true`: an invalid `OTEL_*` value is an error,
    /// as wingspan's own are, instead of a warning and the default (for CI
    /// and tests). Defaults to false.
    pub fn strict(self) -> Self {
        self.var("WINGSPAN_STRICT_CONFIG", "true")
    }

    /// `WINGSPAN_LLM_ROUTES`: route templates classed as `llm`. Defaults to none.
    pub fn llm_routes<I, S>(self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = routes.into_iter().map(|r| r.as_ref().to_owned()).collect();
        self.var("WINGSPAN_LLM_ROUTES", joined.join(","))
    }

    /// `WINGSPAN_TAIL_SAMPLING=true` with `WINGSPAN_TAIL_SAMPLING_RATIO`:
    /// record every local trace, keep those with an error, the slow ones
    /// and this share of the rest. Defaults to off.
    pub fn tail_sampling(self, ratio: f64) -> Self {
        self.var("WINGSPAN_TAIL_SAMPLING", "true")
            .var("WINGSPAN_TAIL_SAMPLING_RATIO", ratio.to_string())
    }

    /// Validates everything and returns the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        let process_env = self.process_env;
        let vars = self.vars;
        Config::from_lookup(move |name| {
            vars.get(name)
                .cloned()
                .or_else(|| process_env.then(|| std::env::var(name).ok()).flatten())
        })
    }
}

/// A connection URL (`postgres://`, `redis://`) with any password replaced
/// by `***`, for messages. Errs on the side of hiding: everything between
/// `://` and the *last* `@` is user information (a password may hold an
/// unencoded `/`, `?` or `@`), and a `password=` query parameter is dropped.
/// Input that is not a URL is not echoed at all. Used for `DATABASE_URL`,
/// `REDIS_URL` and the OTLP endpoints.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<not a URL>".to_owned();
    };
    let (user, tail) = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            (Some(user), &rest[at + 1..])
        }
        None => (None, rest),
    };
    let tail = match tail.split_once('?') {
        Some((base, query)) if query.to_ascii_lowercase().contains("password=") => {
            format!("{base}?<redacted>")
        }
        _ => tail.to_owned(),
    };
    match user {
        Some(user) => format!("{scheme}://{user}:***@{tail}"),
        None => format!("{scheme}://{tail}"),
    }
}

/// The secrets [`redact_url`] hides in `url`, as written and percent-decoded:
/// the password of its user information (the same span: after the first `:`
/// of everything between `://` and the last `@`) and the value of a
/// `password=` query parameter. For scrubbing text that a library wrote
/// about the URL (an exporter's error message), which may quote it whole or
/// in pieces. Empty when there is nothing to hide.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let Some((_, rest)) = url.split_once("://") else {
        return secrets;
    };
    if let Some(at) = rest.rfind('@') {
        if let Some((_, password)) = rest[..at].split_once(':') {
            secrets.push(password.to_owned());
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                if k.eq_ignore_ascii_case("password") {
                    secrets.push(v.to_owned());
                }
            }
        }
    }
    let decoded: Vec<String> = secrets
        .iter()
        .map(|s| percent_decode(s).unwrap_or_else(|lenient| lenient))
        .filter(|d| !secrets.contains(d))
        .collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    secrets
}

/// `%XX` escapes decoded. `Err` when an escape is invalid or the result is
/// not UTF-8, with the lenient reading: invalid escapes kept as written, and
/// `s` itself when the bytes are not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut valid = true;
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                valid &= c != b'%';
                out.push(c);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(decoded) if valid => Ok(decoded),
        Ok(lenient) => Err(lenient),
        Err(_) => Err(s.to_owned()),
    }
}

/// A string that never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Configurations from a list of variables, for the tests of every
/// settings module.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Config, ConfigError};

    /// Reads `vars` as they are: lenient `OTEL_*` unless they set
    /// `WINGSPAN_STRICT_CONFIG`.
    pub(crate) fn lenient(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    /// Reads `vars` in strict mode: every invalid value is an error.
    pub(crate) fn strict(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut all = vars.to_vec();
        all.push(("WINGSPAN_STRICT_CONFIG", "true"));
        lenient(&all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_development() {
        let cfg = Config::from_lookup(|_| None).unwrap();
        assert_eq!(cfg.profile, Profile::Development);
    }

    #[test]
    fn bad_profile_is_rejected_with_choices() {
        let err =
            Config::from_lookup(|k| (k == "WINGSPAN_ENV").then(|| "qa".to_owned())).unwrap_err();
        assert_eq!(err.variable, "WINGSPAN_ENV");
        assert_eq!(err.value, "qa");
        assert!(err.expected.contains("production"), "{err}");
    }

    #[test]
    fn builder_goes_through_validation() {
        let err = Config::builder()
            .strict()
            .var("OTEL_TRACES_SAMPLER_ARG", "2")
            .sample_ratio(7.0)
            .build()
            .unwrap_err();
        assert_eq!(err.variable, "OTEL_TRACES_SAMPLER_ARG");
    }

    #[test]
    fn urls_are_redacted_whatever_their_shape() {
        for (url, shown) in [
            (
                "postgres://app:hunter2@db:5432/app",
                "postgres://app:***@db:5432/app",
            ),
            (
                "postgres://app:hun/ter?2@db/app",
                "postgres://app:***@db/app",
            ),
            ("redis://:p@ss@cache:6379/0", "redis://:***@cache:6379/0"),
            (
                "postgres://db/app?user=a&password=hunter2",
                "postgres://db/app?<redacted>",
            ),
            ("redis://cache:6379", "redis://cache:6379"),
            ("default:hunter2@cache:6379", "<not a URL>"),
            ("x@y://", "x@y://"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn url_secrets_are_what_redaction_hides() {
        for (url, secrets) in [
            ("https://u:hunter2@collector:4318", vec!["hunter2"]),
            ("https://u:p%40ss@collector", vec!["p%40ss", "p@ss"]),
            ("redis://:p@ss@cache:6379/0", vec!["p@ss"]),
            (
                "postgres://db/app?user=a&Password=x%2Fy",
                vec!["x%2Fy", "x/y"],
            ),
            ("https://token@collector", vec![]),
            ("http://collector:4318", vec![]),
            ("u:hunter2@collector", vec![]),
        ] {
            assert_eq!(url_secrets(url), secrets, "{url}");
            for s in &secrets {
                assert!(!redact_url(url).contains(s), "{url}");
            }
        }
    }

    #[test]
    fn secret_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
    }
}
