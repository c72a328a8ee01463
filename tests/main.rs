//! Integration tests: one binary, one module per concern. What they share
//! (OTLP receivers, private Postgres and Redis, the wingman and browser
//! drivers) is the `wingspan-test-support` crate (crates/test-support).

use wingspan_test_support as support;

mod cache;
mod db;
mod faults;
mod health;
mod http;
mod llm;
mod port;
mod prometheus;
mod report;
mod telemetry;
mod wingman;
