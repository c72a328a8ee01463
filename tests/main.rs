//! Integration tests.

mod support;
mod telemetry;
