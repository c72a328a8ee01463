//! The OTLP exporters, configured explicitly from the validated
//! [`OtlpConfig`] so the SDK never falls back to its own reading of the
//! environment.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{
    LogExporter, MetricExporter, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};

use super::TelemetryError;
use crate::config::{Compression, OtlpConfig, Protocol};

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
    let mut ep = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .map_err(|e| TelemetryError::exporter(format!("OTLP endpoint {endpoint}: {e}")))?
        .connect_timeout(GRPC_CONNECT_TIMEOUT.min(cfg.timeout))
        .timeout(cfg.timeout)
        .tcp_keepalive(Some(Duration::from_secs(30)));
    if endpoint.starts_with("https://") {
        let mut tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
        if let Some(path) = &cfg.certificate {
            let pem = std::fs::read(path).map_err(|e| {
                TelemetryError::exporter(format!(
                    "OTEL_EXPORTER_OTLP_CERTIFICATE {}: {e}",
                    path.display()
                ))
            })?;
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        ep = ep
            .tls_config(tls)
            .map_err(|e| TelemetryError::exporter(format!("OTLP TLS: {e}")))?;
    }
    Ok(ep.connect_lazy())
}

fn http_headers(cfg: &OtlpConfig) -> HashMap<String, String> {
    cfg.headers
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_owned()))
        .collect()
}

fn http_client(cfg: &OtlpConfig) -> Result<reqwest::blocking::Client, TelemetryError> {
    // Built on the export thread's side: the blocking client owns its own
    // runtime thread, which is why the async client must not be used here.
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(GRPC_CONNECT_TIMEOUT.min(cfg.timeout));
    if let Some(path) = &cfg.certificate {
        let pem = std::fs::read(path).map_err(|e| {
            TelemetryError::exporter(format!(
                "OTEL_EXPORTER_OTLP_CERTIFICATE {}: {e}",
                path.display()
            ))
        })?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
            TelemetryError::exporter(format!(
                "OTEL_EXPORTER_OTLP_CERTIFICATE {}: {e}",
                path.display()
            ))
        })?;
        builder = builder.add_root_certificate(cert);
    }
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
        .map_err(|e| TelemetryError::exporter(format!("OTLP exporter for {endpoint}: {e}")))
    }};
}

pub(crate) fn spans(cfg: &OtlpConfig) -> Result<SpanExporter, TelemetryError> {
    build_exporter!(SpanExporter, cfg, &cfg.traces_endpoint)
}

pub(crate) fn metrics(cfg: &OtlpConfig) -> Result<MetricExporter, TelemetryError> {
    build_exporter!(MetricExporter, cfg, &cfg.metrics_endpoint)
}

pub(crate) fn logs(cfg: &OtlpConfig) -> Result<LogExporter, TelemetryError> {
    build_exporter!(LogExporter, cfg, &cfg.logs_endpoint)
}
