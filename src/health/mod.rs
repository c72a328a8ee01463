//! Health endpoints and the embedded dashboard, over the in-process view
//! ([`crate::stats`]).
//!
//! | route | what | token |
//! |---|---|---|
//! | `GET /health` | liveness: always 200, touches nothing | never |
//! | `GET /health/ready` | every [`Check`] under a short timeout, cached for a moment; 503 naming the failing ones | never |
//! | `GET /health/detailed` | the JSON document (schema in the README) | when `WINGSPAN_ADMIN_TOKEN` is set |
//! | `GET /observability` | the dashboard page (static: it holds no data, and fetches the JSON with the token) | never |
//!
//! This module sits above `db`, `cache` and `llm` but names none of their
//! types: they reach it through [`Check`] and the [`Stats`] handles.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wingspan::health::{Health, HealthConfig};
//! let stats = wingspan::stats::Stats::builder().build();
//! let health = Health::builder(&stats).config(HealthConfig::from_env()?).build();
//! let app: axum::Router = axum::Router::new().merge(health.router());
//! // or, on its own listener (WINGSPAN_ADMIN_ADDR):
//! let admin = health.serve_admin().await?;
//! # drop((app, admin)); Ok(()) }
//! ```

mod advice;
mod detailed;
mod page;
mod ready;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use crate::config::{prometheus_switch, AdminToken, HealthConfig, PrometheusSwitch};
pub use advice::{Alert, Recommendation};
pub use ready::{CheckResult, ReadyReport};

use crate::stats::{Check, Stats};

struct Shared {
    stats: Stats,
    config: HealthConfig,
    ready: ready::Readiness,
    started: Instant,
}

/// The health endpoints of one service. Cheap to clone.
#[derive(Clone)]
pub struct Health(Arc<Shared>);

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

/// Settings and checks of a [`Health`].
#[must_use]
pub struct HealthBuilder {
    stats: Stats,
    config: HealthConfig,
    checks: Vec<Arc<dyn Check>>,
}

impl std::fmt::Debug for HealthBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|c| c.name()).collect();
        f.debug_struct("HealthBuilder")
            .field("config", &self.config)
            .field("checks", &names)
            .finish_non_exhaustive()
    }
}

impl HealthBuilder {
    /// Thresholds, token, trace links, timeouts. Defaults to
    /// [`HealthConfig::default`] (the plan's thresholds, no token).
    pub fn config(mut self, config: HealthConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds a readiness check. Defaults to none (always ready).
    pub fn check(mut self, check: impl Check + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// The endpoints.
    pub fn build(self) -> Health {
        let ready = ready::Readiness::new(
            self.checks,
            self.config.check_timeout,
            self.config.ready_cache,
        );
        Health(Arc::new(Shared {
            stats: self.stats,
            config: self.config,
            ready,
            started: Instant::now(),
        }))
    }
}

/// The admin listener started by [`Health::serve_admin`]; stops on drop.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl AdminServer {
    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Health {
    /// A builder over the window the endpoints report.
    pub fn builder(stats: &Stats) -> HealthBuilder {
        HealthBuilder {
            stats: stats.clone(),
            config: HealthConfig::default(),
            checks: Vec::new(),
        }
    }

    /// A builder over `telemetry`'s in-process view, with the settings of
    /// `telemetry.config().health`. With `WINGSPAN_STATS=false` the view is
    /// an empty one: liveness and readiness work, the figures stay at zero.
    pub fn for_telemetry(telemetry: &crate::Telemetry) -> HealthBuilder {
        let stats = telemetry
            .stats()
            .cloned()
            .unwrap_or_else(|| Stats::builder().build());
        Self::builder(&stats).config(telemetry.config().health.clone())
    }

    /// The settings in force.
    pub fn config(&self) -> &HealthConfig {
        &self.0.config
    }

    /// The routes of the table above, to merge into the service's router or
    /// serve on their own.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/health", get(live))
            .route("/health/ready", get(ready))
            .route("/health/detailed", get(detailed))
            .route("/observability", get(page::page))
            .with_state(self.clone())
    }

    /// The readiness answer (what `GET /health/ready` serves).
    pub async fn ready(&self) -> ReadyReport {
        self.0.ready.report().await
    }

    /// The detailed document (what `GET /health/detailed` serves).
    pub fn detailed(&self) -> serde_json::Value {
        let uptime = self.0.started.elapsed().as_secs_f64();
        detailed::document(&self.0.stats, &self.0.config, uptime)
    }

    /// Serves [`Health::router`] on `WINGSPAN_ADMIN_ADDR`; `None` when unset.
    pub async fn serve_admin(&self) -> std::io::Result<Option<AdminServer>> {
        match self.0.config.admin_addr {
            None => Ok(None),
            Some(addr) => self.serve_on(addr).await.map(Some),
        }
    }

    /// Serves [`Health::router`] on `addr` (port 0 picks a free one).
    pub async fn serve_on(&self, addr: SocketAddr) -> std::io::Result<AdminServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = self.router();
        let task = tokio::spawn(async move {
            if let Err(e) = crate::http::serve(listener, app).await {
                tracing::warn!("admin listener stopped: {e}");
            }
        });
        Ok(AdminServer { addr, task })
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.0.config.admin_token else {
            return true;
        };
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .is_some_and(|presented| token.matches(presented))
    }
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn live() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({ "status": "alive" }))
}

async fn ready(State(h): State<Health>) -> Response {
    let report = h.ready().await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &report)
}

async fn detailed(State(h): State<Health>, headers: HeaderMap) -> Response {
    if !h.authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
        )
            .into_response();
    }
    json_response(StatusCode::OK, &h.detailed())
}
