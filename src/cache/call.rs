//! One instrumented call: the CLIENT span, the duration, and the end of both
//! whether the call finishes, fails or is dropped mid-flight.

use std::borrow::Cow;
use std::time::Instant;

use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::Span;

use super::error::CacheError;
use super::instruments::Op;
use super::query::QueryText;
use super::Inner;

/// The command a call runs: a typed operation (bound histogram) or any other.
pub(crate) enum Command {
    Typed(Op),
    Other(String),
}

impl Command {
    fn name(&self) -> &str {
        match self {
            Command::Typed(op) => op.name(),
            Command::Other(name) => name,
        }
    }
}

pub(crate) struct Call<'a> {
    inner: &'a Inner,
    command: Command,
    span: Span,
    start: Instant,
    done: bool,
}

impl<'a> Call<'a> {
    /// Starts the span under `Context::current()`; `query` writes the
    /// arguments of `db.query.text`, and only runs when the span records.
    pub(crate) fn start(
        inner: &'a Inner,
        command: Command,
        query: impl FnOnce(&mut QueryText),
    ) -> Self {
        let name: Cow<'static, str> = match &command {
            Command::Typed(op) => Cow::Borrowed(op.name()),
            Command::Other(name) => Cow::Owned(name.clone()),
        };
        let mut attributes = Vec::with_capacity(inner.base_attributes.len() + 2);
        attributes.extend_from_slice(&inner.base_attributes);
        attributes.push(KeyValue::new("db.operation.name", name.clone()));
        let mut span = inner
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&inner.tracer, &Context::current());
        if span.is_recording() {
            let mut text = QueryText::new(command.name(), inner.key_display, inner.separator);
            query(&mut text);
            span.set_attribute(KeyValue::new("db.query.text", text.finish()));
        }
        Self {
            inner,
            command,
            span,
            start: Instant::now(),
            done: false,
        }
    }

    /// Ends a successful call; `hit` is `wingspan.cache.hit` on reads.
    pub(crate) fn ok(mut self, hit: Option<bool>) {
        self.done = true;
        let seconds = self.start.elapsed().as_secs_f64();
        match &self.command {
            Command::Typed(op) => self.inner.instruments.ok(*op, seconds),
            Command::Other(name) => self.inner.instruments.record(name, None, seconds),
        }
        if let Some(hit) = hit {
            self.span
                .set_attribute(KeyValue::new("wingspan.cache.hit", hit));
        }
        self.span.end();
    }

    /// Adds an attribute, e.g. `db.operation.batch.size`.
    pub(crate) fn set_attribute(&mut self, kv: KeyValue) {
        self.span.set_attribute(kv);
    }

    /// Ends a failed call with `error.type` (and the Redis error prefix as
    /// `db.response.status_code` when Redis replied with an error).
    pub(crate) fn err(mut self, error: &CacheError) {
        self.done = true;
        self.fail(error.error_type().to_owned(), error.status_code());
    }

    fn fail(&mut self, error_type: String, status_code: Option<&str>) {
        let seconds = self.start.elapsed().as_secs_f64();
        self.inner
            .instruments
            .record(self.command.name(), Some(&error_type), seconds);
        if let Some(code) = status_code {
            self.span
                .set_attribute(KeyValue::new("db.response.status_code", code.to_owned()));
        }
        self.span
            .set_attribute(KeyValue::new("error.type", error_type.clone()));
        self.span.set_status(Status::error(error_type));
        self.span.end();
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        if !self.done {
            // The caller's future was dropped mid-flight (a timeout or a
            // cancelled request above us): the span still ends.
            self.fail("canceled".to_owned(), None);
        }
    }
}
