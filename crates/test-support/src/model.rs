//! Flattened OTLP records: what tests assert on, decoupled from the proto
//! types so a test reads `span.attr_str("http.route")` instead of walking
//! `resource_spans[0].scope_spans[0]...`.

use std::collections::BTreeMap;
use std::fmt;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use opentelemetry_proto::tonic::resource::v1::Resource;

/// An attribute value, as it arrived on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A double.
    Double(f64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
    /// A key-value list.
    Map(BTreeMap<String, Value>),
    /// An `AnyValue` with no value set.
    Empty,
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, if this is a double or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// Strings print bare, so `("http.response.status_code", "200")` matches an
/// integer attribute in [`find_points`](super::find_points).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Double(d) => write!(f, "{d}"),
            Value::Bytes(b) => f.write_str(&hex(b)),
            Value::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => write!(f, "{m:?}"),
            Value::Empty => Ok(()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

/// Attribute maps, sorted by key.
pub type Attributes = BTreeMap<String, Value>;

/// The span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `SPAN_KIND_UNSPECIFIED`.
    Unspecified,
    /// `SPAN_KIND_INTERNAL`.
    Internal,
    /// `SPAN_KIND_SERVER`.
    Server,
    /// `SPAN_KIND_CLIENT`.
    Client,
    /// `SPAN_KIND_PRODUCER`.
    Producer,
    /// `SPAN_KIND_CONSUMER`.
    Consumer,
}

/// The span status code; the message is [`SpanRecord::status_message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `STATUS_CODE_UNSET`.
    Unset,
    /// `STATUS_CODE_OK`.
    Ok,
    /// `STATUS_CODE_ERROR`.
    Error,
}

/// Which receiver a record arrived at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The tonic gRPC receiver.
    Grpc,
    /// The HTTP/protobuf receiver.
    Http,
}

/// A span event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The event name (`exception` for recorded errors).
    pub name: String,
    /// Its attributes.
    pub attributes: Attributes,
}

/// One exported span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    /// The span name.
    pub name: String,
    /// The span kind.
    pub kind: Kind,
    /// Hex trace id (32 chars).
    pub trace_id: String,
    /// Hex span id (16 chars).
    pub span_id: String,
    /// Hex parent span id, empty for a root span.
    pub parent_span_id: String,
    /// The W3C trace state.
    pub trace_state: String,
    /// The status code.
    pub status: Status,
    /// The status message (set with `Status::Error`).
    pub status_message: String,
    /// Span attributes.
    pub attributes: Attributes,
    /// Span events.
    pub events: Vec<EventRecord>,
    /// Links as `(trace_id, span_id)` hex pairs.
    pub links: Vec<(String, String)>,
    /// Resource attributes.
    pub resource: Attributes,
    /// The instrumentation scope name.
    pub scope: String,
    /// The schema URL the span's names follow: its scope's, else its
    /// resource's (empty when neither says).
    pub schema_url: String,
    /// Start time, ns since the epoch.
    pub start_time_unix_nano: u64,
    /// End time, ns since the epoch.
    pub end_time_unix_nano: u64,
    /// Which receiver it arrived at.
    pub transport: Transport,
}

macro_rules! attr_accessors {
    () => {
        /// A string attribute.
        pub fn attr_str(&self, key: &str) -> Option<&str> {
            self.attributes.get(key).and_then(Value::as_str)
        }

        /// An integer attribute.
        pub fn attr_i64(&self, key: &str) -> Option<i64> {
            self.attributes.get(key).and_then(Value::as_i64)
        }

        /// A boolean attribute.
        pub fn attr_bool(&self, key: &str) -> Option<bool> {
            self.attributes.get(key).and_then(Value::as_bool)
        }

        /// A double (or integer) attribute.
        pub fn attr_f64(&self, key: &str) -> Option<f64> {
            self.attributes.get(key).and_then(Value::as_f64)
        }

        /// Whether the attribute is present.
        pub fn has_attr(&self, key: &str) -> bool {
            self.attributes.contains_key(key)
        }

        /// Any attribute.
        pub fn attr(&self, key: &str) -> Option<&Value> {
            self.attributes.get(key)
        }

        /// A string resource attribute.
        pub fn resource_str(&self, key: &str) -> Option<&str> {
            self.resource.get(key).and_then(Value::as_str)
        }
    };
}

impl SpanRecord {
    attr_accessors!();

    /// Whether the span is a root span (no parent).
    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_empty()
    }

    /// Whether `parent` is this span's parent (same trace, parent id).
    pub fn is_child_of(&self, parent: &SpanRecord) -> bool {
        self.trace_id == parent.trace_id && self.parent_span_id == parent.span_id
    }
}

/// The type of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A sum (counter when monotonic, up-down counter otherwise).
    Sum {
        /// Whether the sum only increases.
        monotonic: bool,
    },
    /// A gauge.
    Gauge,
    /// An explicit-bucket histogram.
    Histogram,
    /// An exponential histogram.
    ExponentialHistogram,
    /// A summary.
    Summary,
}

/// The latest exported point of one series (metric name + attribute set).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// The metric name.
    pub name: String,
    /// The unit.
    pub unit: String,
    /// The description.
    pub description: String,
    /// The metric type.
    pub kind: MetricKind,
    /// Whether the temporality is cumulative (false: delta; true for gauges).
    pub cumulative: bool,
    /// The point's attributes.
    pub attributes: Attributes,
    /// Sum or gauge value; for histograms, the sum of observations.
    pub value: f64,
    /// Histogram observation count (0 for sums and gauges).
    pub count: u64,
    /// Histogram bucket boundaries.
    pub bounds: Vec<f64>,
    /// Histogram bucket counts (`bounds.len() + 1` of them); for an
    /// exponential histogram, the positive buckets from `exp_offset` on.
    pub bucket_counts: Vec<u64>,
    /// Exponential histogram scale (bucket `i` is `(2^(i/2^scale)`,
    /// `2^((i+1)/2^scale)]`).
    pub exp_scale: Option<i32>,
    /// Exponential histogram index of the first positive bucket.
    pub exp_offset: i32,
    /// Histogram minimum, if recorded.
    pub min: Option<f64>,
    /// Histogram maximum, if recorded.
    pub max: Option<f64>,
    /// Resource attributes.
    pub resource: Attributes,
    /// The instrumentation scope name.
    pub scope: String,
    /// Point time, ns since the epoch.
    pub time_unix_nano: u64,
    /// Which receiver it arrived at.
    pub transport: Transport,
}

impl MetricPoint {
    attr_accessors!();

    /// Whether the point's attributes include every `(key, value)` of
    /// `attrs`, values compared as text (so `("http.response.status_code",
    /// "200")` matches the integer 200).
    pub fn matches(&self, attrs: &[(&str, &str)]) -> bool {
        attrs
            .iter()
            .all(|(k, v)| self.attributes.get(*k).is_some_and(|a| a.to_string() == *v))
    }

    /// The series key: name plus the attribute set.
    pub fn series_key(&self) -> String {
        format!("{} {}", self.name, attrs_key(&self.attributes))
    }
}

/// One exported log record.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The body, rendered as a string.
    pub body: String,
    /// `INFO`, `WARN`, ...
    pub severity_text: String,
    /// The OTLP severity number.
    pub severity_number: i32,
    /// Hex trace id, empty when none was active.
    pub trace_id: String,
    /// Hex span id, empty when none was active.
    pub span_id: String,
    /// Record attributes (the event's fields).
    pub attributes: Attributes,
    /// Resource attributes.
    pub resource: Attributes,
    /// The instrumentation scope name: the `tracing` target with the
    /// tracing appender.
    pub scope: String,
    /// The event name, if any.
    pub event_name: String,
    /// Which receiver it arrived at.
    pub transport: Transport,
}

impl LogRecord {
    attr_accessors!();
}

/// Lower-case hex of an id; empty stays empty.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn any_value(v: Option<&AnyValue>) -> Value {
    match v.and_then(|v| v.value.as_ref()) {
        None => Value::Empty,
        Some(any_value::Value::StringValue(s)) => Value::Str(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::Int(*i),
        Some(any_value::Value::DoubleValue(d)) => Value::Double(*d),
        Some(any_value::Value::BytesValue(b)) => Value::Bytes(b.clone()),
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.iter().map(|v| any_value(Some(v))).collect())
        }
        Some(any_value::Value::KvlistValue(kv)) => Value::Map(attributes(&kv.values)),
        #[allow(unreachable_patterns)]
        Some(_) => Value::Empty,
    }
}

fn attributes(kvs: &[KeyValue]) -> Attributes {
    kvs.iter()
        .map(|kv| (kv.key.clone(), any_value(kv.value.as_ref())))
        .collect()
}

fn resource_attrs(r: Option<&Resource>) -> Attributes {
    r.map(|r| attributes(&r.attributes)).unwrap_or_default()
}

/// A stable rendering of an attribute set, for series keys.
pub fn attrs_key(attrs: &Attributes) -> String {
    attrs
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn spans(req: &ExportTraceServiceRequest, transport: Transport) -> Vec<SpanRecord> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource = resource_attrs(rs.resource.as_ref());
        for ss in &rs.scope_spans {
            let scope = ss
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let schema_url = if ss.schema_url.is_empty() {
                rs.schema_url.clone()
            } else {
                ss.schema_url.clone()
            };
            for s in &ss.spans {
                let (status, status_message) = match &s.status {
                    Some(st) => (
                        match st.code {
                            1 => Status::Ok,
                            2 => Status::Error,
                            _ => Status::Unset,
                        },
                        st.message.clone(),
                    ),
                    None => (Status::Unset, String::new()),
                };
                out.push(SpanRecord {
                    name: s.name.clone(),
                    kind: match s.kind {
                        1 => Kind::Internal,
                        2 => Kind::Server,
                        3 => Kind::Client,
                        4 => Kind::Producer,
                        5 => Kind::Consumer,
                        _ => Kind::Unspecified,
                    },
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    trace_state: s.trace_state.clone(),
                    status,
                    status_message,
                    attributes: attributes(&s.attributes),
                    events: s
                        .events
                        .iter()
                        .map(|e| EventRecord {
                            name: e.name.clone(),
                            attributes: attributes(&e.attributes),
                        })
                        .collect(),
                    links: s
                        .links
                        .iter()
                        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
                        .collect(),
                    resource: resource.clone(),
                    scope: scope.clone(),
                    schema_url: schema_url.clone(),
                    start_time_unix_nano: s.start_time_unix_nano,
                    end_time_unix_nano: s.end_time_unix_nano,
                    transport,
                });
            }
        }
    }
    out
}

pub(crate) fn logs(req: &ExportLogsServiceRequest, transport: Transport) -> Vec<LogRecord> {
    let mut out = Vec::new();
    for rl in &req.resource_logs {
        let resource = resource_attrs(rl.resource.as_ref());
        for sl in &rl.scope_logs {
            let scope = sl
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            for l in &sl.log_records {
                out.push(LogRecord {
                    body: any_value(l.body.as_ref()).to_string(),
                    severity_text: l.severity_text.clone(),
                    severity_number: l.severity_number,
                    trace_id: hex(&l.trace_id),
                    span_id: hex(&l.span_id),
                    attributes: attributes(&l.attributes),
                    resource: resource.clone(),
                    scope: scope.clone(),
                    event_name: l.event_name.clone(),
                    transport,
                });
            }
        }
    }
    out
}

pub(crate) fn metrics(req: &ExportMetricsServiceRequest, transport: Transport) -> Vec<MetricPoint> {
    const CUMULATIVE: i32 = 2;
    let mut out = Vec::new();
    for rm in &req.resource_metrics {
        let resource = resource_attrs(rm.resource.as_ref());
        for sm in &rm.scope_metrics {
            let scope = sm
                .scope
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            for m in &sm.metrics {
                let base = |kind, cumulative, attrs: &[KeyValue], time| MetricPoint {
                    name: m.name.clone(),
                    unit: m.unit.clone(),
                    description: m.description.clone(),
                    kind,
                    cumulative,
                    attributes: attributes(attrs),
                    value: 0.0,
                    count: 0,
                    bounds: Vec::new(),
                    bucket_counts: Vec::new(),
                    exp_scale: None,
                    exp_offset: 0,
                    min: None,
                    max: None,
                    resource: resource.clone(),
                    scope: scope.clone(),
                    time_unix_nano: time,
                    transport,
                };
                let number = |v: &Option<number_data_point::Value>| match v {
                    Some(number_data_point::Value::AsDouble(d)) => *d,
                    Some(number_data_point::Value::AsInt(i)) => *i as f64,
                    None => 0.0,
                };
                match &m.data {
                    Some(metric::Data::Gauge(g)) => {
                        for p in &g.data_points {
                            let mut point =
                                base(MetricKind::Gauge, true, &p.attributes, p.time_unix_nano);
                            point.value = number(&p.value);
                            out.push(point);
                        }
                    }
                    Some(metric::Data::Sum(s)) => {
                        let kind = MetricKind::Sum {
                            monotonic: s.is_monotonic,
                        };
                        for p in &s.data_points {
                            let mut point = base(
                                kind,
                                s.aggregation_temporality == CUMULATIVE,
                                &p.attributes,
                                p.time_unix_nano,
                            );
                            point.value = number(&p.value);
                            out.push(point);
                        }
                    }
                    Some(metric::Data::Histogram(h)) => {
                        for p in &h.data_points {
                            let mut point = base(
                                MetricKind::Histogram,
                                h.aggregation_temporality == CUMULATIVE,
                                &p.attributes,
                                p.time_unix_nano,
                            );
                            point.value = p.sum.unwrap_or(0.0);
                            point.count = p.count;
                            point.bounds = p.explicit_bounds.clone();
                            point.bucket_counts = p.bucket_counts.clone();
                            point.min = p.min;
                            point.max = p.max;
                            out.push(point);
                        }
                    }
                    Some(metric::Data::ExponentialHistogram(h)) => {
                        for p in &h.data_points {
                            let mut point = base(
                                MetricKind::ExponentialHistogram,
                                h.aggregation_temporality == CUMULATIVE,
                                &p.attributes,
                                p.time_unix_nano,
                            );
                            point.value = p.sum.unwrap_or(0.0);
                            point.count = p.count;
                            point.min = p.min;
                            point.max = p.max;
                            point.exp_scale = Some(p.scale);
                            if let Some(b) = &p.positive {
                                point.exp_offset = b.offset;
                                point.bucket_counts = b.bucket_counts.clone();
                            }
                            out.push(point);
                        }
                    }
                    Some(metric::Data::Summary(s)) => {
                        for p in &s.data_points {
                            let mut point =
                                base(MetricKind::Summary, true, &p.attributes, p.time_unix_nano);
                            point.value = p.sum;
                            point.count = p.count;
                            out.push(point);
                        }
                    }
                    None => {}
                }
            }
        }
    }
    out
}
