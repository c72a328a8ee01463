//! The in-process view: a rolling window of what the service did in the last
//! 1, 5 and 15 minutes, and per-minute summaries of the last hour.
//!
//! It sits beside `telemetry`, below `http`, `db`, `cache` and `llm`, which
//! feed it through handles resolved once per route, statement summary, cache
//! name or model ([`Stats::route`], [`Stats::query`], [`Stats::cache`],
//! [`Stats::model`], [`Stats::pool`]). A record is the clock read, an index
//! and a few relaxed atomic adds (see `benches/stats.rs`). A service that
//! does not want the view holds no [`Stats`] and its layers skip one `None`
//! check per call.
//!
//! Percentiles come from log-linear buckets ([`buckets`]) reported within
//! [`buckets::RELATIVE_ERROR`] (1/128 ≈ 0.78 %) from 128 µs up, and to the
//! microsecond below. Memory is bounded: each kind of name has one cap with
//! an `other` row past it, the view's ([`StatsBuilder`]) for routes,
//! statements and models, and each cache's for cache names (the same
//! registry decides the name's exported label, so the two never disagree).
//!
//! ```
//! use std::time::Duration;
//! use wingspan::http::RouteClass;
//! use wingspan::stats::Stats;
//! let stats = Stats::builder().build();
//! let users = stats.route("GET", "/users/{id}", RouteClass::Standard);
//! users.record(200, Duration::from_millis(12), opentelemetry::trace::TraceId::INVALID);
//! assert_eq!(stats.snapshot(5).api.count, 1);
//! ```

pub mod buckets;
mod builder;
mod clock;
mod filter_column;
mod handle;
mod n_plus_one;
mod plans;
mod recorders;
mod registry;
mod series;
mod snapshot;
pub(crate) mod vocabulary;

pub use builder::StatsBuilder;
pub use clock::{Clock, ManualClock};
pub use handle::{CacheGauge, Stats};
pub use n_plus_one::{NPlusOneFigures, NPlusOneStats};
pub use plans::{PlanCondition, PlanNode, QueryPlan, StatementPlan, MAX_PLANS};
pub use recorders::{CacheStats, ModelStats, PoolStats, QueryStats, RouteStats};
pub use snapshot::{
    CacheFigures, Figures, History, ModelFigures, QueryFigures, RouteFigures, RouteHistory,
    SlowTrace, Snapshot,
};

#[cfg(test)]
mod tests;
