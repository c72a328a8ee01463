//! Health endpoints and the embedded dashboard, over the in-process view
//! ([`crate::stats`]).
//!
//! | route | what | who may read it |
//! |---|---|---|
//! | `GET /health` | liveness: always 200, touches nothing | anyone |
//! | `GET /health/ready` | every [`Check`] under a short timeout, cached for a moment; 503 naming the failing ones | anyone |
//! | `GET /health/detailed` | the JSON document, [`Detailed`] (each field documented there) | the admin rule below |
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
//! This module is the top layer: it reads the view the resources feed
//! ([`Stats`](crate::stats::Stats)) and implements [`Check`] for the pool
//! and the cache over their own readiness methods.
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
mod builder;
mod check;
mod detailed;
mod handle;
mod n_plus_one;
mod page;
mod ready;

pub use crate::config::{AdminToken, HealthConfig};
pub use advice::{AdviceFigures, Alert, CacheNameRate, Recommendation, SeqScan};
pub use builder::HealthBuilder;
pub use check::{Check, CheckError, CheckFuture};
pub use detailed::{
    ApiPerformance, CacheSummary, Database, Detailed, GenAi, LlmPerformance, Performance,
    RoutePerformance, RouteTraces, SlowQueries, StatementRow, TraceLink, Window, Windows,
};
pub use handle::{AdminServer, Health};
pub use n_plus_one::NPlusOneRow;
pub use ready::{CheckResult, ReadyReport};
