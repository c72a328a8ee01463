//! What wingspan's integration tests (the library's `tests/`) share: real
//! OTLP receivers (gRPC and HTTP/protobuf) that collect what the SDK sends
//! over the wire, a one-call pipeline set-up pointed at them, service URLs,
//! private Postgres and Redis servers, the wingman process driver, headless
//! Chromium, and where the workspace's built binaries are.
//!
//! ```ignore
//! let receiver = Receiver::start().await;
//! let telemetry = support::telemetry(&receiver, Protocol::Grpc, &[]).await;
//! // ... exercise ...
//! telemetry.force_flush().await.unwrap();
//! let span = receiver.wait_for_span(|s| s.name == "GET /api/users/{id}").await;
//! let point = receiver
//!     .wait_for_point("http.server.request.duration", |p| p.count == 1)
//!     .await;
//! ```

mod app;
mod browser;
mod captured;
mod example;
mod grpc;
mod http;
mod model;
pub mod paths;
pub mod port;
pub mod postgres;
mod raw_http;
mod receiver;
pub mod redis;
mod silent;
pub mod weaver;
pub mod wingman;

use std::sync::atomic::{AtomicUsize, Ordering};

pub use app::{spawn_app, spawn_app_with_peer};
pub use browser::Browser;
pub use captured::Captured;
pub use example::Example;
pub use grpc::MutualTls;
pub use model::{
    attrs_key, hex, Attributes, EventRecord, Kind, LogRecord, MetricKind, MetricPoint, SpanRecord,
    Status, Transport, Value,
};
pub use port::PortAfter;
pub use postgres::{Certs, PrivatePostgres};
pub use raw_http::RawHttp;
pub use receiver::{dump_logs, dump_metrics, dump_spans, Export, Receiver, Signal, WAIT};
pub use redis::{KeyPrefix, PrivateRedis};
pub use silent::{black_hole, resident_bytes, SilentCollector};
pub use wingman::{Wingman, WingmanBuilder};
pub use wingspan::config::Protocol;

/// Installs rustls' ring provider as this process's default, once. reqwest
/// is built without a default crypto provider (the library names ring
/// wherever it builds a TLS config), so a test's own reqwest client needs
/// one; `wingspan::init` installs it too, but not every test starts a
/// pipeline.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A reqwest client for a test's own requests (after [`install_crypto_provider`]).
pub fn http_client() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::new()
}

/// The metric export interval `telemetry` configures, in ms.
pub const METRIC_INTERVAL_MS: u64 = 200;
/// The batch span/log processor delay `telemetry` configures, in ms.
pub const BSP_DELAY_MS: u64 = 50;

/// The variables `telemetry` sets, before `extra` (which wins).
pub fn config_vars(
    receiver: &Receiver,
    protocol: Protocol,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = vec![
        ("OTEL_SERVICE_NAME".into(), test_service_name()),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
            receiver.endpoint(protocol),
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL".into(),
            protocol.as_str().into(),
        ),
        (
            "OTEL_METRIC_EXPORT_INTERVAL".into(),
            METRIC_INTERVAL_MS.to_string(),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY".into(), BSP_DELAY_MS.to_string()),
        ("OTEL_BLRP_SCHEDULE_DELAY".into(), BSP_DELAY_MS.to_string()),
        ("WINGSPAN_CONSOLE_LOG".into(), "false".into()),
        // A typo in a test's OTEL_* variable must fail the test, not fall
        // back to the default as a service would.
        ("WINGSPAN_STRICT_CONFIG".into(), "true".into()),
        ("DATABASE_URL".into(), database_url()),
        ("REDIS_URL".into(), redis_url()),
    ];
    // `make test-pgbouncer` runs the db tests through a transaction pooler.
    if let Ok(cache) = std::env::var("DB_STATEMENT_CACHE") {
        vars.push(("DB_STATEMENT_CACHE".into(), cache));
    }
    vars.extend(extra.iter().map(|(k, v)| ((*k).into(), (*v).into())));
    vars
}

/// A validated configuration exporting to `receiver` over `protocol`, with
/// fast export (metrics every 200 ms, spans and logs batched every 50 ms),
/// no console output, the service name of the running test, and `extra`
/// variables on top (they win).
pub fn config(receiver: &Receiver, protocol: Protocol, extra: &[(&str, &str)]) -> wingspan::Config {
    let mut b = wingspan::Config::builder();
    for (k, v) in config_vars(receiver, protocol, extra) {
        b = b.var(k, v);
    }
    b.build().expect("test configuration is valid")
}

/// `wingspan::init` with [`config`]: installs the global providers,
/// propagator and `tracing` subscriber (nextest runs one test per process).
pub async fn telemetry(
    receiver: &Receiver,
    protocol: Protocol,
    extra: &[(&str, &str)],
) -> wingspan::Telemetry {
    wingspan::init(config(receiver, protocol, extra)).expect("wingspan::init")
}

/// The service name for the running test, from libtest's thread name.
pub fn test_service_name() -> String {
    let name = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(|n| n.replace("::", "."))
        .unwrap_or_else(|| "test".to_owned());
    format!("wingspan-test.{name}")
}

/// `DATABASE_URL`, else the local default.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `REDIS_URL`, else the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Where a service URL points, as its driver reads it: what the spans'
/// `server.address`, `server.port` and `db.namespace` must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// The database name (Postgres) or index (Redis).
    pub namespace: String,
    /// The login role (Postgres) or user (Redis, `default` when unnamed).
    pub user: String,
}

/// [`database_url`] through tokio-postgres' own parser.
pub fn database_target() -> Target {
    let cfg: tokio_postgres::Config = database_url().parse().expect("DATABASE_URL parses");
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_owned(),
    };
    let user = cfg.get_user().unwrap_or("postgres").to_owned();
    Target {
        host,
        port: cfg.get_ports().first().copied().unwrap_or(5432),
        namespace: cfg.get_dbname().unwrap_or(&user).to_owned(),
        user,
    }
}

impl Target {
    /// The server's TCP address (the first its name resolves to).
    pub fn socket_addr(&self) -> std::net::SocketAddr {
        use std::net::ToSocketAddrs as _;
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("{}:{} does not resolve", self.host, self.port))
    }
}

/// [`database_url`] with its server replaced by `127.0.0.1:port` (a proxy
/// in front of it): the same role, password, database and parameters.
pub fn database_url_through(port: u16) -> String {
    let url = database_url();
    if let Some((scheme, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| format!("{user}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}127.0.0.1:{port}{tail}")
    } else {
        // key=value form: every other pair as it is.
        let kept: Vec<&str> = url
            .split_whitespace()
            .filter(|kv| {
                !["host=", "hostaddr=", "port="]
                    .iter()
                    .any(|k| kv.starts_with(k))
            })
            .collect();
        format!("{} host=127.0.0.1 port={port}", kept.join(" "))
    }
}

/// [`redis_url`] through fred's own parser.
pub fn redis_target() -> Target {
    let cfg = fred::types::config::Config::from_url(&redis_url()).expect("REDIS_URL parses");
    let server = match &cfg.server {
        fred::types::config::ServerConfig::Centralized { server } => server.clone(),
        other => panic!("REDIS_URL is not a single server: {other:?}"),
    };
    Target {
        host: server.host.to_string(),
        port: server.port,
        namespace: cfg.database.unwrap_or(0).to_string(),
        user: cfg.username.unwrap_or_else(|| "default".to_owned()),
    }
}

/// A name unique to this test run and call, `[a-z0-9_]` only, usable as a
/// schema name or key prefix: `<prefix>_<pid>_<n>_<nanos>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// The points of metric `name` whose attributes include every `(key,
/// value)` of `attrs` (values compared as text, so `("http.response.status_code",
/// "200")` matches the integer 200).
pub fn find_points<'a>(
    points: &'a [MetricPoint],
    name: &str,
    attrs: &[(&str, &str)],
) -> Vec<&'a MetricPoint> {
    points
        .iter()
        .filter(|p| p.name == name && p.matches(attrs))
        .collect()
}

/// The single point of metric `name` matching `attrs`; panics with a dump if
/// there is not exactly one.
pub fn find_point<'a>(
    points: &'a [MetricPoint],
    name: &str,
    attrs: &[(&str, &str)],
) -> &'a MetricPoint {
    let found = find_points(points, name, attrs);
    match found.as_slice() {
        [one] => one,
        _ => panic!(
            "expected exactly one point of {name} with {attrs:?}, found {}:\n{}",
            found.len(),
            dump_metrics(points)
        ),
    }
}

/// A port on 127.0.0.1 held by a socket that is bound but never listens:
/// a connection is refused at once, and no other test can take the port
/// while this lives. (A port bound and released at once is free again, and
/// the next `bind(0)` of a test running in parallel may get it: a "dead"
/// collector or Redis would then answer.) `release` gives the port up, to
/// start a server on it: hold it until the server starts.
pub struct DeadPort {
    pub port: u16,
    socket: Option<fred::socket2::Socket>,
}

// No Default: making one binds a socket, not a value to take for granted.
#[allow(clippy::new_without_default)]
impl DeadPort {
    pub fn new() -> DeadPort {
        use fred::socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        socket
            .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("bind");
        let port = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .expect("local addr")
            .port();
        DeadPort {
            port,
            socket: Some(socket),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Frees the port (for a server to start on it) and returns it.
    pub fn release(&mut self) -> u16 {
        self.socket = None;
        self.port
    }
}
