//! Attribute value length limits.
//!
//! The SDK (0.33) has span limits for counts but none for value length, so
//! wingspan applies `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` /
//! `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` when a span ends, before it is
//! queued: a queue of 2048 spans then holds at most 2048 capped spans,
//! whatever the clients sent. The HTTP layer also caps header-derived values
//! at the source (`wingspan::http::HEADER_VALUE_LIMIT`), so a 300 KB header
//! is never copied at all.

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanData;

/// `s` cut to at most `max_chars` characters (the specification counts
/// characters), or `None` when it is not longer than that.
pub(crate) fn prefix_chars(s: &str, max_chars: usize) -> Option<&str> {
    // Cheap exits: fewer bytes than the limit means fewer characters too.
    if s.len() <= max_chars {
        return None;
    }
    s.char_indices().nth(max_chars).map(|(end, _)| &s[..end])
}

fn limit_string(s: &mut StringValue, max_chars: usize) {
    if let Some(cut) = prefix_chars(s.as_str(), max_chars) {
        *s = StringValue::from(cut.to_owned());
    }
}

/// Caps a string value, or every string of a string array.
pub(crate) fn limit_value(value: &mut Value, max_chars: usize) {
    match value {
        Value::String(s) => limit_string(s, max_chars),
        Value::Array(Array::String(items)) => {
            for s in items {
                limit_string(s, max_chars);
            }
        }
        _ => {}
    }
}

fn limit_all(attributes: &mut [KeyValue], max_chars: usize) {
    for kv in attributes {
        limit_value(&mut kv.value, max_chars);
    }
}

/// Caps every attribute value of a span, its events and its links.
pub(crate) fn limit_span(span: &mut SpanData, max_chars: usize) {
    limit_all(&mut span.attributes, max_chars);
    for event in &mut span.events.events {
        limit_all(&mut event.attributes, max_chars);
    }
    for link in &mut span.links.links {
        limit_all(&mut link.attributes, max_chars);
    }
}

/// The attribute the `tracing` bridge (tracing-opentelemetry) puts on every
/// application span: the conventions (v1.44) register no `code.module.name`
/// (`code.file.path`, `code.line.number` and `code.function.name` stay).
const BRIDGE_SPAN_KEY: &str = "code.module.name";
/// The attributes the bridge puts on every span event (a `tracing` event
/// inside a span): the event's level and target, which the conventions do
/// not register. The same event is exported as a log record by the log
/// bridge, whose severity and instrumentation scope carry them.
const BRIDGE_EVENT_KEYS: [&str; 2] = ["level", "target"];

/// Removes the `tracing` bridge's unregistered keys: `code.module.name` from
/// the span, and `level`, `target` and `code.module.name` from each event
/// that carries both `level` and `target` (the bridge's events always do; an
/// event set through the OTel API with only one of them keeps all three).
/// Touches only what has them: no allocation.
pub(crate) fn strip_bridge_keys(span: &mut SpanData) {
    if span
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == BRIDGE_SPAN_KEY)
    {
        span.attributes
            .retain(|kv| kv.key.as_str() != BRIDGE_SPAN_KEY);
    }
    for event in &mut span.events.events {
        let has = |key: &str| event.attributes.iter().any(|kv| kv.key.as_str() == key);
        if BRIDGE_EVENT_KEYS.iter().all(|key| has(key)) {
            event.attributes.retain(|kv| {
                let key = kv.key.as_str();
                key != BRIDGE_SPAN_KEY && !BRIDGE_EVENT_KEYS.contains(&key)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_are_counted_as_the_specification_says() {
        assert_eq!(prefix_chars("ééé", 2), Some("éé"));
        assert_eq!(prefix_chars("ééé", 3), None);
        assert_eq!(prefix_chars("abc", 3), None);
        assert_eq!(prefix_chars("abcd", 0), Some(""));
    }

    #[test]
    fn arrays_of_strings_are_capped_item_by_item() {
        let mut v = Value::Array(Array::String(vec!["abcdef".into(), "ab".into()]));
        limit_value(&mut v, 3);
        assert_eq!(
            v,
            Value::Array(Array::String(vec!["abc".into(), "ab".into()]))
        );
        let mut n = Value::I64(123_456);
        limit_value(&mut n, 1);
        assert_eq!(n, Value::I64(123_456));
    }

    fn span_with(attributes: Vec<KeyValue>, events: Vec<Vec<KeyValue>>) -> SpanData {
        use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
        use opentelemetry::InstrumentationScope;
        use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
        use std::time::SystemTime;
        let mut span_events = SpanEvents::default();
        span_events.events = events
            .into_iter()
            .map(|a| opentelemetry::trace::Event::new("e", SystemTime::now(), a, 0))
            .collect();
        SpanData {
            span_context: SpanContext::empty_context(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "s".into(),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes,
            dropped_attributes_count: 0,
            events: span_events,
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    fn keys(attributes: &[KeyValue]) -> Vec<&str> {
        attributes.iter().map(|kv| kv.key.as_str()).collect()
    }

    #[test]
    fn the_bridges_unregistered_keys_are_stripped() {
        let mut span = span_with(
            vec![
                KeyValue::new("code.module.name", "app::users"),
                KeyValue::new("code.file.path", "src/users.rs"),
                KeyValue::new("code.line.number", 12),
                KeyValue::new("user.id", "42"),
            ],
            vec![
                vec![
                    KeyValue::new("level", "INFO"),
                    KeyValue::new("target", "app::users"),
                    KeyValue::new("code.module.name", "app::users"),
                    KeyValue::new("code.line.number", 13),
                    KeyValue::new("user.id", "42"),
                ],
                // Not the bridge's: only one of the two keys.
                vec![
                    KeyValue::new("level", "high"),
                    KeyValue::new("code.module.name", "m"),
                ],
            ],
        );
        strip_bridge_keys(&mut span);
        assert_eq!(
            keys(&span.attributes),
            ["code.file.path", "code.line.number", "user.id"]
        );
        assert_eq!(
            keys(&span.events.events[0].attributes),
            ["code.line.number", "user.id"]
        );
        assert_eq!(
            keys(&span.events.events[1].attributes),
            ["level", "code.module.name"]
        );
    }

    #[test]
    fn a_span_without_them_is_left_as_it_is() {
        let mut span = span_with(vec![KeyValue::new("http.route", "/x")], vec![vec![]]);
        strip_bridge_keys(&mut span);
        assert_eq!(keys(&span.attributes), ["http.route"]);
        assert!(span.events.events[0].attributes.is_empty());
    }
}
