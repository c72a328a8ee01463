//! The OTLP exporter's settings (`OTEL_EXPORTER_OTLP_*`), resolved per
//! signal as the OTLP exporter specification says: every option has a
//! general variable and a per-signal one (`OTEL_EXPORTER_OTLP_TRACES_*`,
//! `_METRICS_*`, `_LOGS_*`) that overrides it for that signal alone.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::{redact_url, url_secrets, ConfigError, Env, Secret};

/// The OTLP wire protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC (tonic), default port 4317.
    Grpc,
    /// OTLP over HTTP with protobuf bodies, default port 4318.
    HttpProtobuf,
}

impl Protocol {
    /// The value as the variable spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// Payload compression (`OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No compression.
    None,
    /// gzip.
    Gzip,
}

/// The aggregation temporality the metric exporter asks for
/// (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
///
/// Datadog's OTLP intake needs `delta`; Dynatrace shows cumulative counters
/// as N/A; Prometheus-style backends (Mimir, Grafana Cloud) want
/// `cumulative`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    /// Every instrument cumulative.
    Cumulative,
    /// Counters, asynchronous counters and histograms delta; up-down
    /// counters cumulative.
    Delta,
    /// Synchronous counters and histograms delta; asynchronous counters and
    /// up-down counters cumulative (less memory in the SDK).
    LowMemory,
}

/// The specification's name of the temporality variable.
pub const TEMPORALITY_VAR: &str = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";

/// One signal's OTLP exporter: where it goes and how.
///
/// `Debug` shows the endpoint with any password replaced by `***` and no
/// header value.
#[derive(Clone)]
pub struct SignalExport {
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL`, else
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc` or `http/protobuf`.
    /// Defaults to `http/protobuf`, as the specification says.
    pub protocol: Protocol,
    /// The full URL: `OTEL_EXPORTER_OTLP_{SIGNAL}_ENDPOINT` as given, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`, `/v1/metrics` or
    /// `/v1/logs` with HTTP). A gRPC endpoint without a scheme
    /// (`api.honeycomb.io:443`) gets `https://`, or `http://` when
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_INSECURE` / `OTEL_EXPORTER_OTLP_INSECURE`
    /// is `true`. Defaults to `http://localhost:4318/v1/<signal>` (HTTP) or
    /// `http://localhost:4317` (gRPC). A password in it never shows in
    /// wingspan's output.
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS`, else
    /// `OTEL_EXPORTER_OTLP_HEADERS` (the per-signal list replaces the general
    /// one). Values are secrets (API keys) and never shown. Defaults to none.
    pub headers: Vec<(String, Secret)>,
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_TIMEOUT`, else
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` (ms); `0` means no limit
    /// ([`NO_LIMIT`](super::NO_LIMIT)). Defaults to 10000.
    pub timeout: Duration,
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_COMPRESSION`, else
    /// `OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or `none`. Defaults to none.
    pub compression: Compression,
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_CERTIFICATE`, else
    /// `OTEL_EXPORTER_OTLP_CERTIFICATE`: a PEM file of CA certificates that
    /// the collector's certificate must chain to. Defaults to the system
    /// roots.
    pub certificate: Option<PathBuf>,
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_CLIENT_CERTIFICATE`, else
    /// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`: the PEM certificate (chain)
    /// wingspan presents for mutual TLS; set together with the client key.
    /// Defaults to none (no client certificate).
    pub client_certificate: Option<PathBuf>,
    /// `OTEL_EXPORTER_OTLP_{SIGNAL}_CLIENT_KEY`, else
    /// `OTEL_EXPORTER_OTLP_CLIENT_KEY`: the PEM private key of the client
    /// certificate. Defaults to none.
    pub client_key: Option<PathBuf>,
}

impl fmt::Debug for SignalExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalExport")
            .field("protocol", &self.protocol)
            .field("endpoint", &redact_url(&self.endpoint))
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("certificate", &self.certificate)
            .field("client_certificate", &self.client_certificate)
            .field("client_key", &self.client_key)
            .finish()
    }
}

/// OTLP exporter settings (`OTEL_EXPORTER_OTLP_*`), one [`SignalExport`]
/// per signal.
#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// Where spans go.
    pub traces: SignalExport,
    /// Where metrics go.
    pub metrics: SignalExport,
    /// Where log records go.
    pub logs: SignalExport,
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: `cumulative`,
    /// `delta` or `lowmemory`. Defaults to cumulative.
    pub temporality: Temporality,
}

impl OtlpConfig {
    /// The three signals' settings.
    pub fn signals(&self) -> [&SignalExport; 3] {
        [&self.traces, &self.metrics, &self.logs]
    }

    /// The passwords of the three endpoints (as written and decoded), to
    /// scrub from text the exporters wrote.
    pub(crate) fn endpoint_secrets(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .signals()
            .into_iter()
            .flat_map(|s| url_secrets(&s.endpoint))
            .collect();
        // Longest first, so a secret containing another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        all.dedup();
        all
    }

    pub(crate) fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            traces: SignalExport::from_env(env, "TRACES", "v1/traces")?,
            metrics: SignalExport::from_env(env, "METRICS", "v1/metrics")?,
            logs: SignalExport::from_env(env, "LOGS", "v1/logs")?,
            temporality: env.choice(
                TEMPORALITY_VAR,
                Temporality::Cumulative,
                &[
                    ("cumulative", Temporality::Cumulative),
                    ("delta", Temporality::Delta),
                    ("lowmemory", Temporality::LowMemory),
                ],
            )?,
        })
    }
}

/// The general variable `OTEL_EXPORTER_OTLP_{option}` and the signal's own
/// `OTEL_EXPORTER_OTLP_{signal}_{option}`.
struct Names {
    general: String,
    signal: String,
}

impl Names {
    fn new(signal: &str, option: &str) -> Self {
        Self {
            general: format!("OTEL_EXPORTER_OTLP_{option}"),
            signal: format!("OTEL_EXPORTER_OTLP_{signal}_{option}"),
        }
    }

    /// The variable that decides: the signal's when set, else the general one.
    fn pick<'n>(&'n self, env: &Env<'_>) -> &'n str {
        if env.get(&self.signal).is_some() {
            &self.signal
        } else {
            &self.general
        }
    }
}

impl SignalExport {
    fn from_env(env: &Env<'_>, signal: &str, path: &str) -> Result<Self, ConfigError> {
        let names = |option: &str| Names::new(signal, option);

        let protocol_var = names("PROTOCOL");
        let protocol = env.choice(
            protocol_var.pick(env),
            Protocol::HttpProtobuf,
            &[
                ("grpc", Protocol::Grpc),
                ("http/protobuf", Protocol::HttpProtobuf),
            ],
        )?;
        let insecure_var = names("INSECURE");
        let insecure = env.bool(insecure_var.pick(env), false)?;
        let default_base = match protocol {
            Protocol::Grpc => "http://localhost:4317",
            Protocol::HttpProtobuf => "http://localhost:4318",
        };
        let with_path = |base: &str| match protocol {
            Protocol::Grpc => base.to_owned(),
            Protocol::HttpProtobuf => format!("{}/{path}", base.trim_end_matches('/')),
        };
        let endpoint_var = names("ENDPOINT");
        let endpoint = if let Some(v) = env.get(&endpoint_var.signal) {
            // The per-signal URL is used as given.
            endpoint(env, &endpoint_var.signal, &v, protocol, insecure)?
                .unwrap_or_else(|| with_path(default_base))
        } else if let Some(v) = env.get(&endpoint_var.general) {
            with_path(
                &endpoint(env, &endpoint_var.general, &v, protocol, insecure)?
                    .unwrap_or_else(|| default_base.to_owned()),
            )
        } else {
            with_path(default_base)
        };

        let headers_var = names("HEADERS");
        let headers = env
            .pairs(headers_var.pick(env), true)?
            .into_iter()
            .map(|(k, v)| (k, Secret::new(v)))
            .collect();
        let timeout_var = names("TIMEOUT");
        let compression_var = names("COMPRESSION");
        let compression = env.choice(
            compression_var.pick(env),
            Compression::None,
            &[("gzip", Compression::Gzip), ("none", Compression::None)],
        )?;
        let certificate = pem_file(env, &names("CERTIFICATE"))?;
        let mut client_certificate = pem_file(env, &names("CLIENT_CERTIFICATE"))?;
        let mut client_key = pem_file(env, &names("CLIENT_KEY"))?;
        if client_certificate.is_some() != client_key.is_some() {
            let (set, missing) = if client_key.is_some() {
                (names("CLIENT_KEY"), names("CLIENT_CERTIFICATE"))
            } else {
                (names("CLIENT_CERTIFICATE"), names("CLIENT_KEY"))
            };
            let set_var = set.pick(env).to_owned();
            env.fallback(
                ConfigError::invalid(
                    &set_var,
                    &env.get(&set_var).unwrap_or_default(),
                    &format!(
                        "to be set together with {} (or {}): a client certificate needs its key",
                        missing.general, missing.signal
                    ),
                ),
                (),
            )?;
            (client_certificate, client_key) = (None, None);
        }
        Ok(Self {
            protocol,
            endpoint,
            headers,
            timeout: super::otel::timeout(env, timeout_var.pick(env), 10000)?,
            compression,
            certificate,
            client_certificate,
            client_key,
        })
    }
}

/// A PEM file variable: the path when it names a file, else (warning and
/// no file, or an error in strict mode) `None`.
fn pem_file(env: &Env<'_>, names: &Names) -> Result<Option<PathBuf>, ConfigError> {
    let var = names.pick(env);
    let Some(path) = env.get(var).map(PathBuf::from) else {
        return Ok(None);
    };
    if path.is_file() {
        return Ok(Some(path));
    }
    env.fallback(
        ConfigError::invalid(
            var,
            &path.display().to_string(),
            "the path of a readable PEM file",
        ),
        None,
    )
}

/// A validated endpoint: `None` (use the default) when the value is not
/// usable and the mode is lenient.
///
/// gRPC endpoints may omit the scheme, as the spec's `*_INSECURE` variables
/// assume (and vendors' instructions write: `api.honeycomb.io:443`); the
/// scheme is then `https` unless insecure is set.
fn endpoint(
    env: &Env<'_>,
    var: &str,
    value: &str,
    protocol: Protocol,
    insecure: bool,
) -> Result<Option<String>, ConfigError> {
    let candidate = if protocol == Protocol::Grpc && !value.contains("://") {
        format!("{}://{value}", if insecure { "http" } else { "https" })
    } else {
        value.to_owned()
    };
    let ok = candidate.parse::<http::Uri>().ok().filter(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some_and(|h| !h.is_empty())
    });
    match ok {
        Some(_) => Ok(Some(candidate)),
        // Without `://` there is no user information to find, so the value
        // is shown unless it holds an `@` (then nothing of it is).
        None => env.fallback(
            ConfigError::invalid(
                var,
                &if value.contains("://") || value.contains('@') {
                    redact_url(value)
                } else {
                    value.to_owned()
                },
                match protocol {
                    Protocol::HttpProtobuf => {
                        "an absolute http:// or https:// URL such as http://localhost:4318"
                    }
                    Protocol::Grpc => {
                        "an http:// or https:// URL such as http://localhost:4317, or host:port"
                    }
                },
            ),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{lenient, strict};
    use crate::config::{Config, TelemetryConfig};

    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<TelemetryConfig, ConfigError> {
        strict(vars).map(|c| c.telemetry)
    }

    /// A marker password in every endpoint variable, percent-encoded in one.
    const MARK: &str = "pw0tlpM4rk";

    #[test]
    fn endpoint_passwords_never_show_in_debug() {
        let c = Config::from_lookup(|k| {
            Some(match k {
                "OTEL_EXPORTER_OTLP_ENDPOINT" => format!("https://u:{MARK}@collector:4318"),
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" => {
                    format!("https://u:{MARK}%21@traces:4318/v1/traces")
                }
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" => {
                    format!("https://u:{MARK}@logs:4318/v1/logs?password={MARK}")
                }
                _ => return None,
            })
        })
        .unwrap();
        for shown in [format!("{c:?}"), format!("{:?}", c.telemetry.otlp)] {
            assert!(!shown.contains(MARK), "{shown}");
            assert!(
                shown.contains("https://u:***@collector:4318/v1/metrics"),
                "{shown}"
            );
            assert!(
                shown.contains("https://u:***@traces:4318/v1/traces"),
                "{shown}"
            );
        }
        // Nothing lost: the exporter gets the endpoints as written.
        assert_eq!(
            c.telemetry.otlp.metrics.endpoint,
            format!("https://u:{MARK}@collector:4318/v1/metrics")
        );
        let secrets = c.telemetry.otlp.endpoint_secrets();
        assert!(secrets.contains(&format!("{MARK}%21")), "{secrets:?}");
        assert!(secrets.contains(&format!("{MARK}!")), "{secrets:?}");
        assert!(secrets.contains(&MARK.to_owned()), "{secrets:?}");
    }

    #[test]
    fn endpoint_passwords_never_show_in_config_errors() {
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        ] {
            for bad in [
                format!("ftp://u:{MARK}@collector:4318"),
                format!("https://u:{MARK}@"),
                format!("u:{MARK}@collector:4318"),
            ] {
                let e = cfg(&[(var, &bad)]).unwrap_err();
                assert_eq!(e.variable, var);
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains(MARK), "{shown}");
            }
        }
        // Nothing to hide: the value is shown as written.
        let e = cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]).unwrap_err();
        assert_eq!(e.value, "collector:4317");
        let e = cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://u:pw@collector")]).unwrap_err();
        assert_eq!(e.value, "ftp://u:***@collector");
    }

    #[test]
    fn http_base_endpoint_gets_signal_paths() {
        let c = cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]).unwrap();
        assert_eq!(c.otlp.traces.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(c.otlp.metrics.endpoint, "http://collector:4318/v1/metrics");
        assert_eq!(c.otlp.logs.endpoint, "http://collector:4318/v1/logs");
    }

    #[test]
    fn grpc_endpoint_is_used_as_is_and_signal_endpoints_win() {
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4317"),
        ])
        .unwrap();
        assert_eq!(c.otlp.traces.endpoint, "http://collector:4317");
        assert_eq!(c.otlp.logs.endpoint, "http://logs:4317");
    }

    #[test]
    fn headers_are_secret() {
        let c = cfg(&[("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s3cr3t")]).unwrap();
        assert_eq!(c.otlp.traces.headers[0].1.expose(), "s3cr3t");
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn every_option_is_overridden_per_signal() {
        let dir = std::env::temp_dir();
        let ca = dir.join(format!("wingspan-otlp-ca-{}.pem", std::process::id()));
        std::fs::write(&ca, "x").unwrap();
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-general=a,x-shared=g"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-shared=m"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "700"),
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", ca.to_str().unwrap()),
        ])
        .unwrap();
        std::fs::remove_file(&ca).ok();
        let o = &c.otlp;
        assert_eq!(o.traces.protocol, Protocol::Grpc);
        assert_eq!(o.traces.endpoint, "http://collector:4317");
        assert_eq!(o.traces.timeout, Duration::from_millis(3000));
        assert_eq!(o.traces.compression, Compression::None);
        let names = |s: &SignalExport| -> Vec<String> {
            s.headers
                .iter()
                .map(|(k, v)| format!("{k}={}", v.expose()))
                .collect()
        };
        assert_eq!(names(&o.traces), ["x-general=a", "x-shared=g"]);
        // The signal's list replaces the general one, it is not added to it.
        assert_eq!(names(&o.metrics), ["x-shared=m"]);
        assert_eq!(o.metrics.protocol, Protocol::HttpProtobuf);
        // The general endpoint gets the signal's path when the signal's
        // protocol is HTTP.
        assert_eq!(o.metrics.endpoint, "http://collector:4317/v1/metrics");
        assert_eq!(o.metrics.timeout, Duration::from_millis(700));
        assert_eq!(o.metrics.compression, Compression::Gzip);
        assert_eq!(o.logs.certificate.as_deref(), Some(ca.as_path()));
        assert_eq!(o.traces.certificate, None);
    }

    #[test]
    fn a_grpc_endpoint_without_scheme_is_tls_unless_insecure() {
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "api.honeycomb.io:443"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "true"),
        ])
        .unwrap();
        assert_eq!(c.otlp.traces.endpoint, "https://api.honeycomb.io:443");
        assert_eq!(c.otlp.metrics.endpoint, "https://api.honeycomb.io:443");
        assert_eq!(c.otlp.logs.endpoint, "http://collector:4317");
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
            ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "false"),
        ])
        .unwrap();
        assert_eq!(c.otlp.traces.endpoint, "https://collector:4317");
        assert_eq!(c.otlp.metrics.endpoint, "http://collector:4317");
        // With HTTP the scheme is required, as the spec's URL says.
        let e = cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "api.honeycomb.io:443")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_EXPORTER_OTLP_ENDPOINT");
    }

    #[test]
    fn temporality_preference_parses_and_defaults_to_cumulative() {
        assert_eq!(cfg(&[]).unwrap().otlp.temporality, Temporality::Cumulative);
        for (v, t) in [
            ("delta", Temporality::Delta),
            ("LowMemory", Temporality::LowMemory),
            ("cumulative", Temporality::Cumulative),
        ] {
            assert_eq!(cfg(&[(TEMPORALITY_VAR, v)]).unwrap().otlp.temporality, t);
        }
        let e = cfg(&[(TEMPORALITY_VAR, "deltas")]).unwrap_err();
        assert_eq!(e.variable, TEMPORALITY_VAR);
        assert!(e.expected.contains("lowmemory"), "{e}");
        // Lenient: the typo is a warning and the default applies.
        let c = lenient(&[(TEMPORALITY_VAR, "deltas")]).unwrap();
        assert_eq!(c.telemetry.otlp.temporality, Temporality::Cumulative);
        assert_eq!(c.warnings[0].variable, TEMPORALITY_VAR);
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let dir = std::env::temp_dir();
        let cert = dir.join(format!("wingspan-otlp-client-{}.pem", std::process::id()));
        std::fs::write(&cert, "x").unwrap();
        let path = cert.to_str().unwrap();
        let e = cfg(&[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", path)]).unwrap_err();
        assert_eq!(e.variable, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
        assert!(e.expected.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"), "{e}");
        let c = cfg(&[
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", path),
            ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", path),
        ])
        .unwrap();
        assert_eq!(c.otlp.traces.client_key.as_deref(), Some(cert.as_path()));
        assert_eq!(c.otlp.metrics.client_key, None);
        // Lenient: neither is used, and a warning says why.
        let c = lenient(&[("OTEL_EXPORTER_OTLP_CLIENT_KEY", path)]).unwrap();
        std::fs::remove_file(&cert).ok();
        assert_eq!(c.telemetry.otlp.logs.client_certificate, None);
        assert_eq!(c.telemetry.otlp.logs.client_key, None);
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    }
}
