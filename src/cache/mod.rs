//! The instrumented Redis cache: a [fred] pool with command spans, hit/miss
//! accounting, read-through [`Cache::get_or_load`] with single-flight, and
//! server-side `INFO` metrics.
//!
//! ```no_run
//! # async fn run(telemetry: wingspan::Telemetry) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! let cache = wingspan::cache::Cache::builder(&telemetry)
//!     .build()
//!     .await?; // fails on bad settings only: starts degraded when Redis is down
//! cache.set("challenges:42", "payload", Some(Duration::from_secs(60))).await?;
//! let hit: Option<String> = cache.get("challenges:42").await?;
//! let profile: Vec<u32> = cache
//!     .get_or_load("profiles:7", Some(Duration::from_secs(300)), || async {
//!         Ok::<_, std::io::Error>(vec![1, 2, 3]) // the database query
//!     })
//!     .await
//!     .unwrap();
//! # Ok(()) }
//! ```
//!
//! Every call is a CLIENT span named by the command, child of
//! `Context::current()` at the call, and feeds `db.client.operation.duration`.
//! Reads (GET, MGET per key, HGET, HGETALL) count `wingspan.cache.requests`
//! by cache name and result. The cache name is the key's prefix before the
//! first `:`, so a key that starts with user data (`<email>:profile`) would
//! put it into a metric label and the in-process view: name the caches with
//! [`CacheBuilder::cache_names`], and every other key counts as `other`.
//!
//! Reliability: every command has a timeout (`REDIS_COMMAND_TIMEOUT`); while
//! no connection is up, commands fail at once with
//! [`CacheError::NotConnected`] instead of queueing; the pool reconnects in the
//! background, so the cache recovers from a Redis restart by itself.

mod builder;
mod call;
mod check;
mod error;
mod flight;
#[cfg(test)]
mod fuzz;
mod handle;
mod hook;
mod info;
mod instruments;
mod ops;
mod pipeline;
mod query;
mod tls;

pub use crate::hooks::{operation, Attributes, MAX_HOOK_ATTRIBUTES, MAX_OPERATION_NAME_LEN};
pub use builder::CacheBuilder;
pub use error::{BuildError, CacheError};
pub use fred::types::{FromValue, Value};
pub use handle::Cache;
pub use hook::{CallInfo, CommandAttributes};
pub use pipeline::Pipeline;

use handle::Shared;
