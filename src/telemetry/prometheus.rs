//! The optional Prometheus pull endpoint (feature `prometheus`).
//!
//! A second reader on the same meter provider, so the names are the ones the
//! OTLP→Prometheus translation produces on the collector path
//! (`http_server_request_duration_seconds_bucket`, `..._total` for counters)
//! and one set of dashboards and rules serves both paths. It costs a second
//! aggregation of every measurement; BENCHMARKS.md gives the figure.
//!
//! `/metrics` carries route names, pool sizes and statement summaries: it
//! follows the admin rule of `wingspan::health` (the bearer token when
//! `WINGSPAN_ADMIN_TOKEN` is set, else loopback clients only unless
//! `WINGSPAN_ADMIN_OPEN=true`), on the pull endpoint's listener and in
//! [`Telemetry::prometheus_router`] alike. The listener binds loopback
//! unless `WINGSPAN_PROMETHEUS_ADDR` says otherwise.

use std::net::SocketAddr;

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use opentelemetry_sdk::metrics::MeterProviderBuilder;
use prometheus::{Encoder, Registry, TextEncoder};

use super::{Telemetry, TelemetryError};
use crate::config::TelemetryConfig;
use crate::server::access;

#[derive(Clone)]
pub(crate) struct PullEndpoint {
    registry: Registry,
    addr: Option<SocketAddr>,
}

impl PullEndpoint {
    pub(crate) fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail on I/O; a metric family the
        // encoder rejects is skipped rather than failing the scrape.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

pub(crate) fn attach(
    builder: MeterProviderBuilder,
    tc: &TelemetryConfig,
) -> Result<(MeterProviderBuilder, Option<PullEndpoint>), TelemetryError> {
    let Some(addr) = tc
        .prometheus_addr
        .map(Some)
        .or(tc.prometheus_enabled.then_some(None))
    else {
        return Ok((builder, None));
    };
    let registry = Registry::new();
    let reader = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()
        .map_err(|e| TelemetryError::exporter(format!("prometheus exporter: {e}")))?;
    Ok((
        builder.with_reader(reader),
        Some(PullEndpoint { registry, addr }),
    ))
}

pub(crate) fn router(telemetry: Telemetry) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        get(move |req: Request| {
            let telemetry = telemetry.clone();
            async move {
                let health = &telemetry.config().health;
                if let Err(denied) = access::admit(health, req.headers(), req.extensions()) {
                    return denied.into_response();
                }
                match telemetry.prometheus_text() {
                    Some(body) => {
                        ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
                    }
                    None => (
                        axum::http::StatusCode::NOT_FOUND,
                        "prometheus endpoint disabled",
                    )
                        .into_response(),
                }
            }
        }),
    )
}

/// Starts the listener on `WINGSPAN_PROMETHEUS_ADDR`, when set.
pub(crate) fn serve_if_configured(telemetry: &Telemetry) -> Result<(), TelemetryError> {
    let Some(addr) = telemetry.inner.prometheus.as_ref().and_then(|p| p.addr) else {
        return Ok(());
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(TelemetryError::exporter(format!(
            "WINGSPAN_PROMETHEUS_ADDR {addr}: the pull endpoint needs a Tokio runtime; call init inside one"
        )));
    }
    let std_listener = std::net::TcpListener::bind(addr)
        .map_err(|e| TelemetryError::exporter(format!("WINGSPAN_PROMETHEUS_ADDR {addr}: {e}")))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| TelemetryError::exporter(format!("WINGSPAN_PROMETHEUS_ADDR {addr}: {e}")))?;
    let listener = tokio::net::TcpListener::from_std(std_listener)
        .map_err(|e| TelemetryError::exporter(format!("WINGSPAN_PROMETHEUS_ADDR {addr}: {e}")))?;
    let config = telemetry.config();
    access::log_exposure(&config.health, addr, "/metrics");
    let serve =
        crate::server::Serve::new(listener, router(telemetry.clone())).config(&config.http.serve);
    tokio::spawn(async move {
        if let Err(e) = serve.run().await {
            tracing::warn!(target: "wingspan::telemetry", error = %e, "prometheus endpoint stopped");
        }
    });
    Ok(())
}
