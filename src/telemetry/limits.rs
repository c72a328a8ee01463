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
}
