//! Outgoing HTTP client names (the ones not shared with the server side,
//! which live in `http.rs`).

pub use opentelemetry_semantic_conventions::attribute::URL_TEMPLATE;

/// `error.type` of an outgoing request that could not connect.
pub const ERROR_CONNECT: &str = "connect";
