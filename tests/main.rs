//! Integration tests: one binary, one module per concern. What they share
//! (OTLP receivers, private Postgres and Redis, the wingman and browser
//! drivers) is the `wingspan-test-support` crate (crates/test-support).

use wingspan_test_support as support;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

/// A context whose remote parent is not sampled: a parent-based sampler
/// records nothing under it.
pub(crate) fn unsampled_parent() -> opentelemetry::Context {
    opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ))
}

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
