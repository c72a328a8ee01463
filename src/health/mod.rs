//! Health endpoints and the embedded dashboard, over the in-process view
//! ([`crate::stats`]).
//!
//! | route | what | who may read it |
//! |---|---|---|
//! | `GET /health` | liveness: always 200, touches nothing | anyone |
//! | `GET /health/ready` | every [`Check`] under a short timeout, cached for a moment; 503 naming the failing ones | anyone |
//! | `GET /health/detailed` | the JSON document (schema in the README) | the admin rule below |
//! | `GET /observability` | the dashboard page (static: it holds no data, and fetches the JSON with the token) | anyone |
//!
//! The admin rule, for `/health/detailed` here and `/metrics` wherever
//! wingspan serves it (it fails closed):
//!
//! 1. `WINGSPAN_ADMIN_TOKEN` set: `Authorization: Bearer <token>` (scheme in
//!    any case) from every client, loopback included; else 401.
//! 2. Else `WINGSPAN_ADMIN_OPEN=true`: any client; a warning at start says so.
//! 3. Else a loopback peer (`ConnectInfo<SocketAddr>`, which
//!    [`crate::http::serve`] and axum's `into_make_service_with_connect_info`
//!    provide) whose request carries no `Forwarded`, `X-Forwarded-For` or
//!    `X-Real-IP`; else 403, also when the peer is unknown.
//!
//! So the router is safe to mount on any listener: with neither setting the
//! data stays on the machine, and liveness and readiness stay open to probes.
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
mod check;
mod detailed;
mod page;
mod ready;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::config::ServeConfig;
pub use crate::config::{AdminToken, HealthConfig};
use crate::server::access;
pub use advice::{Alert, Recommendation};
pub use check::{Check, CheckError, CheckFuture};
pub use ready::{CheckResult, ReadyReport};

use crate::stats::Stats;

struct Shared {
    stats: Stats,
    config: HealthConfig,
    serve: ServeConfig,
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
    serve: ServeConfig,
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

    /// The bounds on the admin listener's connections ([`Health::serve_on`],
    /// [`Health::serve_admin`]). Defaults to [`ServeConfig::default`];
    /// [`Health::for_telemetry`] takes the configuration's
    /// (`WINGSPAN_HTTP_*`).
    pub fn serve_config(mut self, serve: ServeConfig) -> Self {
        self.serve = serve;
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
            serve: self.serve,
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
            serve: ServeConfig::default(),
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
        Self::builder(&stats)
            .config(telemetry.config().health.clone())
            .serve_config(telemetry.config().http.serve)
    }

    /// The settings in force.
    pub fn config(&self) -> &HealthConfig {
        &self.0.config
    }

    /// The routes of the table above, to merge into the service's router or
    /// serve on their own; `/health/detailed` follows the admin rule (module
    /// docs). With `WINGSPAN_ADMIN_OPEN=true` it logs a warning naming the
    /// routes it opens.
    pub fn router(&self) -> Router {
        if self.0.config.admin_open {
            tracing::warn!(
                target: "wingspan::health",
                "WINGSPAN_ADMIN_OPEN=true: /health/detailed (and /metrics where served) \
                 answer any client without a token"
            );
        }
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

    /// Serves [`Health::router`] on `addr` (port 0 picks a free one), with
    /// the bounds of [`HealthBuilder::serve_config`], and logs what it
    /// exposes ([`Health::log_exposure`]).
    pub async fn serve_on(&self, addr: SocketAddr) -> std::io::Result<AdminServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        self.log_exposure(addr);
        let serve = crate::server::Serve::new(listener, self.router()).config(&self.0.serve);
        let task = tokio::spawn(async move {
            if let Err(e) = serve.run().await {
                tracing::warn!("admin listener stopped: {e}");
            }
        });
        Ok(AdminServer { addr, task })
    }

    /// Logs, once at start, what a listener on `addr` serving these routes
    /// exposes: a warning with `WINGSPAN_ADMIN_OPEN=true`, and one when the
    /// address is reachable from the network without a token (the data
    /// routes then answer loopback clients only). [`Health::serve_on`] calls
    /// it; call it when serving [`Health::router`] on a listener of your own.
    pub fn log_exposure(&self, addr: SocketAddr) {
        access::log_exposure(&self.0.config, addr, "/health/detailed and /metrics");
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

async fn detailed(State(h): State<Health>, req: Request) -> Response {
    if let Err(denied) = access::admit(&h.0.config, req.headers(), req.extensions()) {
        return denied.into_response();
    }
    json_response(StatusCode::OK, &h.detailed())
}
