//! [`CommandAttributes`]: the application's own attributes on a cache
//! command's span, and the caller's operation name
//! ([`operation`](super::operation)), added once the span is known to
//! record.

use std::fmt;
use std::sync::Arc;

use opentelemetry::{Context, KeyValue};

use super::query::CommandText;
use super::Shared;
use crate::hooks::{operation_attribute, operation_name, Attributes, MAX_HOOK_ATTRIBUTES};

/// Adds the application's attributes to the span of each cache command (a
/// pipeline is one), from what wingspan already knows of it ([`CallInfo`]:
/// the command, the first key's cache name, the caller's operation name).
/// Never a key or a value.
///
/// Span attributes only: they never reach `db.client.operation.duration` or
/// `wingspan.cache.requests`, whose attributes stay closed sets, so a
/// per-tenant value cannot multiply their series. Bounded: at most
/// [`MAX_HOOK_ATTRIBUTES`] per call, string values cut to 1024 bytes (and
/// to `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` by the SDK), arrays to
/// [`MAX_HOOK_ATTRIBUTES`] items. Called only for a span that records: an
/// unsampled command (or the SDK disabled) never calls it; it runs on the
/// calling task before the command is sent, so keep it to a lookup.
///
/// A closure `Fn(&CallInfo, &mut Attributes)` is a hook.
///
/// ```
/// use wingspan::cache::{Attributes, CallInfo, CommandAttributes};
///
/// struct Region(&'static str);
/// impl CommandAttributes for Region {
///     fn on_call(&self, call: &CallInfo<'_>, attrs: &mut Attributes<'_>) {
///         attrs.add("app.cache.region", self.0);
///         if call.cache_name() == Some("sessions") {
///             attrs.add("app.cache.critical", true);
///         }
///     }
/// }
/// ```
pub trait CommandAttributes: Send + Sync + 'static {
    /// Called when the command's span has started and records. Defaults to
    /// adding nothing.
    fn on_call(&self, call: &CallInfo<'_>, attributes: &mut Attributes<'_>) {
        let _ = (call, attributes);
    }
}

impl<F> CommandAttributes for F
where
    F: Fn(&CallInfo<'_>, &mut Attributes<'_>) + Send + Sync + 'static,
{
    fn on_call(&self, call: &CallInfo<'_>, attributes: &mut Attributes<'_>) {
        self(call, attributes);
    }
}

/// A hook as the builder holds it (the builder is `Debug`; a hook need not be).
#[derive(Clone)]
pub(crate) struct Hook(pub(crate) Arc<dyn CommandAttributes>);

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CommandAttributes")
    }
}

/// What a [`CommandAttributes`] hook knows of a cache command: what its
/// span already carries, never a key or a value.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    command: &'a str,
    cache_name: Option<&'a str>,
    operation_name: Option<&'a str>,
}

impl<'a> CallInfo<'a> {
    /// The command (`db.operation.name`: `GET`, `SET`, `PIPELINE`, ...).
    pub fn command(&self) -> &'a str {
        self.command
    }

    /// The cache name of the command's first key (its prefix, `default`,
    /// or `other`, as `wingspan.cache.name` counts it), when it has a key.
    pub fn cache_name(&self) -> Option<&'a str> {
        self.cache_name
    }

    /// The caller's operation name (`wingspan.operation.name`, from
    /// [`operation`](super::operation)), when the command runs inside
    /// one.
    pub fn operation_name(&self) -> Option<&'a str> {
        self.operation_name
    }
}

/// The operation name of `cx` and the cache's hook's attributes, for a
/// command whose span records (the caller checked); `text` is its
/// `db.query.text`, written, from which the first key's cache name comes.
pub(crate) fn attributes(
    shared: &Shared,
    cx: &Context,
    command: &str,
    text: &CommandText<'_>,
) -> Vec<KeyValue> {
    let operation = operation_attribute(cx);
    let Some(hook) = &shared.command_attributes else {
        return operation.into_iter().collect();
    };
    let mut added = Vec::with_capacity(MAX_HOOK_ATTRIBUTES + 1);
    added.extend(operation);
    let info = CallInfo {
        command,
        cache_name: text.cache_name(),
        operation_name: operation_name(cx).map(|n| n.as_str()),
    };
    hook.on_call(&info, &mut Attributes::new(&mut added));
    added
}
