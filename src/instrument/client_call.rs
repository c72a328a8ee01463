//! One instrumented client call: a CLIENT span started under the caller's
//! context, timed from its start, and ended exactly once, whether the call
//! succeeds, fails, or its future is dropped mid-flight (then it fails as
//! `error.type=canceled`).

use std::time::Instant;

use opentelemetry::trace::{Span as _, SpanBuilder, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, Span};

use crate::names;

/// What a failed call reports: `error.type`, and the status code the server
/// answered with, if any (a SQLSTATE, a Redis error prefix, an HTTP status).
pub(crate) trait CallError {
    /// A low-cardinality class, used as `error.type` on the span and the
    /// duration metric.
    fn error_type(&self) -> &str;

    /// The server's status code, recorded as the span attribute that
    /// [`CallMetrics::status_attribute`] names. Defaults to none.
    fn status_code(&self) -> Option<&str> {
        None
    }
}

/// Where a call's duration goes. Implemented by each client's instrument
/// holder, which knows its bound (pre-built) attribute sets.
pub(crate) trait CallMetrics {
    /// A successful call took `seconds`.
    fn ok(&self, seconds: f64);

    /// A failed (or canceled) call took `seconds`.
    fn failed(&self, seconds: f64, error_type: &str, status_code: Option<&str>);

    /// The span attribute that carries [`CallError::status_code`]. Defaults
    /// to `db.response.status_code`.
    fn status_attribute(&self) -> &'static str {
        names::DB_RESPONSE_STATUS_CODE
    }
}

/// Where the span lives: owned (the fast path for db and cache), or inside a
/// [`Context`] when child spans must name it as their parent (an LLM call
/// whose HTTP attempts nest under it).
// `Owned` is boxed: the SDK's span is some 400 bytes, and inline it made
// every query's and command's future that much larger, copied at each
// `.await` that moves it (the process bench's profile: memcpy was a third
// of what wingspan added with the SDK off). The allocation is paid only by a
// span that records, beside the span's own.
enum Slot {
    Owned(Box<Span>),
    InContext(Context),
    /// No span: one that could not record was never built (the durations
    /// are still recorded, and a dropped call still counts as canceled).
    Untraced,
    Ended,
}

/// An in-flight client call. Ends its span on [`ok`](Self::ok),
/// [`fail`](Self::fail) or drop.
pub(crate) struct ClientCall<M: CallMetrics> {
    slot: Slot,
    start: Instant,
    metrics: M,
}

impl<M: CallMetrics> ClientCall<M> {
    /// Starts the span under `parent` and the clock.
    pub(crate) fn start(
        tracer: &SdkTracer,
        builder: SpanBuilder,
        parent: &Context,
        metrics: M,
    ) -> Self {
        let span = tracer.build_with_context(builder, parent);
        Self::running(Slot::Owned(Box::new(span)), metrics)
    }

    /// A call without a span, for one that could not record (the SDK
    /// disabled, a parent that is not sampled): only its clock and metrics.
    pub(crate) fn untraced(metrics: M) -> Self {
        Self::running(Slot::Untraced, metrics)
    }

    /// Like [`start`](Self::start), with the span kept in a context that
    /// [`context`](Self::context) hands to calls nested under this one.
    pub(crate) fn start_in_context(
        tracer: &SdkTracer,
        builder: SpanBuilder,
        parent: &Context,
        metrics: M,
    ) -> Self {
        let span = tracer.build_with_context(builder, parent);
        Self::running(Slot::InContext(parent.with_span(span)), metrics)
    }

    /// The clock starts once the span exists, so the span's own setup is
    /// not counted as the call's duration.
    fn running(slot: Slot, metrics: M) -> Self {
        Self {
            slot,
            start: Instant::now(),
            metrics,
        }
    }

    /// The context to run nested calls under: this call's span as the
    /// parent when started with [`start_in_context`](Self::start_in_context),
    /// else the current one.
    pub(crate) fn context(&self) -> Context {
        match &self.slot {
            Slot::InContext(cx) => cx.clone(),
            Slot::Owned(_) | Slot::Untraced | Slot::Ended => Context::current(),
        }
    }

    /// Whether the span records (sampled): build costly attributes only then.
    pub(crate) fn is_recording(&self) -> bool {
        match &self.slot {
            Slot::Owned(span) => span.is_recording(),
            Slot::InContext(cx) => cx.span().is_recording(),
            Slot::Untraced | Slot::Ended => false,
        }
    }

    /// Adds an attribute to the span.
    pub(crate) fn set_attribute(&mut self, kv: KeyValue) {
        match &mut self.slot {
            Slot::Owned(span) => span.set_attribute(kv),
            Slot::InContext(cx) => cx.span().set_attribute(kv),
            Slot::Untraced | Slot::Ended => {}
        }
    }

    /// The instrument holder this call records into.
    pub(crate) fn metrics(&self) -> &M {
        &self.metrics
    }

    /// The instrument holder, to add what is learnt mid-call (an LLM
    /// call's response model) before it records.
    pub(crate) fn metrics_mut(&mut self) -> &mut M {
        &mut self.metrics
    }

    /// When the call started: deadlines count from it, so no second
    /// clock read.
    pub(crate) fn started(&self) -> Instant {
        self.start
    }

    /// Time since the call started.
    pub(crate) fn elapsed_secs(&self) -> f64 {
        self.elapsed().as_secs_f64()
    }

    /// Time since the call started.
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        self.start.elapsed()
    }

    /// Ends a successful call: records its duration, ends the span, and
    /// returns the duration in seconds.
    pub(crate) fn ok(mut self) -> f64 {
        let seconds = self.elapsed_secs();
        self.metrics.ok(seconds);
        self.end(None);
        seconds
    }

    /// Ends a failed call with `error.type` and the status code.
    pub(crate) fn fail(mut self, error: &dyn CallError) -> f64 {
        self.fail_with(error.error_type(), error.status_code())
    }

    fn fail_with(&mut self, error_type: &str, status_code: Option<&str>) -> f64 {
        let seconds = self.elapsed_secs();
        self.metrics.failed(seconds, error_type, status_code);
        if let Some(code) = status_code {
            let key = self.metrics.status_attribute();
            self.set_attribute(KeyValue::new(key, code.to_owned()));
        }
        self.set_attribute(KeyValue::new(names::ERROR_TYPE, error_type.to_owned()));
        // The description is the class only: a server's message can hold
        // row values or prompt text.
        self.end(Some(Status::error(error_type.to_owned())));
        seconds
    }

    fn end(&mut self, status: Option<Status>) {
        match std::mem::replace(&mut self.slot, Slot::Ended) {
            Slot::Owned(mut span) => {
                if let Some(status) = status {
                    span.set_status(status);
                }
                span.end();
            }
            Slot::InContext(cx) => {
                let span = cx.span();
                if let Some(status) = status {
                    span.set_status(status);
                }
                span.end();
            }
            Slot::Untraced | Slot::Ended => {}
        }
    }
}

impl<M: CallMetrics> Drop for ClientCall<M> {
    fn drop(&mut self) {
        if !matches!(self.slot, Slot::Ended) {
            // The caller's future was dropped mid-flight (a client gone, a
            // handler's own timeout): the span still ends, as canceled.
            self.fail_with(names::ERROR_CANCELED, None);
        }
    }
}
