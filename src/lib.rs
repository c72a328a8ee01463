#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "redis")]
pub mod cache;
mod capped;
#[cfg(feature = "llm")]
pub mod client;
pub mod config;
#[cfg(feature = "postgres")]
pub mod db;
pub mod health;
pub mod http;
#[cfg(any(feature = "postgres", feature = "redis", feature = "llm"))]
pub(crate) mod instrument;
#[cfg(feature = "llm")]
pub mod llm;
pub mod names;
mod server;
pub mod stats;
pub mod telemetry;
mod text;
mod tls;

pub use config::{Config, ConfigError};
pub use telemetry::{init, Telemetry, TelemetryError};
