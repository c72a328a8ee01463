//! Integration tests.

mod cache;
mod support;
mod telemetry;
