//! OpenTelemetry instrumentation for an axum service with a PostgreSQL pool
//! (deadpool + tokio-postgres), a Redis cache (fred) and LLM calls: one
//! [`init`] builds the OTLP pipeline from validated settings, and each
//! resource handle made from it emits the semantic conventions' spans and
//! metrics, feeds an in-process rolling window ([`stats`]), and answers the
//! health endpoints ([`health`]).
//!
//! # Wiring
//!
//! ```no_run
//! # #[cfg(all(feature = "postgres", feature = "redis", feature = "llm"))]
//! # async fn wire() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Router};
//! use wingspan::{cache::Cache, db::Pool, health::Health, llm::anthropic::Anthropic};
//!
//! // OTEL_*, WINGSPAN_*, DB_*, REDIS_*, ANTHROPIC_*: validated, then the pipeline.
//! let telemetry = wingspan::init(wingspan::Config::from_env()?)?;
//! let db = Pool::builder(&telemetry).build().await?; // query spans, pool metrics
//! let cache = Cache::builder(&telemetry).build().await?; // command spans, hit rate
//! let claude = Anthropic::builder(&telemetry).build()?; // gen_ai spans, tokens, cost
//! let health = Health::for_telemetry(&telemetry)
//!     .check(db.clone())
//!     .check(cache.clone())
//!     .build();
//! let app = Router::new()
//!     .route("/api/users/{id}", get(|| async { "user" }))
//!     .layer(wingspan::http::layer(&telemetry)) // one SERVER span per request
//!     .merge(health.router()); // /health, /health/ready, /health/detailed, /observability
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! wingspan::http::serve(listener, app).await?; // axum's accept loop, with timeouts
//! telemetry.shutdown().await?; // flushes, bounded
//! # drop(claude); Ok(()) }
//! ```
//!
//! # Features
//!
//! None is on by default: the HTTP layer, the telemetry pipeline and the
//! health endpoints need none; a service names its stacks.
//!
//! | feature | enables |
//! |---|---|
//! | `postgres` | [`db`]: the instrumented PostgreSQL pool |
//! | `redis` | [`cache`]: the instrumented Redis cache |
//! | `llm` | [`llm`]: gen_ai instrumentation, the Anthropic adapter; [`client`]: the instrumented HTTP client |
//! | `llm-fake` | `llm::fake`: a local Messages API for tests and demos |
//! | `prometheus` | a Prometheus pull endpoint beside OTLP (`Telemetry::prometheus_router`) |
//!
//! # Layers
//!
//! Each module imports only modules of a lower layer (and its own); a unit
//! test (`layering`, in `src/layering.rs`) reads every source file and fails
//! on an import, a path or a doc link that reaches up or sideways, so the
//! modules cannot grow a cycle.
//!
//! | layer | modules | why there |
//! |---|---|---|
//! | 0 | [`names`], `text`, `tls` | leaves: attribute names and values, char-boundary cuts, the rustls setup |
//! | 1 | `capped`, `hooks` | the capped-name registry, whose overflow row is [`names::OTHER`]; the capped attribute list every resource's hook writes to and the operation-name scope pool and cache calls read |
//! | 2 | [`config`], [`stats`] | settings name no module they configure; the in-process view depends on no resource, so every resource (and [`telemetry`], which owns it) can feed it |
//! | 3 | `server` | the accept loop ([`http::Serve`]) and the admin rule, below both of their users: the Prometheus endpoint and the health listener |
//! | 4 | [`telemetry`] | the pipeline every handle is built from |
//! | 5 | `instrument`, `n_plus_one` | what the client calls share: the span, the durations, the deadline; the per-request N+1 tracker the HTTP layer carries and the pool feeds |
//! | 6 | [`http`], [`db`], [`cache`], [`client`] | the resources; siblings never import each other |
//! | 7 | [`llm`] | sends through [`client`] |
//! | 8 | [`health`] | serves the view and checks the resources' readiness |
//! | 9 | [`prelude`] | the traits an application imports at once (`use wingspan::prelude::*`) |

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod cache;
mod capped;
#[cfg(feature = "llm")]
#[cfg_attr(docsrs, doc(cfg(feature = "llm")))]
pub mod client;
pub mod config;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod db;
pub mod health;
mod hooks;
pub mod http;
#[cfg(any(feature = "postgres", feature = "redis", feature = "llm"))]
pub(crate) mod instrument;
#[cfg(test)]
mod layering;
#[cfg(feature = "llm")]
#[cfg_attr(docsrs, doc(cfg(feature = "llm")))]
pub mod llm;
mod n_plus_one;
pub mod names;
pub mod prelude;
mod server;
pub mod stats;
pub mod telemetry;
mod text;
mod tls;

pub use config::{Config, ConfigError};
pub use telemetry::{init, shutdown_signal, Telemetry, TelemetryError};
