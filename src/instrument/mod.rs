//! What every client call shares (crate-private): the CLIENT span's life and
//! the duration histograms. `db`, `cache`, `llm` and the outgoing HTTP client
//! use it, so their spans end, fail and cancel the same way.

// Each piece has a user in some feature; a build without all of them
// leaves some unused.
#![cfg_attr(
    not(all(feature = "postgres", feature = "redis", feature = "llm")),
    allow(dead_code, unused_imports)
)]

mod client_call;
mod deadline;
mod durations;

pub(crate) use client_call::{CallError, CallMetrics, ClientCall};
pub(crate) use deadline::within;
pub(crate) use durations::db_operation_duration;
