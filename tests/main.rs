//! Integration tests.

mod cache;
mod http;
mod support;
mod telemetry;
