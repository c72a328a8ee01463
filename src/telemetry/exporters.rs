//! The OTLP exporters, configured explicitly from the validated
//! [`OtlpConfig`] so the SDK never falls back to its own reading of the
//! environment.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{
    LogExporter, MetricExporter, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};

use super::redact::Scrubber;
use super::TelemetryError;
use crate::config::{redact_url, Compression, OtlpConfig, Protocol};

/// A gRPC export that cannot connect gives up after this long, so a dead
/// collector never holds an export thread for the whole export timeout.
const GRPC_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

fn tonic_metadata(cfg: &OtlpConfig) -> Result<tonic::metadata::MetadataMap, TelemetryError> {
    let mut map = tonic::metadata::MetadataMap::new();
    for (k, v) in &cfg.headers {
        let key = tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|_| {
                TelemetryError::exporter(format!(
                    "OTEL_EXPORTER_OTLP_HEADERS: invalid header name {k:?}"
                ))
            })?;
        let value = v.expose().parse().map_err(|_| {
            TelemetryError::exporter(format!(
                "OTEL_EXPORTER_OTLP_HEADERS: invalid value for {k:?}"
            ))
        })?;
        map.insert(key, value);
    }
    Ok(map)
}

fn tonic_channel(
    cfg: &OtlpConfig,
    endpoint: &str,
) -> Result<tonic::transport::Channel, TelemetryError> {
    // tonic spawns the channel's worker on the current runtime and panics
    // without one.
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(TelemetryError::NoRuntime);
    }
    let mut ep = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| {
            TelemetryError::exporter(
                Scrubber::new(cfg).scrub(format!("OTLP endpoint {}: {e}", redact_url(endpoint))),
            )
        })?
        .connect_timeout(GRPC_CONNECT_TIMEOUT.min(cfg.timeout))
        .timeout(cfg.timeout)
        .tcp_keepalive(Some(Duration::from_secs(30)));
    if endpoint.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
        if let Some(pem) = read_certificate(cfg)? {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        ep = ep
            .tls_config(tls)
            .map_err(|e| TelemetryError::exporter(format!("OTLP TLS: {e}")))?;
    }
    Ok(ep.connect_lazy())
}

fn read_certificate(cfg: &OtlpConfig) -> Result<Option<Vec<u8>>, TelemetryError> {
    cfg.certificate
        .as_ref()
        .map(|path| {
            std::fs::read(path).map_err(|e| {
                TelemetryError::exporter(format!(
                    "OTEL_EXPORTER_OTLP_CERTIFICATE {}: {e}",
                    path.display()
                ))
            })
        })
        .transpose()
}

/// The HTTP exporter's TLS: the system roots (unreadable ones are skipped,
/// not fatal: a collector on plain http needs none) plus the private CA of
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`.
fn tls_config(cfg: &OtlpConfig) -> Result<rustls::ClientConfig, TelemetryError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::CertificateDer;

    let mut roots = crate::tls::system_roots();
    if let Some(pem) = read_certificate(cfg)? {
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| {
                TelemetryError::exporter(format!("OTEL_EXPORTER_OTLP_CERTIFICATE: {e}"))
            })?;
            roots.add(cert).map_err(|e| {
                TelemetryError::exporter(format!("OTEL_EXPORTER_OTLP_CERTIFICATE: {e}"))
            })?;
        }
    }
    crate::tls::client_config(roots).map_err(|e| TelemetryError::exporter(format!("OTLP TLS: {e}")))
}

fn http_headers(cfg: &OtlpConfig) -> HashMap<String, String> {
    cfg.headers
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_owned()))
        .collect()
}

fn http_client(cfg: &OtlpConfig) -> Result<reqwest::blocking::Client, TelemetryError> {
    // The blocking client owns its own runtime thread: the SDK exports from
    // its own threads, where the async client would panic.
    let builder = reqwest::blocking::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(GRPC_CONNECT_TIMEOUT.min(cfg.timeout))
        .use_preconfigured_tls(tls_config(cfg)?);
    // Building the blocking client inside an async context panics, so it is
    // built on a plain thread.
    std::thread::spawn(move || builder.build())
        .join()
        .map_err(|_| TelemetryError::exporter("OTLP HTTP client: builder panicked".to_owned()))?
        .map_err(|e| TelemetryError::exporter(format!("OTLP HTTP client: {e}")))
}

macro_rules! build_exporter {
    ($ty:ty, $cfg:expr, $endpoint:expr) => {{
        let cfg: &OtlpConfig = $cfg;
        let endpoint: &str = $endpoint;
        match cfg.protocol {
            Protocol::Grpc => {
                let mut b = <$ty>::builder()
                    .with_tonic()
                    .with_channel(tonic_channel(cfg, endpoint)?)
                    .with_timeout(cfg.timeout)
                    .with_metadata(tonic_metadata(cfg)?);
                if cfg.compression == Compression::Gzip {
                    b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
                }
                b.build()
            }
            Protocol::HttpProtobuf => {
                let mut b = <$ty>::builder()
                    .with_http()
                    .with_http_client(http_client(cfg)?)
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_endpoint(endpoint)
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
            TelemetryError::exporter(
                Scrubber::new(cfg)
                    .scrub(format!("OTLP exporter for {}: {e}", redact_url(endpoint))),
            )
        })
    }};
}

/// `export_timeout` (`OTEL_BSP_EXPORT_TIMEOUT`) tightens the OTLP timeout:
/// the SDK's batch span processor ignores the variable.
pub(crate) fn spans(
    cfg: &OtlpConfig,
    export_timeout: Duration,
) -> Result<SpanExporter, TelemetryError> {
    let mut cfg = cfg.clone();
    cfg.timeout = cfg.timeout.min(export_timeout);
    build_exporter!(SpanExporter, &cfg, &cfg.traces_endpoint)
}

/// `export_timeout` (`OTEL_METRIC_EXPORT_TIMEOUT`) tightens the OTLP timeout
/// for metrics: the SDK's periodic reader has no timeout of its own.
pub(crate) fn metrics(
    cfg: &OtlpConfig,
    export_timeout: Duration,
) -> Result<MetricExporter, TelemetryError> {
    let mut cfg = cfg.clone();
    cfg.timeout = cfg.timeout.min(export_timeout);
    build_exporter!(MetricExporter, &cfg, &cfg.metrics_endpoint)
}

/// `export_timeout` (`OTEL_BLRP_EXPORT_TIMEOUT`) tightens the OTLP timeout:
/// the SDK's batch log processor ignores the variable.
pub(crate) fn logs(
    cfg: &OtlpConfig,
    export_timeout: Duration,
) -> Result<LogExporter, TelemetryError> {
    let mut cfg = cfg.clone();
    cfg.timeout = cfg.timeout.min(export_timeout);
    build_exporter!(LogExporter, &cfg, &cfg.logs_endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn otlp(vars: &[(&str, &str)]) -> OtlpConfig {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
            .unwrap()
            .telemetry
            .otlp
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
}
