//! [`Health`]: the routes, the readiness answer, the detailed document, and
//! the admin listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{page, ready, Detailed, HealthBuilder, HealthConfig, ReadyReport};
use crate::config::ServeConfig;
use crate::server::access;
use crate::stats::Stats;
use crate::telemetry::Telemetry;

pub(super) struct Shared {
    pub(super) stats: Stats,
    pub(super) config: HealthConfig,
    pub(super) serve: ServeConfig,
    pub(super) ready: ready::Readiness,
    pub(super) started: Instant,
}

/// The health endpoints of one service. Cheap to clone.
#[derive(Clone)]
pub struct Health(pub(super) Arc<Shared>);

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
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
        HealthBuilder::new(stats)
    }

    /// A builder over `telemetry`'s in-process view, with the settings of
    /// `telemetry.config().health`. With `WINGSPAN_STATS=false` the view is
    /// an empty one: liveness and readiness work, the figures stay at zero.
    pub fn for_telemetry(telemetry: &Telemetry) -> HealthBuilder {
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
    pub fn detailed(&self) -> Detailed {
        let uptime = self.0.started.elapsed().as_secs_f64();
        Detailed::of(&self.0.stats, &self.0.config, uptime)
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

#[cfg(test)]
mod skip_defaults {
    use crate::http::DEFAULT_SKIP_ROUTES;

    /// The defaults are the templates wingspan's own routers register: a
    /// renamed route fails here before it is traced again.
    #[tokio::test]
    async fn the_defaults_are_the_templates_of_wingspans_routers() {
        use axum::extract::MatchedPath;
        use tower::ServiceExt as _;

        let stats = crate::stats::Stats::builder().build();
        let health = crate::health::Health::builder(&stats).build();
        for template in DEFAULT_SKIP_ROUTES.iter().filter(|t| **t != "/metrics") {
            let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
            let record = seen.clone();
            let app = health.router().layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    let record = record.clone();
                    async move {
                        *record.lock().unwrap() = req
                            .extensions()
                            .get::<MatchedPath>()
                            .map(|m| m.as_str().to_owned());
                        next.run(req).await
                    }
                },
            ));
            let req = http::Request::get(*template)
                .body(axum::body::Body::empty())
                .unwrap();
            let _ = app.oneshot(req).await.unwrap();
            assert_eq!(seen.lock().unwrap().as_deref(), Some(*template));
        }
    }
}
