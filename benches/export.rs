//! The export path's cost per span: from the batch processor's hand-over
//! (`SpanExporter::export(Vec<SpanData>)`, 512 spans, the default batch
//! size) to bytes on the wire.
//!
//! The spans are wingspan's own: one request through wingspan's HTTP layer
//! (`GET /api/users/{id}`, the SERVER span with its default attributes) whose
//! handler opens the pool's `acquire` span (INTERNAL) and one query's CLIENT
//! span with the attributes `wingspan::db` gives them (`db.system.name`,
//! `db.namespace`, `server.address`, `server.port`, `db.query.text`,
//! `db.query.summary`, `db.operation.name`, `db.collection.name`,
//! `db.response.returned_rows`), recorded by wingspan's tracer into an
//! in-memory exporter, with wingspan's resource. A batch is 512 of them
//! (SERVER, acquire, CLIENT, …).
//!
//! Variants, each consuming whole batches as the batch processor hands them
//! over:
//!
//! * encode only: opentelemetry-proto's conversion (`SpanData` →
//!   `ExportTraceServiceRequest`) and prost's `encode_to_vec`, what every
//!   OTLP exporter does before its transport;
//! * the OTLP/gRPC exporter (tonic) built as `src/telemetry/exporters.rs`
//!   builds it (lazy channel on a one-thread runtime of its own, timeout,
//!   metadata), without and with gzip;
//! * the OTLP/HTTP protobuf exporter on a blocking reqwest client, as
//!   wingspan builds it, without and with gzip;
//! * wingspan's own span exporter (`src/telemetry/otlp/`, what `init`
//!   builds for spans): its encoder alone, and over gRPC (without and with
//!   gzip) and HTTP, built from the configuration as `init` builds it.
//!
//! The exporters send to a receiver in a child process (this binary again)
//! that answers every export with success and counts the bytes it reads
//! off its sockets (HTTP/2 or HTTP/1.1 framing, headers and body: the bytes
//! on the wire above TCP). The figures are the exporting process's CPU
//! (`CLOCK_PROCESS_CPUTIME_ID`: the calling thread plus the exporter's own
//! threads; the receiver is another process), the calling thread's share,
//! wall time, and, with `WINGSPAN_BENCH_CALLGRIND=1` (set by `make bench`
//! when valgrind is installed), callgrind's instruction count over every
//! thread of the exporting process: the difference between a run of 22 and
//! a run of 2 batches, so setup, connection and first-use costs cancel.
//!
//! `cargo bench --all-features --bench export` (or `make bench`); the tables
//! are appended to `$WINGSPAN_BENCH_OUT` (default `target/benchmarks.md`).

mod support;

use std::convert::Infallible;
use std::io::{BufRead as _, Write as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path};
use axum::http::{HeaderMap, HeaderValue, Request, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body::Frame;
use opentelemetry::trace::{SpanKind, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use prost::Message as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::ServiceExt as _;

use support::fmt_ns;
use wingspan::{names, Telemetry};

/// Spans per export: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`'s default.
const BATCH: usize = 512;
/// Batches per variant per round, and rounds of the alternating run.
const BATCHES_PER_ROUND: usize = 8;
const ROUNDS: usize = 41;
/// Batches of the two callgrind runs per variant; their difference is counted.
const CG_LO: usize = 2;
const CG_HI: usize = 22;
/// The OTLP timeout the exporters get (wingspan's default).
const TIMEOUT: Duration = Duration::from_secs(10);

/// The variants, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Encode,
    Grpc,
    GrpcGzip,
    Http,
    HttpGzip,
    WingspanEncode,
    WingspanGrpc,
    WingspanGrpcGzip,
    WingspanHttp,
}

const KINDS: [Kind; 9] = [
    Kind::Encode,
    Kind::Grpc,
    Kind::GrpcGzip,
    Kind::Http,
    Kind::HttpGzip,
    Kind::WingspanEncode,
    Kind::WingspanGrpc,
    Kind::WingspanGrpcGzip,
    Kind::WingspanHttp,
];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Encode => "encode only: OTLP conversion + protobuf",
            Kind::Grpc => "OTLP/gRPC exporter (tonic)",
            Kind::GrpcGzip => "OTLP/gRPC exporter, gzip",
            Kind::Http => "OTLP/HTTP protobuf exporter (blocking reqwest)",
            Kind::HttpGzip => "OTLP/HTTP protobuf exporter, gzip",
            Kind::WingspanEncode => "wingspan: encode only (its own encoder)",
            Kind::WingspanGrpc => "wingspan: OTLP/gRPC exporter",
            Kind::WingspanGrpcGzip => "wingspan: OTLP/gRPC exporter, gzip",
            Kind::WingspanHttp => "wingspan: OTLP/HTTP protobuf exporter",
        }
    }

    fn encode_only(self) -> bool {
        matches!(self, Kind::Encode | Kind::WingspanEncode)
    }
}

// ---------------------------------------------------------------------------
// The spans: wingspan's own, captured in memory.

/// An exporter that keeps what it gets, and the resource it is given.
#[derive(Debug, Clone, Default)]
struct Capture {
    spans: Arc<Mutex<Vec<SpanData>>>,
    resource: Arc<Mutex<Option<Resource>>>,
}

impl SpanExporter for Capture {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.spans.lock().expect("capture").extend(batch);
        std::future::ready(Ok(()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.resource.lock().expect("capture") = Some(resource.clone());
    }
}

/// The pool's attributes as `wingspan::db` sets them (pool `app` on
/// `db.internal:5432`).
const DB_HOST: &str = "db.internal";
const DB_PORT: i64 = 5432;
const DB_NAME: &str = "app";

async fn user(Path(id): Path<u64>) -> String {
    // Under the request span, as wingspan's layer makes it current.
    let cx = Context::current();
    let tracer = TRACER.get().expect("tracer");
    let pool = format!("{DB_HOST}:{DB_PORT}/{DB_NAME}");
    // db/handle.rs: the `acquire {pool}` span.
    let mut acquire = tracer.build_with_context(
        tracer
            .span_builder(format!("acquire {pool}"))
            .with_kind(SpanKind::Internal)
            .with_attributes([
                KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_POSTGRESQL),
                KeyValue::new(names::DB_CLIENT_CONNECTION_POOL_NAME, pool.clone()),
                KeyValue::new(names::WINGSPAN_POOL_SIZE, 10),
                KeyValue::new(names::WINGSPAN_POOL_AVAILABLE, 9),
                KeyValue::new(names::WINGSPAN_POOL_WAITING, 0),
            ]),
        &cx,
    );
    opentelemetry::trace::Span::end(&mut acquire);
    // db/builder.rs + db/meta.rs + db/query.rs: the statement's CLIENT span.
    let mut query = tracer.build_with_context(
        tracer
            .span_builder("SELECT users")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_POSTGRESQL),
                KeyValue::new(names::DB_NAMESPACE, DB_NAME),
                KeyValue::new(names::SERVER_ADDRESS, DB_HOST),
                KeyValue::new(names::SERVER_PORT, DB_PORT),
                KeyValue::new(
                    names::DB_QUERY_TEXT,
                    "SELECT id, name, email, created_at FROM users WHERE id = $1",
                ),
                KeyValue::new(names::DB_QUERY_SUMMARY, "SELECT users"),
                KeyValue::new(names::DB_OPERATION_NAME, "SELECT"),
                KeyValue::new(names::DB_COLLECTION_NAME, "users"),
            ]),
        &cx,
    );
    opentelemetry::trace::Span::set_attribute(
        &mut query,
        KeyValue::new(names::DB_RESPONSE_RETURNED_ROWS, 1),
    );
    opentelemetry::trace::Span::end(&mut query);
    format!("user {id}")
}

static TRACER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracer> =
    std::sync::OnceLock::new();

/// One batch of wingspan's spans and wingspan's resource.
fn wingspan_spans() -> (Vec<SpanData>, Resource) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _enter = rt.enter();
    let cfg = wingspan::Config::builder()
        .var("OTEL_SERVICE_NAME", "bench")
        .var("OTEL_TRACES_SAMPLER", "always_on")
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "65536")
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .build()
        .expect("bench configuration");
    let capture = Capture::default();
    let t = Telemetry::builder(cfg)
        .with_span_exporter(capture.clone())
        .with_metric_exporter(support::Noop)
        .with_log_exporter(support::Noop)
        .install_globals(false)
        .install_subscriber(false)
        .build()
        .expect("bench telemetry");
    // The handler's spans come from wingspan's tracer, as `wingspan::db`'s do.
    let _ = TRACER.set(t.tracer().clone());
    let app = Router::new()
        .route("/api/users/{id}", get(user))
        .layer(wingspan::http::layer(&t))
        .with_state(());
    rt.block_on(async {
        for id in 0..BATCH.div_ceil(3) as u64 {
            let mut req = Request::get(format!("/api/users/{id}"))
                .header("host", "api.example.com:8080")
                .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench/1.0")
                .body(Body::empty())
                .expect("request");
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([10, 1, 2, 3], 54321))));
            let res = app.clone().oneshot(req).await.expect("infallible");
            axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
        }
        t.force_flush().await.expect("flush");
        t.shutdown().await.expect("shutdown");
    });
    let mut spans = std::mem::take(&mut *capture.spans.lock().expect("capture"));
    assert!(spans.len() >= BATCH, "captured {} spans", spans.len());
    spans.truncate(BATCH);
    let resource = capture
        .resource
        .lock()
        .expect("capture")
        .clone()
        .expect("wingspan hands its resource to the exporter");
    (spans, resource)
}

// ---------------------------------------------------------------------------
// The receiver: a child process that counts the bytes it reads.

/// A socket that counts what is read from it.
struct Counted {
    inner: tokio::net::TcpStream,
    read: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A gRPC success: one empty `ExportTraceServiceResponse`, then
/// `grpc-status: 0` in the trailers.
struct GrpcOk(u8);

impl http_body::Body for GrpcOk {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0 += 1;
        Poll::Ready(match self.0 {
            1 => Some(Ok(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 0])))),
            2 => {
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", HeaderValue::from_static("0"));
                Some(Ok(Frame::trailers(trailers)))
            }
            _ => None,
        })
    }
}

async fn grpc_export(_body: Bytes) -> Response<Body> {
    Response::builder()
        .header("content-type", "application/grpc")
        .body(Body::new(GrpcOk(0)))
        .expect("response")
}

async fn http_export(_body: Bytes) -> Response<Body> {
    Response::builder()
        .header("content-type", "application/x-protobuf")
        .body(Body::empty())
        .expect("response")
}

/// The child: serves OTLP/gRPC and OTLP/HTTP on one port (printed first),
/// then answers each line on stdin with the bytes read so far; exits at EOF.
fn receiver_main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let read = Arc::new(AtomicU64::new(0));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = Router::new()
        .route(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            post(grpc_export),
        )
        .route("/v1/traces", post(http_export));
    let counter = read.clone();
    rt.spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let _ = sock.set_nodelay(true);
            let io = hyper_util::rt::TokioIo::new(Counted {
                inner: sock,
                read: counter.clone(),
            });
            let svc = hyper_util::service::TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(io, svc)
                .await;
            });
        }
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{port}").expect("stdout");
    out.flush().expect("stdout");
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
        writeln!(out, "{}", read.load(Ordering::Relaxed)).expect("stdout");
        out.flush().expect("stdout");
    }
}

/// The parent's handle on the receiver child.
struct Receiver {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    port: u16,
}

impl Receiver {
    fn start() -> Self {
        let exe = std::env::var_os("WINGSPAN_EXPORT_EXE")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::current_exe().ok())
            .expect("bench executable");
        let mut child = std::process::Command::new(exe)
            .env("WINGSPAN_EXPORT_RECEIVER", "1")
            .env_remove("WINGSPAN_BENCH_ONLY")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("receiver child");
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let port = lines
            .next()
            .expect("receiver port")
            .expect("receiver port")
            .trim()
            .parse()
            .expect("receiver port");
        Self { child, lines, port }
    }

    /// Bytes the receiver has read off its sockets so far.
    fn bytes(&mut self) -> u64 {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin).expect("receiver stdin");
        stdin.flush().expect("receiver stdin");
        self.lines
            .next()
            .expect("receiver count")
            .expect("receiver count")
            .trim()
            .parse()
            .expect("receiver count")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The exporters, as src/telemetry/exporters.rs builds them.

fn grpc_exporter(port: u16, gzip: bool, resource: &Resource) -> opentelemetry_otlp::SpanExporter {
    // wingspan's export runtime: one thread of its own for every channel.
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-otlp")
            .enable_all()
            .build()
            .expect("export runtime")
    });
    let _enter = rt.enter();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(2))
        .timeout(TIMEOUT)
        .tcp_keepalive(Some(Duration::from_secs(30)))
        .connect_lazy();
    let mut b = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_channel(channel)
        .with_timeout(TIMEOUT)
        .with_metadata(tonic::metadata::MetadataMap::new());
    if gzip {
        b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    let mut e = b.build().expect("gRPC exporter");
    e.set_resource(resource);
    e
}

fn http_exporter(port: u16, gzip: bool, resource: &Resource) -> opentelemetry_otlp::SpanExporter {
    let builder = reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(2));
    // Built on a plain thread, as wingspan does (the blocking client owns a
    // runtime thread of its own).
    let client = std::thread::spawn(move || builder.build())
        .join()
        .expect("client thread")
        .expect("HTTP client");
    let mut b = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(format!("http://127.0.0.1:{port}/v1/traces"))
        .with_timeout(TIMEOUT)
        .with_headers(Default::default());
    if gzip {
        b = b.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    let mut e = b.build().expect("HTTP exporter");
    e.set_resource(resource);
    e
}

/// wingspan's span exporter, built by the code `init` runs.
fn wingspan_exporter(
    port: u16,
    protocol: &str,
    gzip: bool,
    resource: &Resource,
) -> Box<dyn WingspanExport> {
    let path = if protocol == "grpc" { "" } else { "/v1/traces" };
    let endpoint = format!("http://127.0.0.1:{port}{path}");
    let vars = [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", protocol),
        (
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
            if gzip { "gzip" } else { "none" },
        ),
    ];
    let config = wingspan::Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("config");
    let mut e = wingspan::telemetry::bench_support::span_exporter(&config).expect("exporter");
    e.set_resource(resource);
    Box::new(e)
}

/// wingspan's exporter behind a box (its type is not named outside).
trait WingspanExport {
    fn export_blocking(&self, batch: Vec<SpanData>) -> OTelSdkResult;
}

impl<E: SpanExporter> WingspanExport for E {
    fn export_blocking(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        futures_executor::block_on(self.export(batch))
    }
}

/// One variant, ready to consume batches.
enum Sink {
    Encode(ResourceAttributesWithSchema),
    Otlp(Box<opentelemetry_otlp::SpanExporter>),
    WingspanEncode(wingspan::telemetry::bench_support::TraceEncoder),
    Wingspan(Box<dyn WingspanExport>),
}

impl Sink {
    fn new(kind: Kind, port: u16, resource: &Resource) -> Self {
        match kind {
            Kind::Encode => Sink::Encode(resource.into()),
            Kind::Grpc => Sink::Otlp(Box::new(grpc_exporter(port, false, resource))),
            Kind::GrpcGzip => Sink::Otlp(Box::new(grpc_exporter(port, true, resource))),
            Kind::Http => Sink::Otlp(Box::new(http_exporter(port, false, resource))),
            Kind::HttpGzip => Sink::Otlp(Box::new(http_exporter(port, true, resource))),
            Kind::WingspanEncode => Sink::WingspanEncode(
                wingspan::telemetry::bench_support::TraceEncoder::new(resource),
            ),
            Kind::WingspanGrpc => Sink::Wingspan(wingspan_exporter(port, "grpc", false, resource)),
            Kind::WingspanGrpcGzip => {
                Sink::Wingspan(wingspan_exporter(port, "grpc", true, resource))
            }
            Kind::WingspanHttp => {
                Sink::Wingspan(wingspan_exporter(port, "http/protobuf", false, resource))
            }
        }
    }

    /// Consumes `batches` one after the other, as the batch processor's
    /// thread does (`futures_executor::block_on` of each export).
    #[inline(never)]
    fn export(&self, batches: Vec<Vec<SpanData>>) -> usize {
        let mut bytes = 0;
        for batch in batches {
            match self {
                Sink::Encode(resource) => {
                    let req = ExportTraceServiceRequest {
                        resource_spans: group_spans_by_resource_and_scope(batch, resource),
                    };
                    bytes += std::hint::black_box(req.encode_to_vec()).len();
                }
                Sink::Otlp(e) => {
                    futures_executor::block_on(e.export(batch)).expect("export");
                }
                Sink::WingspanEncode(encoder) => {
                    bytes += std::hint::black_box(encoder.encode(&batch)).len();
                }
                Sink::Wingspan(e) => e.export_blocking(batch).expect("export"),
            }
        }
        bytes
    }
}

fn batches(spans: &[SpanData], n: usize) -> Vec<Vec<SpanData>> {
    (0..n).map(|_| spans.to_vec()).collect()
}

fn process_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Callgrind mode (`WINGSPAN_EXPORT_ONLY=<index>`,
/// `WINGSPAN_EXPORT_BATCHES=<n>`): the same setup whatever `n`, then `n`
/// exports, then exit without dropping anything else.
fn only(kind: Kind, n: usize) {
    let (spans, resource) = wingspan_spans();
    let receiver = (!kind.encode_only()).then(Receiver::start);
    let sink = Sink::new(kind, receiver.as_ref().map_or(0, |r| r.port), &resource);
    // Both runs clone as many batches; only the exported ones are counted apart.
    let mut all = batches(&spans, CG_HI);
    let rest = all.split_off(n);
    sink.export(all);
    std::mem::forget(rest);
    std::mem::forget(sink);
    drop(receiver);
    std::process::exit(0);
}

/// Instructions per span over every thread of the exporting process:
/// callgrind's totals for `CG_HI` batches minus those for `CG_LO`.
fn callgrind_per_span(kind: Kind) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let dir = std::env::temp_dir().join(format!("wingspan-cg-export-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut totals = Vec::new();
    for n in [CG_LO, CG_HI] {
        let out = dir.join(format!("cg.{kind:?}.{n}"));
        let status = std::process::Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .env("WINGSPAN_EXPORT_ONLY", format!("{kind:?}"))
            .env("WINGSPAN_EXPORT_BATCHES", n.to_string())
            .env("WINGSPAN_EXPORT_EXE", &exe)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("valgrind unavailable or failed on {kind:?}; no instruction counts");
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
        let total = std::fs::read_to_string(&out).ok().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("totals: "))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })?;
        totals.push(total);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some((totals[1] as f64 - totals[0] as f64) / ((CG_HI - CG_LO) * BATCH) as f64)
}

struct Row {
    kind: Kind,
    process_cpu: f64,
    thread_cpu: f64,
    wall: f64,
    bytes: f64,
    instructions: Option<f64>,
}

fn main() {
    if std::env::var_os("WINGSPAN_EXPORT_RECEIVER").is_some() {
        receiver_main();
        return;
    }
    if let Some(kind) = std::env::var("WINGSPAN_EXPORT_ONLY")
        .ok()
        .and_then(|k| KINDS.into_iter().find(|v| format!("{v:?}") == k))
    {
        let n = std::env::var("WINGSPAN_EXPORT_BATCHES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(CG_HI)
            .min(CG_HI);
        only(kind, n);
        return;
    }

    let started = Instant::now();
    let (spans, resource) = wingspan_spans();
    let mut receiver = Receiver::start();
    let sinks: Vec<Sink> = KINDS
        .iter()
        .map(|&k| Sink::new(k, receiver.port, &resource))
        .collect();

    // Bytes per span: the encoded request, and what each exporter puts on
    // the wire (after a first export that opens the connection).
    let mut bytes = Vec::new();
    for (kind, sink) in KINDS.iter().zip(&sinks) {
        let n = BATCHES_PER_ROUND;
        if kind.encode_only() {
            bytes.push(sink.export(batches(&spans, n)) as f64 / (n * BATCH) as f64);
        } else {
            sink.export(batches(&spans, 1));
            let before = receiver.bytes();
            sink.export(batches(&spans, n));
            let after = receiver.bytes();
            bytes.push((after - before) as f64 / (n * BATCH) as f64);
        }
    }

    // Alternating rounds (each variant once per round, the first rotating);
    // the batches are cloned outside the measured part.
    let mut process = vec![Vec::new(); KINDS.len()];
    let mut thread = vec![Vec::new(); KINDS.len()];
    let mut wall = vec![Vec::new(); KINDS.len()];
    let per = (BATCHES_PER_ROUND * BATCH) as f64;
    for round in 0..ROUNDS {
        for k in 0..KINDS.len() {
            let i = (k + round) % KINDS.len();
            let input = batches(&spans, BATCHES_PER_ROUND);
            let (p0, t0, w0) = (process_cpu_ns(), support::thread_cpu_ns(), Instant::now());
            sinks[i].export(input);
            let w = w0.elapsed();
            let (p, t) = (process_cpu_ns() - p0, support::thread_cpu_ns() - t0);
            process[i].push(p as f64 / per);
            thread[i].push(t as f64 / per);
            wall[i].push(w.as_nanos() as f64 / per);
        }
    }
    drop(sinks);
    drop(receiver);

    let cg = support::callgrind_wanted();
    let rows: Vec<Row> = KINDS
        .iter()
        .enumerate()
        .map(|(i, &kind)| Row {
            kind,
            process_cpu: median(std::mem::take(&mut process[i])),
            thread_cpu: median(std::mem::take(&mut thread[i])),
            wall: median(std::mem::take(&mut wall[i])),
            bytes: bytes[i],
            instructions: if cg { callgrind_per_span(kind) } else { None },
        })
        .collect();

    let mut text = format!(
        "Machine: {}. Command: `cargo bench --all-features --bench export`. \
         Batches of {BATCH} of wingspan's spans (a SERVER span from the HTTP layer, the pool's \
         `acquire` span, a query's CLIENT span, repeated), handed to each variant as the batch \
         processor hands them over; {ROUNDS} alternating rounds of {BATCHES_PER_ROUND} batches \
         per variant, medians per span. CPU is the exporting process's \
         (`CLOCK_PROCESS_CPUTIME_ID`: the calling thread and the exporter's own threads; the \
         receiver, which answers success and counts the bytes it reads, is a child process); \
         the calling thread's share beside it. Bytes are the request bytes read off the \
         receiver's sockets (HTTP framing, headers, body), or the encoded \
         `ExportTraceServiceRequest` for encode only.",
        support::machine()
    );
    let instr = rows.iter().any(|r| r.instructions.is_some());
    if instr {
        text.push_str(&format!(
            " Instructions are callgrind's, over every thread of the exporting process: a run \
             of {CG_HI} batches minus a run of {CG_LO} (the same setup, connection and first \
             use), per span (`WINGSPAN_BENCH_CALLGRIND=1`)."
        ));
    }
    text.push_str("\n\n| variant | CPU / span | calling thread | wall / span | bytes / span |");
    text.push_str(if instr {
        " instructions / span |\n|---|---|---|---|---|---|\n"
    } else {
        "\n|---|---|---|---|---|\n"
    });
    for r in &rows {
        text.push_str(&format!(
            "| {} | {} | {} | {} | {:.0} |",
            r.kind.label(),
            fmt_ns(r.process_cpu),
            fmt_ns(r.thread_cpu),
            fmt_ns(r.wall),
            r.bytes,
        ));
        if instr {
            text.push_str(&match r.instructions {
                Some(n) => format!(" {n:.0} |"),
                None => " — |".to_owned(),
            });
        }
        text.push('\n');
    }
    let enc = &rows[0];
    let grpc = &rows[1];
    let http = &rows[3];
    let (w_enc, w_grpc, w_http) = (&rows[5], &rows[6], &rows[8]);
    text.push_str(&format!(
        "\nThe transport's share over encode only (CPU per span): gRPC +{}, HTTP +{}. \
         Per batch of {BATCH}: encode only {}, gRPC {}, HTTP {}.\n\n\
         wingspan's exporter (src/telemetry/otlp/, the one `init` builds for spans) against \
         opentelemetry-otlp's, CPU per span: encode only {} against {}, gRPC {} against {}, \
         HTTP {} against {}{}. Run time {:.0} s.\n",
        fmt_ns(grpc.process_cpu - enc.process_cpu),
        fmt_ns(http.process_cpu - enc.process_cpu),
        fmt_ns(enc.process_cpu * BATCH as f64),
        fmt_ns(grpc.process_cpu * BATCH as f64),
        fmt_ns(http.process_cpu * BATCH as f64),
        fmt_ns(w_enc.process_cpu),
        fmt_ns(enc.process_cpu),
        fmt_ns(w_grpc.process_cpu),
        fmt_ns(grpc.process_cpu),
        fmt_ns(w_http.process_cpu),
        fmt_ns(http.process_cpu),
        match (w_grpc.instructions, grpc.instructions) {
            (Some(w), Some(l)) =>
                format!("; instructions per span over gRPC {w:.0} against {l:.0}"),
            _ => String::new(),
        },
        started.elapsed().as_secs_f64(),
    ));
    support::report("Export path: cost per exported span", &text);
}
