//! Every attribute key and instrument name wingspan emits, in one place.
//!
//! Where the semantic conventions (v1.44) define a name, the constant is
//! re-exported from `opentelemetry-semantic-conventions`; the rest
//! (`wingspan.*`, and the Redis receiver-compatible `redis.*` metrics) are
//! defined here. No other module spells a name as a string literal, so a
//! rename is one edit and the book's telemetry reference (docs/src/) can be checked
//! against this list.
//!
//! Prometheus names follow the OTLP translation: dots become underscores,
//! unit `s` adds `_seconds`, `By` adds `_bytes`, counters add `_total`, and
//! `{...}` units add nothing (`wingspan.cache.requests` →
//! `wingspan_cache_requests_total`).
//!
//! ```
//! use wingspan::names;
//! assert_eq!(names::WINGSPAN_CACHE_NAME, "wingspan.cache.name");
//! assert_eq!(names::DB_QUERY_SUMMARY, "db.query.summary");
//! assert_eq!(names::OTHER, "other"); // a name past its cap
//! ```

/// The schema URL of the semantic conventions wingspan's names follow
/// (v1.44), set on its instrumentation scope: a backend that translates
/// between versions reads the names as of this one.
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.44.0";

mod cache;
mod common;
mod db;
mod gen_ai;
mod http;
mod http_client;
mod telemetry;

pub use cache::*;
pub use common::*;
pub use db::*;
pub use gen_ai::*;
pub use http::*;
pub use http_client::*;
pub use telemetry::*;
