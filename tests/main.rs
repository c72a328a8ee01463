//! Integration tests.

mod http;
mod support;
mod telemetry;
