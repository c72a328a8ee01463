//! One cache command as a client call: the shared [`ClientCall`] with the
//! cache's metrics (bound per typed command) and `wingspan.cache.hit`.

use std::borrow::Cow;

use opentelemetry::trace::{SpanKind, Tracer as _};
use opentelemetry::{Context, KeyValue};

use super::error::CacheError;
use super::instruments::Op;
use super::query::CommandText;
use super::Shared;
use crate::instrument::{CallError, CallMetrics, ClientCall};
use crate::names;

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

/// Where one command's duration goes.
pub(crate) struct CommandMetrics<'a> {
    shared: &'a Shared,
    command: Command,
}

impl CallMetrics for CommandMetrics<'_> {
    fn ok(&self, seconds: f64) {
        match &self.command {
            Command::Typed(op) => self.shared.instruments.ok(*op, seconds),
            Command::Other(name) => self.shared.instruments.record(name, None, seconds),
        }
    }

    fn failed(&self, seconds: f64, error_type: &str, _status_code: Option<&str>) {
        self.shared
            .instruments
            .record(self.command.name(), Some(error_type), seconds);
    }
}

impl CallError for CacheError {
    fn error_type(&self) -> &str {
        CacheError::error_type(self)
    }

    fn status_code(&self) -> Option<&str> {
        CacheError::status_code(self)
    }
}

pub(crate) struct Call<'a> {
    call: ClientCall<CommandMetrics<'a>>,
}

impl<'a> Call<'a> {
    /// Starts the span under `Context::current()`; `query` writes the
    /// arguments of `db.query.text`, and only runs when the span records.
    pub(crate) fn start(
        shared: &'a Shared,
        command: Command,
        query: impl FnOnce(&mut CommandText),
    ) -> Self {
        let parent = Context::current();
        let metrics = CommandMetrics { shared, command };
        let mut call = if shared.recording.may_record(&parent) {
            let name: Cow<'static, str> = match &metrics.command {
                Command::Typed(op) => Cow::Borrowed(op.name()),
                Command::Other(name) => Cow::Owned(name.clone()),
            };
            let mut attributes = Vec::with_capacity(shared.base_attributes.len() + 2);
            attributes.extend_from_slice(&shared.base_attributes);
            attributes.push(KeyValue::new(names::DB_OPERATION_NAME, name.clone()));
            let builder = shared
                .tracer
                .span_builder(name)
                .with_kind(SpanKind::Client)
                .with_attributes(attributes);
            ClientCall::start(&shared.tracer, builder, &parent, metrics)
        } else {
            // Nothing built for a span that cannot record.
            ClientCall::untraced(metrics)
        };
        if call.is_recording() {
            let command = call.metrics().command.name();
            let mut text = CommandText::new(command, shared.key_display, &shared.naming);
            query(&mut text);
            // The caller's operation name and the cache's attribute hook (hook.rs).
            let added = super::hook::attributes(shared, &parent, command, &text);
            call.set_attribute(KeyValue::new(names::DB_QUERY_TEXT, text.finish()));
            added.into_iter().for_each(|kv| call.set_attribute(kv));
        }
        Self { call }
    }

    /// Ends a successful call; `hit` is `wingspan.cache.hit` on reads.
    pub(crate) fn ok(mut self, hit: Option<bool>) {
        if let Some(hit) = hit {
            self.call
                .set_attribute(KeyValue::new(names::WINGSPAN_CACHE_HIT, hit));
        }
        self.call.ok();
    }

    /// Time since the command started (for the in-process view).
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        self.call.elapsed()
    }

    /// Adds an attribute, e.g. `db.operation.batch.size`.
    pub(crate) fn set_attribute(&mut self, kv: KeyValue) {
        self.call.set_attribute(kv);
    }

    /// Ends a failed call with `error.type` (and the Redis error prefix as
    /// `db.response.status_code` when Redis replied with an error).
    pub(crate) fn err(self, error: &CacheError) {
        self.call.fail(error);
    }
}
