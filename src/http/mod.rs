//! The axum HTTP layer: one SERVER span and the HTTP server metrics per
//! request, following the semantic conventions' HTTP server spans and
//! metrics (v1.44).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Router};
//! let telemetry = wingspan::init(wingspan::Config::from_env()?)?;
//! let app: Router = Router::new()
//!     .route("/api/users/{id}", get(|| async { "user" }))
//!     .route("/api/coach", axum::routing::post(|| async { "advice" }))
//!     // On the Router, so axum's `MatchedPath` is there to name the span.
//!     .layer(wingspan::http::layer(&telemetry).llm_routes(["/api/coach"]));
//! # Ok(()) }
//! ```
//!
//! Per request:
//! - a span `{method} {http.route}` (`{method}` when no route matched, `HTTP`
//!   for a method semconv does not know), kind SERVER, with the semconv
//!   attributes and `wingspan.route.class`; status Error only for a 5xx or a
//!   failed inner service;
//! - an incoming W3C `traceparent` as its parent (or, untrusted, as a link),
//!   and its `traceparent` on the response;
//! - the span made current while the inner service runs, so handler spans
//!   (`tracing` or OTel) nest under it;
//! - `http.server.request.duration` and `http.server.active_requests`.
//!
//! Requests of the templates in [`HttpLayer::skip_routes`] (by default
//! [`DEFAULT_SKIP_ROUTES`], wingspan's own health and `/metrics` routes) or
//! picked by [`HttpLayer::skip_when`] get no span, and as [`Skip`] says no
//! metrics; [`HttpLayer::span_attributes`] adds the application's own span
//! attributes ([`SpanAttributes`]).
//!
//! Client-supplied values (user agent, host, path, query, forwarded
//! address, an unknown method) are capped at [`HEADER_VALUE_LIMIT`] bytes.
//!
//! The span and the duration end when the response body ends or is dropped,
//! so a client that disconnects mid-body still ends them.
//!
//! Cost: the span name and `http.route` are interned per (route, method),
//! histograms are bound per (route, method, scheme, status), and
//! propagation is skipped when the request carries no context headers.

mod attributes;
mod body;
mod future;
mod hook;
mod layer;
mod metrics;
mod peer;
mod propagation;
mod route;
mod service;
mod skip;

pub use crate::config::ServeConfig;
pub use crate::server::{serve, serve_until, Serve, HEADER_READ_TIMEOUT};
pub use crate::stats::vocabulary::RouteClass;
pub use attributes::HEADER_VALUE_LIMIT;
pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use hook::{Attributes, SpanAttributes, MAX_HOOK_ATTRIBUTES};
pub use layer::{HttpLayer, RedactPath};
pub use metrics::{ACTIVE_REQUESTS, REQUEST_DURATION};
pub use peer::{with_peer, WithPeer};
pub use service::HttpService;
pub use skip::{Skip, SkipWhen, DEFAULT_SKIP_ROUTES};

/// The HTTP layer for `telemetry`'s pipeline, with its defaults from
/// `telemetry.config().http`.
pub fn layer(telemetry: &crate::Telemetry) -> HttpLayer {
    HttpLayer::new(telemetry)
}
