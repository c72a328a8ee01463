//! The listeners wingspan serves: the accept loop with its bounds
//! ([`Serve`], re-exported as `wingspan::http::Serve`) and the admin rule of
//! the data routes (`access`).
//!
//! Both sit just above `config` and below `telemetry`, because the
//! Prometheus pull endpoint (`telemetry`) and the health endpoints
//! (`health`) are served by the same loop under the same rule, and the
//! HTTP layer (`http`) sits above `telemetry`.

pub(crate) mod access;
mod serve;

pub use serve::{serve, serve_until, Serve, HEADER_READ_TIMEOUT};
