//! wingspan: OpenTelemetry for axum + PostgreSQL + Redis + LLM services.
#![warn(missing_docs)]

pub mod config;

pub use config::{Config, ConfigError};
