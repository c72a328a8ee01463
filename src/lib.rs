//! wingspan: OpenTelemetry for axum + PostgreSQL + Redis + LLM services.
#![warn(missing_docs)]

#[cfg(feature = "redis")]
pub mod cache;
pub mod config;
#[cfg(feature = "postgres")]
pub mod db;
pub mod http;
pub mod telemetry;

pub use config::{Config, ConfigError};
pub use telemetry::{init, Telemetry, TelemetryError};
