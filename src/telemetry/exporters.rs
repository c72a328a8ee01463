//! The OTLP exporters, configured explicitly from the validated
//! [`OtlpConfig`] so the SDK never falls back to its own reading of the
//! environment.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{
    LogExporter, MetricExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};

use super::redact::Scrubber;
use super::TelemetryError;
use crate::config::{redact_url, Compression, OtlpConfig, Protocol, SignalExport, Temporality};

/// A gRPC export that cannot connect gives up after this long, so a dead
/// collector never holds an export thread for the whole export timeout.
const GRPC_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

fn tonic_metadata(cfg: &SignalExport) -> Result<tonic::metadata::MetadataMap, TelemetryError> {
    let mut map = tonic::metadata::MetadataMap::new();
    for (k, v) in &cfg.headers {
        let key = tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|_| {
                TelemetryError::exporter(format!(
                    "OTEL_EXPORTER_OTLP_HEADERS: invalid header name {k:?}"
                ))
            })?;
        let mut value: tonic::metadata::MetadataValue<_> = v.expose().parse().map_err(|_| {
            TelemetryError::exporter(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: invalid value for {k:?}"
            ))
        })?;
        // Kept out of HPACK's tables and of `Debug` output: API keys live here.
        value.set_sensitive(true);
        map.insert(key, value);
    }
    Ok(map)
}

/// The runtime every gRPC channel runs on: one thread of wingspan's own
/// (`wingspan-otlp`), for the whole process.
///
/// On the service's runtime, the channel's connection task waits in the
/// same run queue as every request: at saturation (64 connections on 2
/// workers) an export of 512 spans waited long enough that the bounded
/// queue overflowed and most spans were dropped (`benches/`: the process
/// bench). On its own thread the export is scheduled by the OS, beside the
/// workers, not behind their tasks; and `init` needs no runtime at all.
/// Built once and never dropped: a runtime cannot be dropped inside async
/// code, and the exporters of a later `init` reuse it.
pub(crate) fn export_runtime() -> Result<&'static tokio::runtime::Runtime, TelemetryError> {
    static RUNTIME: std::sync::OnceLock<Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("wingspan-otlp")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| TelemetryError::exporter(format!("OTLP gRPC export thread: {e}")))
}

/// The export runtime's handle, for overlapping span exports; `None` if it
/// could not be built (the exports then run one at a time, as the SDK's).
pub(crate) fn export_runtime_handle() -> Option<tokio::runtime::Handle> {
    export_runtime().ok().map(|rt| rt.handle().clone())
}

fn tonic_channel(
    cfg: &SignalExport,
    scrubber: &Scrubber,
) -> Result<tonic::transport::Channel, TelemetryError> {
    // tonic spawns the channel's worker (and, on first use, the connection)
    // on the runtime current when the channel is built: wingspan's own.
    let _runtime = export_runtime()?.enter();
    let endpoint = &cfg.endpoint;
    let mut ep = tonic::transport::Endpoint::from_shared(endpoint.clone())
        .map_err(|e| {
            TelemetryError::exporter(
                scrubber.scrub(format!("OTLP endpoint {}: {e}", redact_url(endpoint))),
            )
        })?
        .connect_timeout(GRPC_CONNECT_TIMEOUT.min(cfg.timeout))
        .timeout(cfg.timeout)
        .tcp_keepalive(Some(Duration::from_secs(30)));
    if endpoint.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
        if let Some(pem) = read_pem(&cfg.certificate, "CERTIFICATE")? {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        if let Some(id) = client_identity(cfg)? {
            tls = tls.identity(tonic::transport::Identity::from_pem(id.cert, id.key));
        }
        ep = ep
            .tls_config(tls)
            .map_err(|e| TelemetryError::exporter(format!("OTLP TLS: {e}")))?;
    }
    Ok(ep.connect_lazy())
}

/// A PEM file named by `OTEL_EXPORTER_OTLP_[{SIGNAL}_]{what}`.
fn read_pem(
    path: &Option<std::path::PathBuf>,
    what: &str,
) -> Result<Option<Vec<u8>>, TelemetryError> {
    path.as_ref()
        .map(|path| {
            std::fs::read(path).map_err(|e| {
                TelemetryError::exporter(format!(
                    "OTEL_EXPORTER_OTLP_{what} {}: {e}",
                    path.display()
                ))
            })
        })
        .transpose()
}

/// A client certificate (chain) and its key, both PEM.
struct PemIdentity {
    cert: Vec<u8>,
    key: Vec<u8>,
}

/// The client certificate chain and key for mutual TLS, when both are set
/// (the configuration refuses one without the other).
fn client_identity(cfg: &SignalExport) -> Result<Option<PemIdentity>, TelemetryError> {
    let cert = read_pem(&cfg.client_certificate, "CLIENT_CERTIFICATE")?;
    let key = read_pem(&cfg.client_key, "CLIENT_KEY")?;
    Ok(cert.zip(key).map(|(cert, key)| PemIdentity { cert, key }))
}

/// The HTTP exporter's TLS: the system roots (unreadable ones are skipped,
/// not fatal: a collector on plain http needs none) plus the private CA of
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`, and the client certificate of
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` / `_CLIENT_KEY` for mutual TLS.
fn tls_config(cfg: &SignalExport) -> Result<rustls::ClientConfig, TelemetryError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let pem_error = |what: &str, e: &dyn std::fmt::Display| {
        TelemetryError::exporter(format!("OTEL_EXPORTER_OTLP_{what}: {e}"))
    };
    let mut roots = crate::tls::system_roots();
    if let Some(pem) = read_pem(&cfg.certificate, "CERTIFICATE")? {
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| pem_error("CERTIFICATE", &e))?;
            roots.add(cert).map_err(|e| pem_error("CERTIFICATE", &e))?;
        }
    }
    let identity = match client_identity(cfg)? {
        None => None,
        Some(PemIdentity { cert, key }) => {
            let chain = CertificateDer::pem_slice_iter(&cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| pem_error("CLIENT_CERTIFICATE", &e))?;
            if chain.is_empty() {
                return Err(pem_error(
                    "CLIENT_CERTIFICATE",
                    &"no certificate in the file",
                ));
            }
            // The key's bytes never reach a message, only the parse error.
            let key =
                PrivateKeyDer::from_pem_slice(&key).map_err(|e| pem_error("CLIENT_KEY", &e))?;
            Some((chain, key))
        }
    };
    crate::tls::client_config_with_identity(roots, identity)
        .map_err(|e| TelemetryError::exporter(format!("OTLP TLS: {e}")))
}

/// The configured headers for a hand-built HTTP request, values marked
/// sensitive (as [`tonic_metadata`] marks gRPC's).
fn http_header_map(cfg: &SignalExport) -> Result<http::HeaderMap, TelemetryError> {
    let mut map = http::HeaderMap::new();
    for (k, v) in &cfg.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
            TelemetryError::exporter(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: invalid header name {k:?}"
            ))
        })?;
        let mut value = http::HeaderValue::from_str(v.expose()).map_err(|_| {
            TelemetryError::exporter(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: invalid value for {k:?}"
            ))
        })?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

fn http_headers(cfg: &SignalExport) -> HashMap<String, String> {
    cfg.headers
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_owned()))
        .collect()
}

fn http_client(cfg: &SignalExport) -> Result<reqwest::blocking::Client, TelemetryError> {
    // The blocking client owns its own runtime thread: the SDK exports from
    // its own threads, where the async client would panic.
    let builder = reqwest::blocking::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(GRPC_CONNECT_TIMEOUT.min(cfg.timeout))
        // A redirect would carry the configured headers (API keys) to
        // wherever it points: reqwest strips only `Authorization` and
        // cookies across hosts. A collector answers, it does not redirect.
        .redirect(reqwest::redirect::Policy::none())
        .use_preconfigured_tls(tls_config(cfg)?);
    // Building the blocking client inside an async context panics, so it is
    // built on a plain thread.
    std::thread::spawn(move || builder.build())
        .join()
        .map_err(|_| TelemetryError::exporter("OTLP HTTP client: builder panicked".to_owned()))?
        .map_err(|e| TelemetryError::exporter(format!("OTLP HTTP client: {e}")))
}

/// Builds one signal's exporter; `$builder` is the exporter's builder (a
/// metric exporter's with its temporality already set).
macro_rules! build_exporter {
    ($builder:expr, $cfg:expr, $scrubber:expr) => {{
        let cfg: &SignalExport = $cfg;
        let scrubber: &Scrubber = $scrubber;
        match cfg.protocol {
            Protocol::Grpc => {
                let mut b = $builder
                    .with_tonic()
                    .with_channel(tonic_channel(cfg, scrubber)?)
                    .with_timeout(cfg.timeout)
                    .with_metadata(tonic_metadata(cfg)?);
                if cfg.compression == Compression::Gzip {
                    b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
                }
                b.build()
            }
            Protocol::HttpProtobuf => {
                let mut b = $builder
                    .with_http()
                    .with_http_client(http_client(cfg)?)
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_endpoint(&cfg.endpoint)
                    .with_timeout(cfg.timeout)
                    .with_headers(http_headers(cfg));
                if cfg.compression == Compression::Gzip {
                    b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
                }
                b.build()
            }
        }
        .map_err(|e| {
            // The SDK's message may quote the endpoint: scrubbed as well.
            TelemetryError::exporter(scrubber.scrub(format!(
                "OTLP exporter for {}: {e}",
                redact_url(&cfg.endpoint)
            )))
        })
    }};
}

/// `export_timeout` (`OTEL_BSP_EXPORT_TIMEOUT`) tightens the OTLP timeout:
/// the SDK's batch span processor ignores the variable. Spans go through
/// wingspan's own exporter ([`super::otlp`]), on the same channel, TLS,
/// headers and compression as the other signals.
pub(crate) fn spans(
    cfg: &OtlpConfig,
    export_timeout: Duration,
) -> Result<super::otlp::SpanExporter, TelemetryError> {
    let scrubber = &Scrubber::new(cfg);
    let cfg = &tightened(&cfg.traces, export_timeout);
    let gzip = cfg.compression == Compression::Gzip;
    let transport = match cfg.protocol {
        Protocol::Grpc => {
            let mut metadata = tonic_metadata(cfg)?;
            if !metadata.contains_key("user-agent") {
                metadata.insert(
                    "user-agent",
                    tonic::metadata::MetadataValue::from_static(super::otlp::USER_AGENT),
                );
            }
            super::otlp::Transport::Grpc {
                channel: tonic_channel(cfg, scrubber)?,
                metadata,
                gzip,
            }
        }
        Protocol::HttpProtobuf => {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                http::header::USER_AGENT,
                http::HeaderValue::from_static(super::otlp::USER_AGENT),
            );
            headers.extend(http_header_map(cfg)?);
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/x-protobuf"),
            );
            // Parsed here, not at each export: a bad URL is a configuration
            // error. Credentials in it are dropped: reqwest would send them
            // as basic auth, which no other signal's exporter does; they
            // belong in OTEL_EXPORTER_OTLP_HEADERS (SECURITY.md).
            let mut endpoint = reqwest::Url::parse(&cfg.endpoint).map_err(|e| {
                TelemetryError::exporter(
                    scrubber.scrub(format!("OTLP endpoint {}: {e}", redact_url(&cfg.endpoint))),
                )
            })?;
            let _ = endpoint.set_username("");
            let _ = endpoint.set_password(None);
            super::otlp::Transport::Http {
                client: http_client(cfg)?,
                endpoint,
                headers,
                gzip,
            }
        }
    };
    Ok(super::otlp::SpanExporter::new(transport, cfg.timeout))
}

/// `export_timeout` (`OTEL_METRIC_EXPORT_TIMEOUT`) tightens the OTLP timeout
/// for metrics: the SDK's periodic reader has no timeout of its own. The
/// temporality is always passed explicitly, so the exporter never falls
/// back to its own reading of the process environment.
pub(crate) fn metrics(
    cfg: &OtlpConfig,
    export_timeout: Duration,
) -> Result<MetricExporter, TelemetryError> {
    let builder = MetricExporter::builder().with_temporality(temporality(cfg.temporality));
    build_exporter!(
        builder,
        &tightened(&cfg.metrics, export_timeout),
        &Scrubber::new(cfg)
    )
}

/// `signal` with its timeout bounded by a processor's or reader's export
/// timeout, which the SDK's processors and reader do not enforce themselves.
fn tightened(signal: &SignalExport, export_timeout: Duration) -> SignalExport {
    let mut signal = signal.clone();
    signal.timeout = signal.timeout.min(export_timeout);
    signal
}

fn temporality(t: Temporality) -> opentelemetry_sdk::metrics::Temporality {
    match t {
        Temporality::Cumulative => opentelemetry_sdk::metrics::Temporality::Cumulative,
        Temporality::Delta => opentelemetry_sdk::metrics::Temporality::Delta,
        Temporality::LowMemory => opentelemetry_sdk::metrics::Temporality::LowMemory,
    }
}

/// `export_timeout` (`OTEL_BLRP_EXPORT_TIMEOUT`) tightens the OTLP timeout:
/// the SDK's batch log processor ignores the variable.
pub(crate) fn logs(
    cfg: &OtlpConfig,
    export_timeout: Duration,
) -> Result<LogExporter, TelemetryError> {
    build_exporter!(
        LogExporter::builder(),
        &tightened(&cfg.logs, export_timeout),
        &Scrubber::new(cfg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn otlp(vars: &[(&str, &str)]) -> SignalExport {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
            .unwrap()
            .telemetry
            .otlp
            .traces
    }

    #[test]
    fn batch_export_timeouts_tighten_the_otlp_timeout() {
        let tc = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
            Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
                .unwrap()
                .telemetry
        };
        let d = tc(&[]);
        assert_eq!(d.span_export_timeout, Duration::from_millis(30000));
        assert_eq!(d.log_export_timeout, Duration::from_millis(30000));
        let c = tc(&[
            ("OTEL_BSP_EXPORT_TIMEOUT", "0"),
            ("OTEL_BLRP_EXPORT_TIMEOUT", "1500"),
        ]);
        assert_eq!(c.span_export_timeout, crate::config::NO_LIMIT);
        assert_eq!(c.log_export_timeout, Duration::from_millis(1500));
        // Both build with the tighter timeout (HTTP: no runtime needed).
        spans(&c.otlp, c.span_export_timeout).unwrap();
        logs(&c.otlp, c.log_export_timeout).unwrap();
    }

    #[test]
    fn http_client_builds_with_explicit_tls_provider() {
        // Would panic inside rustls if the provider were left implicit and
        // the tree held two.
        http_client(&otlp(&[])).unwrap();
    }

    #[test]
    fn a_certificate_file_without_certificates_is_an_error_naming_the_variable() {
        let path = std::env::temp_dir().join(format!("wingspan-bad-ca-{}.pem", std::process::id()));
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let cfg = otlp(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", path.to_str().unwrap())]);
        let err = tls_config(&cfg).unwrap_err().to_string();
        std::fs::remove_file(&path).ok();
        assert!(err.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"), "{err}");
    }

    #[test]
    fn a_client_key_that_is_no_key_is_an_error_naming_the_variable_not_the_key() {
        let dir = std::env::temp_dir();
        let cert = dir.join(format!("wingspan-client-cert-{}.pem", std::process::id()));
        let key = dir.join(format!("wingspan-client-key-{}.pem", std::process::id()));
        // A certificate block that parses as PEM, and a "key" that is not one.
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        std::fs::write(&key, "k3yM4rker not a key\n").unwrap();
        let cfg = otlp(&[
            (
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                cert.to_str().unwrap(),
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.to_str().unwrap()),
        ]);
        let err = tls_config(&cfg).unwrap_err().to_string();
        std::fs::remove_file(&cert).ok();
        std::fs::remove_file(&key).ok();
        assert!(err.contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"), "{err}");
        assert!(!err.contains("k3yM4rker"), "{err}");
    }
}
