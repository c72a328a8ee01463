//! The in-process OTLP collector: a gRPC and an HTTP/protobuf receiver over
//! the wire, sharing one store that tests query and wait on.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::model::{LogRecord, MetricPoint, SpanRecord};

/// How often `wait_for_*` looks at the store.
const POLL: Duration = Duration::from_millis(20);

/// How long [`Receiver::wait_for_span`], [`Receiver::wait_for_point`] and
/// [`Receiver::wait_for_log`] wait before they fail: far longer than an
/// export takes (the test pipelines export every 50 to 200 ms), so only a
/// missing item reaches it.
pub const WAIT: Duration = Duration::from_secs(15);

/// What the receivers collected, plus knobs for failure injection.
#[derive(Default)]
pub(crate) struct Store {
    spans: Mutex<Vec<SpanRecord>>,
    /// Latest point per series key (name + attribute set).
    metrics: Mutex<BTreeMap<String, MetricPoint>>,
    logs: Mutex<Vec<LogRecord>>,
    /// Export requests received, all signals and transports.
    pub(crate) requests: AtomicUsize,
    /// Export requests that arrived gzip-compressed.
    pub(crate) gzip_requests: AtomicUsize,
    /// When set, every export is rejected (gRPC `UNAVAILABLE`, HTTP 503).
    pub(crate) failing: AtomicBool,
    /// This many exports from now are rejected as `failing` rejects them,
    /// then they are accepted again (a collector that recovers).
    pub(crate) fail_next: AtomicUsize,
    /// Milliseconds every export is held before it is answered.
    pub(crate) delay_ms: AtomicU64,
    /// Spans every trace export answers as rejected, in a partial success
    /// (the spans are still stored).
    pub(crate) reject_spans: AtomicU64,
    /// Request headers/metadata of the last export (lower-case names).
    pub(crate) last_headers: Mutex<BTreeMap<String, String>>,
    exports: Mutex<Vec<Export>>,
}

/// The signal of an export request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `TraceService/Export`, `/v1/traces`.
    Traces,
    /// `MetricsService/Export`, `/v1/metrics`.
    Metrics,
    /// `LogsService/Export`, `/v1/logs`.
    Logs,
}

impl Signal {
    /// The gRPC method's path.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }
}

/// One export request as it arrived: which signal, over which transport,
/// compressed or not, with which headers (gRPC metadata), lower-case names.
#[derive(Debug, Clone)]
pub struct Export {
    /// The signal.
    pub signal: Signal,
    /// gRPC or HTTP.
    pub transport: super::model::Transport,
    /// The request path (HTTP), or the gRPC method's path.
    pub path: String,
    /// Whether the body was gzip-compressed.
    pub gzip: bool,
    /// Headers or metadata.
    pub headers: BTreeMap<String, String>,
}

impl Store {
    pub(crate) fn add_spans(&self, spans: Vec<SpanRecord>) {
        self.spans.lock().unwrap().extend(spans);
    }

    pub(crate) fn add_metrics(&self, points: Vec<MetricPoint>) {
        let mut m = self.metrics.lock().unwrap();
        for p in points {
            let key = p.series_key();
            // Cumulative points supersede older ones; an out-of-order older
            // export must not roll a series back.
            match m.get(&key) {
                Some(old) if old.time_unix_nano > p.time_unix_nano => {}
                _ => {
                    m.insert(key, p);
                }
            }
        }
    }

    /// The answer to a trace export: a partial success when spans are to
    /// be rejected.
    pub(crate) fn trace_answer(
        &self,
    ) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse {
        use opentelemetry_proto::tonic::collector::trace::v1::{
            ExportTracePartialSuccess, ExportTraceServiceResponse,
        };
        let rejected = self.reject_spans.load(Ordering::Relaxed);
        ExportTraceServiceResponse {
            partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
                rejected_spans: rejected as i64,
                error_message: "test receiver set to reject spans".to_owned(),
            }),
        }
    }

    pub(crate) fn add_logs(&self, logs: Vec<LogRecord>) {
        self.logs.lock().unwrap().extend(logs);
    }

    /// Applies the failure knobs; `Err(())` means reject this export.
    pub(crate) async fn gate(
        &self,
        signal: Signal,
        transport: super::model::Transport,
        path: &str,
        gzip: bool,
        headers: BTreeMap<String, String>,
    ) -> Result<(), ()> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if gzip {
            self.gzip_requests.fetch_add(1, Ordering::Relaxed);
        }
        self.exports.lock().unwrap().push(Export {
            signal,
            transport,
            path: path.to_owned(),
            gzip,
            headers: headers.clone(),
        });
        *self.last_headers.lock().unwrap() = headers;
        let delay = self.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let fail_once = self
            .fail_next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if fail_once || self.failing.load(Ordering::Relaxed) {
            Err(())
        } else {
            Ok(())
        }
    }
}

/// A real OTLP collector for tests: a tonic gRPC server and an axum
/// HTTP/protobuf server on 127.0.0.1, both feeding one store. Dropping it
/// stops both servers.
pub struct Receiver {
    store: Arc<Store>,
    grpc_addr: SocketAddr,
    grpc_tls: bool,
    http_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("grpc", &self.grpc_addr)
            .field("http", &self.http_addr)
            .finish()
    }
}

impl Receiver {
    /// Starts both receivers on ephemeral ports of 127.0.0.1.
    pub async fn start() -> Receiver {
        Self::start_with(None).await
    }

    /// A receiver whose gRPC side speaks TLS, requiring a client certificate
    /// signed by `tls.client_ca` when one is given; [`Self::grpc_endpoint`]
    /// is then `https://127.0.0.1:<port>`. The HTTP side stays plain.
    pub async fn start_mutual_tls(tls: super::grpc::MutualTls) -> Receiver {
        Self::start_with(Some(tls)).await
    }

    async fn start_with(tls: Option<super::grpc::MutualTls>) -> Receiver {
        let store = Arc::new(Store::default());
        let grpc_tls = tls.is_some();
        let (grpc_addr, grpc_task) = super::grpc::serve(store.clone(), tls).await;
        let (http_addr, http_task) = super::http::serve(store.clone()).await;
        Receiver {
            store,
            grpc_addr,
            grpc_tls,
            http_addr,
            tasks: vec![grpc_task, http_task],
        }
    }

    pub fn grpc_endpoint(&self) -> String {
        let scheme = if self.grpc_tls { "https" } else { "http" };
        format!("{scheme}://{}", self.grpc_addr)
    }

    /// `http://127.0.0.1:<port>` of the HTTP receiver (the base: the
    /// exporter appends `/v1/traces` etc.).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// The endpoint for `protocol`.
    pub fn endpoint(&self, protocol: wingspan::config::Protocol) -> String {
        match protocol {
            wingspan::config::Protocol::Grpc => self.grpc_endpoint(),
            wingspan::config::Protocol::HttpProtobuf => self.http_endpoint(),
        }
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.store.spans.lock().unwrap().clone()
    }

    /// The spans named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// The latest point of every series received so far.
    pub fn metrics(&self) -> Vec<MetricPoint> {
        self.store
            .metrics
            .lock()
            .unwrap()
            .values()
            .cloned()
            .collect()
    }

    /// The latest points of the metric `name`.
    pub fn metric(&self, name: &str) -> Vec<MetricPoint> {
        self.metrics()
            .into_iter()
            .filter(|p| p.name == name)
            .collect()
    }

    /// Every log record received so far, in arrival order.
    pub fn logs(&self) -> Vec<LogRecord> {
        self.store.logs.lock().unwrap().clone()
    }

    /// Forgets everything received so far (the knobs stay).
    pub fn clear(&self) {
        self.store.spans.lock().unwrap().clear();
        self.store.metrics.lock().unwrap().clear();
        self.store.logs.lock().unwrap().clear();
    }

    /// Export requests received so far (all signals, both transports).
    pub fn request_count(&self) -> usize {
        self.store.requests.load(Ordering::Relaxed)
    }

    /// Export requests that arrived gzip-compressed.
    pub fn gzip_request_count(&self) -> usize {
        self.store.gzip_requests.load(Ordering::Relaxed)
    }

    /// Headers (HTTP) or metadata (gRPC) of the last export, lower-case names.
    pub fn last_headers(&self) -> BTreeMap<String, String> {
        self.store.last_headers.lock().unwrap().clone()
    }

    /// Every export request so far, in arrival order.
    pub fn exports(&self) -> Vec<Export> {
        self.store.exports.lock().unwrap().clone()
    }

    /// Waits until an export of `signal` has arrived and returns the first.
    pub async fn wait_for_export(&self, signal: Signal) -> Export {
        let start = Instant::now();
        loop {
            if let Some(e) = self.exports().into_iter().find(|e| e.signal == signal) {
                return e;
            }
            assert!(
                start.elapsed() < WAIT,
                "no {signal:?} export within {WAIT:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Rejects every export from now on (gRPC `UNAVAILABLE`, HTTP 503), or
    /// accepts them again.
    pub fn set_failing(&self, failing: bool) {
        self.store.failing.store(failing, Ordering::Relaxed);
    }

    /// Rejects the next `n` exports, of any signal (gRPC `UNAVAILABLE`,
    /// HTTP 503), then accepts them again.
    pub fn fail_next(&self, n: usize) {
        self.store.fail_next.store(n, Ordering::Relaxed);
    }

    /// Answers every trace export from now on with a partial success that
    /// rejects `n` of its spans (0: a plain success again).
    pub fn reject_spans(&self, n: u64) {
        self.store.reject_spans.store(n, Ordering::Relaxed);
    }

    /// Holds every export this long before answering (a slow collector).
    pub fn set_delay(&self, delay: Duration) {
        self.store
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// Polls until `pred` holds for the spans received so far, and returns
    /// them; panics with a dump of what arrived after `timeout`.
    pub async fn wait_for_spans<F>(&self, pred: F, timeout: Duration) -> Vec<SpanRecord>
    where
        F: Fn(&[SpanRecord]) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if pred(&spans) {
                return spans;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for spans; {} arrived:\n{}",
                    spans.len(),
                    dump_spans(&spans)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until a span matching `pred` arrived, and returns the first
    /// one; panics with a dump of every span after [`WAIT`].
    pub async fn wait_for_span<F>(&self, pred: F) -> SpanRecord
    where
        F: Fn(&SpanRecord) -> bool,
    {
        self.wait_for_spans(|s| s.iter().any(&pred), WAIT)
            .await
            .into_iter()
            .find(|s| pred(s))
            .expect("present: the predicate held")
    }

    /// Waits until the latest point of a series of metric `name` matches
    /// `pred`, and returns that point; panics with a dump of every series
    /// after [`WAIT`]. Attributes: `|p| p.matches(&[("http.route", "/x")])`.
    pub async fn wait_for_point<F>(&self, name: &str, pred: F) -> MetricPoint
    where
        F: Fn(&MetricPoint) -> bool,
    {
        self.wait_for_metric(name, |points| points.iter().any(&pred), WAIT)
            .await
            .into_iter()
            .find(|p| pred(p))
            .expect("present: the predicate held")
    }

    /// Waits until a log record matching `pred` arrived, and returns the
    /// first one; panics with a dump of every record after [`WAIT`].
    pub async fn wait_for_log<F>(&self, pred: F) -> LogRecord
    where
        F: Fn(&LogRecord) -> bool,
    {
        self.wait_for_logs(|l| l.iter().any(&pred), WAIT)
            .await
            .into_iter()
            .find(|l| pred(l))
            .expect("present: the predicate held")
    }

    /// Polls until `pred` holds for the latest points of metric `name`, and
    /// returns those points; panics with a dump of every series after
    /// `timeout`. `pred` only sees a non-empty slice.
    pub async fn wait_for_metric<F>(
        &self,
        name: &str,
        pred: F,
        timeout: Duration,
    ) -> Vec<MetricPoint>
    where
        F: Fn(&[MetricPoint]) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let points = self.metric(name);
            if !points.is_empty() && pred(&points) {
                return points;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for metric {name:?}; its points:\n{}\nall series:\n{}",
                    dump_metrics(&points),
                    dump_metrics(&self.metrics())
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls until `pred` holds for the latest points of every series.
    pub async fn wait_for_metrics<F>(&self, pred: F, timeout: Duration) -> Vec<MetricPoint>
    where
        F: Fn(&[MetricPoint]) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let points = self.metrics();
            if pred(&points) {
                return points;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for metrics; all series:\n{}",
                    dump_metrics(&points)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls until `pred` holds for the log records received so far, and
    /// returns them; panics with a dump after `timeout`.
    pub async fn wait_for_logs<F>(&self, pred: F, timeout: Duration) -> Vec<LogRecord>
    where
        F: Fn(&[LogRecord]) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let logs = self.logs();
            if pred(&logs) {
                return logs;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for logs; {} arrived:\n{}",
                    logs.len(),
                    dump_logs(&logs)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// One line per span: name, kind, ids, status, attributes.
pub fn dump_spans(spans: &[SpanRecord]) -> String {
    spans
        .iter()
        .map(|s| {
            format!(
                "  {:?} kind={:?} trace={} span={} parent={} status={:?}{} scope={:?} attrs={}",
                s.name,
                s.kind,
                s.trace_id,
                s.span_id,
                if s.parent_span_id.is_empty() {
                    "-"
                } else {
                    &s.parent_span_id
                },
                s.status,
                if s.status_message.is_empty() {
                    String::new()
                } else {
                    format!("({:?})", s.status_message)
                },
                s.scope,
                super::model::attrs_key(&s.attributes)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per series: name, type, attributes, value.
pub fn dump_metrics(points: &[MetricPoint]) -> String {
    points
        .iter()
        .map(|p| {
            let mut line = format!(
                "  {} [{}] {:?} {{{}}} value={}",
                p.name,
                p.unit,
                p.kind,
                super::model::attrs_key(&p.attributes),
                p.value
            );
            if !p.bounds.is_empty() || p.count > 0 {
                line.push_str(&format!(
                    " count={} bounds={:?} buckets={:?}",
                    p.count, p.bounds, p.bucket_counts
                ));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per log record.
pub fn dump_logs(logs: &[LogRecord]) -> String {
    logs.iter()
        .map(|l| {
            format!(
                "  [{}] {:?} scope={:?} trace={} span={} attrs={}",
                l.severity_text,
                l.body,
                l.scope,
                if l.trace_id.is_empty() {
                    "-"
                } else {
                    &l.trace_id
                },
                if l.span_id.is_empty() {
                    "-"
                } else {
                    &l.span_id
                },
                super::model::attrs_key(&l.attributes)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
