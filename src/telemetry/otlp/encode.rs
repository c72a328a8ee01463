//! OTLP trace requests written straight from the SDK's [`SpanData`] to
//! protobuf bytes.
//!
//! Every OTLP exporter of the Rust SDK first converts a batch into
//! opentelemetry-proto's message structs and then lets prost encode them. On
//! the process bench those two steps were most of what exporting costs: per
//! span about 8 500 instructions converting (a `String` and a `Vec` for
//! every attribute, a clone of the whole batch) and 11 000 encoding (prost
//! walks each nested message once to size it for every level it is nested
//! in). This writer reads the `SpanData` where it lies and writes each field
//! once: a nested message reserves the one or two bytes its length usually
//! needs, and the rare longer one is moved up by the difference; an
//! attribute with a scalar value (nearly all) has its lengths computed
//! first and written straight. The resource, the same in every request, is
//! encoded once.
//!
//! The bytes are the ones prost writes for the same request, field for
//! field (the tests decode them with opentelemetry-proto and compare with
//! its own conversion, and compare the bytes).

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceState};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

/// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// `SpanFlags`: the parent's remoteness is known, and whether it is remote.
const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const CONTEXT_IS_REMOTE: u32 = 0x200;

/// The resource's message (`Resource`, not its field key), encoded once per
/// exporter, and the resource's schema URL.
#[derive(Debug, Clone, Default)]
pub(crate) struct EncodedResource {
    message: Vec<u8>,
    schema_url: String,
}

impl EncodedResource {
    pub(crate) fn new(resource: &Resource) -> Self {
        let mut message = Vec::new();
        for (k, v) in resource.iter() {
            message_field(&mut message, 1, 1, |b| key_value(b, k.as_str(), v));
        }
        Self {
            message,
            schema_url: resource.schema_url().unwrap_or_default().to_owned(),
        }
    }
}

/// An `ExportTraceServiceRequest` holding `batch`, its spans grouped by
/// instrumentation scope in the order each scope first appears, appended to
/// `out`. Never inlined: the process bench's callgrind profile counts it by
/// name.
#[inline(never)]
pub(crate) fn trace_request(out: &mut Vec<u8>, batch: &[SpanData], resource: &EncodedResource) {
    // Scopes are few (wingspan's, the tracing bridge's): a linear search
    // beats hashing each span's scope.
    let mut scopes: Vec<(&InstrumentationScope, Vec<&SpanData>)> = Vec::new();
    for span in batch {
        let scope = &span.instrumentation_scope;
        match scopes.iter_mut().find(|(s, _)| *s == scope) {
            Some((_, spans)) => spans.push(span),
            None => scopes.push((scope, vec![span])),
        }
    }
    // ResourceSpans: resource = 1, scope_spans = 2, schema_url = 3.
    message_field(out, 1, 3, |b| {
        key(b, 1, LEN);
        varint(b, resource.message.len() as u64);
        b.extend_from_slice(&resource.message);
        for (scope, spans) in &scopes {
            message_field(b, 2, 3, |b| scope_spans(b, scope, spans));
        }
        string_field(b, 3, &resource.schema_url);
    });
}

/// `ScopeSpans`: scope = 1, spans = 2, schema_url = 3.
fn scope_spans(b: &mut Vec<u8>, scope: &InstrumentationScope, spans: &[&SpanData]) {
    message_field(b, 1, 1, |b| {
        string_field(b, 1, scope.name());
        string_field(b, 2, scope.version().unwrap_or_default());
        for kv in scope.attributes() {
            message_field(b, 3, 1, |b| key_value(b, kv.key.as_str(), &kv.value));
        }
    });
    for span in spans {
        message_field(b, 2, 2, |b| encode_span(b, span));
    }
    string_field(b, 3, scope.schema_url().unwrap_or_default());
}

/// `Span`, fields in the order prost writes them: by field number.
fn encode_span(b: &mut Vec<u8>, span: &SpanData) {
    let cx = &span.span_context;
    bytes_field(b, 1, &cx.trace_id().to_bytes());
    bytes_field(b, 2, &cx.span_id().to_bytes());
    trace_state(b, 3, cx.trace_state());
    if span.parent_span_id != SpanId::INVALID {
        bytes_field(b, 4, &span.parent_span_id.to_bytes());
    }
    string_field(b, 5, &span.name);
    varint_field(b, 6, span_kind(&span.span_kind));
    fixed64_field(b, 7, nanos(span.start_time));
    fixed64_field(b, 8, nanos(span.end_time));
    attributes(b, 9, &span.attributes);
    varint_field(b, 10, u64::from(span.dropped_attributes_count));
    for event in span.events.iter() {
        message_field(b, 11, 1, |b| {
            fixed64_field(b, 1, nanos(event.timestamp));
            string_field(b, 2, &event.name);
            attributes(b, 3, &event.attributes);
            varint_field(b, 4, u64::from(event.dropped_attributes_count));
        });
    }
    varint_field(b, 12, u64::from(span.events.dropped_count));
    for link in span.links.iter() {
        let lcx = &link.span_context;
        message_field(b, 13, 1, |b| {
            bytes_field(b, 1, &lcx.trace_id().to_bytes());
            bytes_field(b, 2, &lcx.span_id().to_bytes());
            trace_state(b, 3, lcx.trace_state());
            attributes(b, 4, &link.attributes);
            varint_field(b, 5, u64::from(link.dropped_attributes_count));
            fixed32_field(b, 6, flags(lcx.is_remote(), lcx.trace_flags().to_u8()));
        });
    }
    varint_field(b, 14, u64::from(span.links.dropped_count));
    // Status: message = 2, code = 3; always present, as the SDK's exporters
    // send it.
    message_field(b, 15, 1, |b| match &span.status {
        Status::Unset => {}
        Status::Ok => varint_field(b, 3, 1),
        Status::Error { description } => {
            string_field(b, 2, description);
            varint_field(b, 3, 2);
        }
    });
    fixed32_field(
        b,
        16,
        flags(span.parent_span_is_remote, cx.trace_flags().to_u8()),
    );
}

fn flags(parent_is_remote: bool, trace_flags: u8) -> u32 {
    let mut flags = u32::from(trace_flags) | CONTEXT_HAS_IS_REMOTE;
    if parent_is_remote {
        flags |= CONTEXT_IS_REMOTE;
    }
    flags
}

fn span_kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn trace_state(b: &mut Vec<u8>, field: u32, ts: &TraceState) {
    // The header is built (a `String`) only for a non-empty trace state.
    if *ts != TraceState::NONE {
        string_field(b, field, &ts.header());
    }
}

fn attributes(b: &mut Vec<u8>, field: u32, kvs: &[KeyValue]) {
    for kv in kvs {
        let key_str = kv.key.as_str();
        match scalar_len(&kv.value) {
            // Nearly every attribute: a scalar, whose lengths are known
            // before it is written, so both length prefixes go straight in
            // (no reserve, no move, no patch: a third of what encoding an
            // attribute cost on the process bench's profile).
            Some(value_len) => {
                let key_len = if key_str.is_empty() {
                    0
                } else {
                    1 + varint_len(key_str.len() as u64) + key_str.len()
                };
                let kv_len = key_len + 1 + varint_len(value_len as u64) + value_len;
                key(b, field, LEN);
                varint(b, kv_len as u64);
                string_field(b, 1, key_str);
                key(b, 2, LEN);
                varint(b, value_len as u64);
                any_value(b, &kv.value);
            }
            None => message_field(b, field, 1, |b| key_value(b, key_str, &kv.value)),
        }
    }
}

/// The encoded length of a scalar `AnyValue` (its one-of field, which is
/// written even when it holds its type's default); `None` for an array or
/// a kind of value a later API adds.
fn scalar_len(value: &Value) -> Option<usize> {
    match value {
        Value::String(s) => {
            let n = s.as_str().len();
            Some(1 + varint_len(n as u64) + n)
        }
        Value::Bool(_) => Some(2),
        Value::I64(v) => Some(1 + varint_len(*v as u64)),
        Value::F64(_) => Some(9),
        _ => None,
    }
}

/// `KeyValue`: key = 1, value = 2 (an `AnyValue`, always present).
fn key_value(b: &mut Vec<u8>, key_str: &str, value: &Value) {
    string_field(b, 1, key_str);
    message_field(b, 2, 1, |b| any_value(b, value));
}

/// `AnyValue`'s one-of: string = 1, bool = 2, int = 3, double = 4, array = 5.
/// A set one-of field is written even when it holds its type's default.
fn any_value(b: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => {
            key(b, 1, LEN);
            len_bytes(b, s.as_str().as_bytes());
        }
        Value::Bool(v) => {
            key(b, 2, VARINT);
            varint(b, u64::from(*v));
        }
        Value::I64(v) => {
            key(b, 3, VARINT);
            varint(b, *v as u64);
        }
        Value::F64(v) => {
            key(b, 4, FIXED64);
            b.extend_from_slice(&v.to_le_bytes());
        }
        Value::Array(array) => message_field(b, 5, 1, |b| match array {
            Array::Bool(vs) => each(b, vs, |v| Value::Bool(*v)),
            Array::I64(vs) => each(b, vs, |v| Value::I64(*v)),
            Array::F64(vs) => each(b, vs, |v| Value::F64(*v)),
            Array::String(vs) => {
                for v in vs {
                    message_field(b, 1, 1, |b| {
                        key(b, 1, LEN);
                        len_bytes(b, v.as_str().as_bytes());
                    });
                }
            }
            // A kind of array a later API adds: its text, never a panic.
            other => message_field(b, 1, 1, |b| {
                key(b, 1, LEN);
                len_bytes(b, other.to_string().as_bytes());
            }),
        }),
        // A kind of value a later API adds: its text, never a panic.
        other => {
            key(b, 1, LEN);
            len_bytes(b, other.to_string().as_bytes());
        }
    }
}

/// The `ArrayValue`'s `values` (field 1) of scalar elements.
fn each<T>(b: &mut Vec<u8>, vs: &[T], value: impl Fn(&T) -> Value) {
    for v in vs {
        message_field(b, 1, 1, |b| any_value(b, &value(v)));
    }
}

// --- Protobuf primitives ------------------------------------------------

fn varint(b: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        b.push((v as u8) | 0x80);
        v >>= 7;
    }
    b.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    // 1 byte per 7 bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn key(b: &mut Vec<u8>, field: u32, wire: u32) {
    varint(b, u64::from((field << 3) | wire));
}

fn len_bytes(b: &mut Vec<u8>, bytes: &[u8]) {
    varint(b, bytes.len() as u64);
    b.extend_from_slice(bytes);
}

/// A proto3 `bytes` field: absent when empty.
fn bytes_field(b: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    if !bytes.is_empty() {
        key(b, field, LEN);
        len_bytes(b, bytes);
    }
}

/// A proto3 `string` field: absent when empty.
fn string_field(b: &mut Vec<u8>, field: u32, s: &str) {
    bytes_field(b, field, s.as_bytes());
}

/// A proto3 varint field (`uint32`, enum): absent when zero.
fn varint_field(b: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        key(b, field, VARINT);
        varint(b, v);
    }
}

fn fixed64_field(b: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        key(b, field, FIXED64);
        b.extend_from_slice(&v.to_le_bytes());
    }
}

fn fixed32_field(b: &mut Vec<u8>, field: u32, v: u32) {
    if v != 0 {
        key(b, field, FIXED32);
        b.extend_from_slice(&v.to_le_bytes());
    }
}

/// A nested message field (always written, even empty, as prost writes a
/// set optional message). `reserve` is the length prefix's usual size in
/// bytes; a body whose length needs another size is moved by the
/// difference, so the prefix is always the shortest varint.
fn message_field(b: &mut Vec<u8>, field: u32, reserve: usize, body: impl FnOnce(&mut Vec<u8>)) {
    key(b, field, LEN);
    let start = b.len();
    b.resize(start + reserve, 0);
    body(b);
    let len = b.len() - start - reserve;
    let need = varint_len(len as u64);
    if need > reserve {
        let grow = need - reserve;
        let end = b.len();
        b.resize(end + grow, 0);
        b.copy_within(start + reserve..end, start + need);
    } else if need < reserve {
        b.copy_within(start + reserve.., start + need);
        b.truncate(b.len() - (reserve - need));
    }
    let mut prefix = [0u8; 10];
    let mut v = len as u64;
    for slot in prefix.iter_mut().take(need) {
        *slot = (v as u8 & 0x7f) | if v >= 0x80 { 0x80 } else { 0 };
        v >>= 7;
    }
    b[start..start + need].copy_from_slice(&prefix[..need]);
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use opentelemetry::trace::{SpanContext, TraceFlags, TraceId};
    use opentelemetry::{InstrumentationScope, StringValue};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use proptest::prelude::*;
    use prost::Message as _;

    use super::*;

    /// What every OTLP exporter of the SDK sends for `batch`.
    fn reference(batch: &[SpanData], resource: &Resource) -> ExportTraceServiceRequest {
        let resource = ResourceAttributesWithSchema::from(resource);
        ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch.to_vec(), &resource),
        }
    }

    fn ours(batch: &[SpanData], resource: &Resource) -> Vec<u8> {
        let mut out = Vec::new();
        trace_request(&mut out, batch, &EncodedResource::new(resource));
        out
    }

    /// Decoded, ours equals the reference; and the bytes are prost's.
    fn assert_same(batch: &[SpanData], resource: &Resource) {
        let bytes = ours(batch, resource);
        let expected = reference(batch, resource);
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(decoded, expected);
        assert_eq!(bytes, expected.encode_to_vec());
    }

    fn context(trace: u128, span: u64, flags: u8, state: &str, remote: bool) -> SpanContext {
        let state: TraceState = if state.is_empty() {
            TraceState::NONE
        } else {
            state.parse().unwrap()
        };
        SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            TraceFlags::new(flags),
            remote,
            state,
        )
    }

    fn span(name: &str, scope: &InstrumentationScope, attributes: Vec<KeyValue>) -> SpanData {
        let start = UNIX_EPOCH + Duration::from_nanos(1_765_000_000_123_456_789);
        SpanData {
            span_context: context(
                0x0af7651916cd43dd8448eb211c80319c,
                0xb7ad6b7169203331,
                1,
                "",
                false,
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: Cow::Owned(name.to_owned()),
            start_time: start,
            end_time: start + Duration::from_micros(1500),
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope.clone(),
        }
    }

    fn resource() -> Resource {
        Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", "wingman"),
                KeyValue::new("service.version", "1.2.3"),
                KeyValue::new("process.pid", 4242_i64),
            ])
            .with_schema_url(
                [KeyValue::new("telemetry.sdk.language", "rust")],
                "https://opentelemetry.io/schemas/1.44.0",
            )
            .build()
    }

    #[test]
    fn an_empty_batch_is_a_resource_without_scopes() {
        assert_same(&[], &resource());
        assert_same(&[], &Resource::builder_empty().build());
    }

    #[test]
    fn every_field_of_a_span_matches_the_sdk_exporters() {
        let scope = InstrumentationScope::builder("wingspan")
            .with_version("0.9.0")
            .with_schema_url("https://opentelemetry.io/schemas/1.44.0")
            .with_attributes([KeyValue::new("scope.attr", true)])
            .build();
        let mut s = span(
            "GET /api/users/{id}",
            &scope,
            vec![
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("http.response.status_code", 200_i64),
                KeyValue::new("negative", -7_i64),
                KeyValue::new("ratio", 0.25_f64),
                KeyValue::new("zero.f64", 0.0_f64),
                KeyValue::new("flag", false),
                KeyValue::new("empty", ""),
                KeyValue::new("", "empty key"),
                KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
                KeyValue::new("ints", Value::Array(Array::I64(vec![0, 1, -1, i64::MAX]))),
                KeyValue::new("floats", Value::Array(Array::F64(vec![1.5, -0.0]))),
                KeyValue::new(
                    "strings",
                    Value::Array(Array::String(vec![
                        StringValue::from("a"),
                        StringValue::from(""),
                    ])),
                ),
                KeyValue::new("no.items", Value::Array(Array::I64(vec![]))),
                KeyValue::new("long", "x".repeat(300)),
                KeyValue::new("unicode", "ünïcødé ✓"),
            ],
        );
        s.span_context = context(u128::MAX, u64::MAX, 1, "vendor=a,other=b", false);
        s.parent_span_id = SpanId::from(0x1122334455667788);
        s.parent_span_is_remote = true;
        s.span_kind = SpanKind::Consumer;
        s.dropped_attributes_count = 3;
        s.status = Status::error("boom: ✗");
        s.events.events = vec![
            opentelemetry::trace::Event::new(
                "exception",
                UNIX_EPOCH + Duration::from_secs(1_765_000_001),
                vec![KeyValue::new("exception.type", "Timeout")],
                2,
            ),
            opentelemetry::trace::Event::new("", UNIX_EPOCH, vec![], 0),
        ];
        s.events.dropped_count = 5;
        s.links.links = vec![
            opentelemetry::trace::Link::new(
                context(7, 8, 0, "k=v", true),
                vec![KeyValue::new("link.kind", "follows")],
                1,
            ),
            opentelemetry::trace::Link::with_context(context(9, 10, 1, "", false)),
        ];
        s.links.dropped_count = 4;
        let mut ok = span("ok", &scope, vec![]);
        ok.status = Status::Ok;
        ok.span_kind = SpanKind::Internal;
        let mut before_epoch = span("before epoch", &scope, vec![]);
        before_epoch.start_time = UNIX_EPOCH - Duration::from_secs(5);
        before_epoch.end_time = UNIX_EPOCH;
        assert_same(&[s, ok, before_epoch], &resource());
    }

    #[test]
    fn spans_are_grouped_by_scope_in_first_seen_order() {
        let a = InstrumentationScope::builder("wingspan").build();
        let b = InstrumentationScope::builder("tracing-opentelemetry")
            .with_version("0.34")
            .build();
        let batch = [
            span("a1", &a, vec![]),
            span("b1", &b, vec![]),
            span("a2", &a, vec![KeyValue::new("k", 1_i64)]),
            span("b2", &b, vec![]),
        ];
        assert_same(&batch, &resource());
    }

    #[test]
    fn a_span_longer_than_its_reserved_prefix_is_moved_not_cut() {
        // 20 000 bytes of attributes: a three-byte length where two were
        // reserved, inside a scope whose length needs three as well.
        let scope = InstrumentationScope::builder("wingspan").build();
        let big = span(
            "big",
            &scope,
            (0..40)
                .map(|i| KeyValue::new(format!("k{i}"), "v".repeat(500)))
                .collect(),
        );
        let batch: Vec<SpanData> = (0..3).map(|_| big.clone()).collect();
        assert_same(&batch, &resource());
    }

    #[test]
    fn varint_lengths_match_the_encoding() {
        for v in [
            0_u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v), "{v}");
            assert_eq!(b.len(), prost::encoding::encoded_len_varint(v), "{v}");
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::I64),
            // NaN never equals itself: the decoded comparison would fail on
            // it whatever the bytes.
            any::<f64>()
                .prop_filter("not NaN", |f| !f.is_nan())
                .prop_map(Value::F64),
            ".{0,200}".prop_map(|s| Value::String(s.into())),
            proptest::collection::vec(any::<i64>(), 0..5).prop_map(|v| Value::Array(Array::I64(v))),
            proptest::collection::vec(".{0,20}", 0..5).prop_map(|v| {
                Value::Array(Array::String(
                    v.into_iter().map(StringValue::from).collect(),
                ))
            }),
        ]
    }

    proptest! {
        #[test]
        fn any_batch_encodes_as_the_sdk_exporters_do(
            spans in proptest::collection::vec(
                (
                    ".{0,40}",
                    proptest::collection::vec((".{0,30}", arb_value()), 0..12),
                    any::<u128>(),
                    any::<u64>(),
                    any::<u64>(),
                    any::<bool>(),
                    0_u8..2,
                    any::<u32>(),
                ),
                0..8,
            )
        ) {
            let scopes = [
                InstrumentationScope::builder("wingspan").with_version("1").build(),
                InstrumentationScope::builder("other").build(),
            ];
            let batch: Vec<SpanData> = spans
                .into_iter()
                .map(|(name, kvs, trace, id, parent, remote, which, dropped)| {
                    let mut s = span(
                        &name,
                        &scopes[usize::from(which)],
                        kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect(),
                    );
                    s.span_context = context(trace, id, 1, "", false);
                    s.parent_span_id = SpanId::from(parent);
                    s.parent_span_is_remote = remote;
                    s.dropped_attributes_count = dropped;
                    s
                })
                .collect();
            assert_same(&batch, &resource());
        }
    }
}
