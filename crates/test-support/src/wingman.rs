//! The reference service (package `wingman`, examples/wingman/) as a real
//! process: spawned from the built binary with its own schema, Redis key
//! prefix and ports, its stdout and stderr captured in memory, killed when
//! dropped.
//!
//! ```ignore
//! let receiver = Receiver::start().await;
//! let wingman = Wingman::builder().otlp(&receiver).start().await;
//! let res = support::http_client().get(wingman.url("/api/users/1")).send().await.unwrap();
//! wingman.stop().await; // SIGTERM: drains and flushes telemetry
//! ```
//!
//! A process started with a fresh schema owns it: dropping the `Wingman`
//! drops the schema, panicking test or not. One started on a given schema
//! (`.schema(name)`) leaves it. Either deletes the Redis keys of its own
//! prefix.
//!
//! The binary is `<target>/<profile>/wingman` ([`paths::binary`](super::paths::binary)):
//! `make nextest` builds it first; alone, run `cargo build -p wingman`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::captured::Captured;
use super::{database_url, redis_url, unique, Protocol, Receiver};

/// How long a start may take (migration and seeding included) on a busy machine.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Prefixes of inherited variables that would change what the process does:
/// the test gives each of these explicitly or not at all.
const SCRUBBED: &[&str] = &[
    "OTEL_",
    "WINGSPAN_",
    "WINGMAN_",
    "DB_",
    "REDIS_",
    "ANTHROPIC_",
    "APP_ADDR",
    "ENABLE_METRICS",
    "METRICS_PORT",
    "RUST_LOG",
];

/// The path of the built `wingman` binary, or a message saying how to build it.
pub fn binary() -> Result<PathBuf, String> {
    super::paths::binary("wingman")
}

/// The path of the built `wingman-load` binary (goose), or a message saying
/// how to build it.
pub fn load_binary() -> Result<PathBuf, String> {
    super::paths::binary("wingman-load")
}

/// Settings of one wingman process.
#[derive(Debug, Clone)]
pub struct WingmanBuilder {
    vars: Vec<(String, String)>,
    schema: String,
    key_prefix: String,
    owns_data: bool,
}

impl WingmanBuilder {
    /// Exports to `receiver` over gRPC, with fast export intervals.
    pub fn otlp(self, receiver: &Receiver) -> Self {
        self.var(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            receiver.endpoint(Protocol::Grpc),
        )
        .var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .var("OTEL_METRIC_EXPORT_INTERVAL", "200")
        .var("OTEL_BSP_SCHEDULE_DELAY", "50")
        .var("OTEL_BLRP_SCHEDULE_DELAY", "50")
    }

    /// Sets (or replaces) one variable of the process.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.vars.retain(|(k, _)| *k != name);
        self.vars.push((name, value.into()));
        self
    }

    /// Uses this schema instead of a fresh unique one (two processes on one
    /// schema, a seeded schema kept between runs). The process does not own
    /// it: dropping the `Wingman` leaves the schema (its own Redis keys go).
    pub fn schema(mut self, schema: &str) -> Self {
        self.schema = schema.to_owned();
        self.owns_data = false;
        self
    }

    /// The schema the process will use.
    pub fn schema_name(&self) -> &str {
        &self.schema
    }

    /// Spawns the process; `Err` carries what it printed when it exits or
    /// stays silent for [`START_TIMEOUT`].
    pub async fn try_start(self) -> Result<Wingman, String> {
        let bin = binary()?;
        let mut cmd = Command::new(&bin);
        for (name, _) in std::env::vars() {
            if SCRUBBED.iter().any(|p| name.starts_with(p)) {
                cmd.env_remove(name);
            }
        }
        cmd.env("APP_ADDR", "127.0.0.1:0")
            .env("WINGSPAN_ADMIN_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", database_url())
            .env("REDIS_URL", redis_url())
            .env("WINGMAN_SCHEMA", &self.schema)
            .env("WINGMAN_KEY_PREFIX", &self.key_prefix)
            .env("OTEL_SERVICE_NAME", "wingman-test")
            // Nowhere to export unless `otlp` says where: no retries against nothing.
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none")
            .env("OTEL_LOGS_EXPORTER", "none");
        if self
            .vars
            .iter()
            .any(|(k, _)| k == "OTEL_EXPORTER_OTLP_ENDPOINT")
        {
            cmd.env_remove("OTEL_TRACES_EXPORTER")
                .env_remove("OTEL_METRICS_EXPORTER")
                .env_remove("OTEL_LOGS_EXPORTER");
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", bin.display()))?;
        let out = Captured::start(&mut child);
        let mut wingman = Wingman {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            schema: self.schema,
            key_prefix: self.key_prefix,
            owns_data: self.owns_data,
            out,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let out = wingman.stdout();
            let addr = |prefix: &str| {
                out.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .and_then(|a| a.trim().parse::<SocketAddr>().ok())
            };
            if let (Some(api), Some(admin)) = (addr("listening http://"), addr("admin http://")) {
                wingman.addr = api;
                wingman.admin = admin;
                return Ok(wingman);
            }
            if let Ok(Some(status)) = wingman.child.try_wait() {
                // Let the reader threads drain the pipes.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(format!(
                    "wingman exited during start-up ({status}):\n{}",
                    wingman.output()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "wingman printed no addresses within {START_TIMEOUT:?}:\n{}",
                    wingman.output()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// [`try_start`](Self::try_start), panicking with the process output on failure.
    pub async fn start(self) -> Wingman {
        match self.try_start().await {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        }
    }
}

/// A running wingman process; killed (SIGKILL) when dropped.
pub struct Wingman {
    child: Child,
    /// The API's address (`listening http://…`).
    pub addr: SocketAddr,
    /// The admin listener's address (`admin http://…`).
    pub admin: SocketAddr,
    /// Its Postgres schema.
    pub schema: String,
    /// Its Redis key prefix.
    pub key_prefix: String,
    owns_data: bool,
    out: Captured,
}

impl std::fmt::Debug for Wingman {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wingman")
            .field("pid", &self.child.id())
            .field("addr", &self.addr)
            .field("admin", &self.admin)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Drop for Wingman {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The key prefix is this process's own (unique per builder), shared
        // schema or not: its keys go with it, or every run of a test that
        // starts a second process on a schema leaves them behind.
        // Drop may run inside the test's runtime, which must not block on
        // itself: the cleanup gets a thread and a runtime of its own.
        let schema = self.owns_data.then(|| self.schema.clone());
        let prefix = self.key_prefix.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async {
                    if let Some(schema) = schema {
                        drop_schema(&schema).await;
                    }
                    delete_keys(&prefix).await;
                });
            }
        })
        .join();
    }
}

impl Wingman {
    /// A builder with a fresh schema and key prefix, a small seed (1 000
    /// users), a fast fake Messages API (median 20 ms, P95 60 ms) and no
    /// injected 529s.
    pub fn builder() -> WingmanBuilder {
        let name = unique("wm");
        WingmanBuilder {
            vars: vec![
                ("WINGMAN_SEED_USERS".into(), "1000".into()),
                ("WINGMAN_LLM_MEDIAN_MS".into(), "20".into()),
                ("WINGMAN_LLM_P95_MS".into(), "60".into()),
                ("WINGMAN_LLM_OVERLOAD_EVERY".into(), "0".into()),
                ("WINGSPAN_CONSOLE_LOG".into(), "true".into()),
            ],
            key_prefix: format!("{name}:"),
            schema: name,
            owns_data: true,
        }
    }

    /// `http://<api addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `http://<admin addr><path>`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.out.stdout()
    }

    /// What it printed on stderr so far (console log lines, errors).
    pub fn stderr(&self) -> String {
        self.out.stderr()
    }

    /// Both, labelled, for failure messages.
    pub fn output(&self) -> String {
        self.out.output()
    }

    /// SIGTERM, then waits (asynchronously, so an in-process receiver keeps
    /// taking the final export) up to 15 s for the exit; `None` if it did not
    /// exit in time (it is killed on drop).
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        self.stop_within(Duration::from_secs(15)).await
    }

    /// [`stop`](Self::stop) with a bound of its own.
    pub async fn stop_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` (`libc::SIGSTOP`, `SIGCONT`, ...) to the process.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// SIGTERM, then waits up to `timeout` for the exit, blocking the thread
    /// (prefer [`stop`](Self::stop) in async code); `None` if it did not exit
    /// in time (it is killed on drop).
    pub fn terminate_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM and wait (15 s at most), blocking the thread: the process
    /// drains and flushes. Prefer [`stop`](Self::stop) in async code.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        self.terminate_within(Duration::from_secs(15))
    }

    /// Drops the schema and deletes the Redis keys of this process now
    /// (a process that owns them does so on drop as well).
    pub async fn cleanup(&self) {
        drop_schema(&self.schema).await;
        delete_keys(&self.key_prefix).await;
    }
}

/// `DROP SCHEMA … CASCADE` through a connection of its own.
pub async fn drop_schema(schema: &str) {
    if let Ok((client, conn)) =
        tokio_postgres::connect(&database_url(), tokio_postgres::NoTls).await
    {
        tokio::spawn(conn);
        let _ = client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    }
}

/// Deletes every key starting with `prefix` at `REDIS_URL`.
pub async fn delete_keys(prefix: &str) {
    super::redis::delete_keys(&redis_url(), prefix).await;
}

/// One command to `REDIS_URL`; its reply ([`super::redis::command`]).
pub async fn redis(args: &[&str]) -> Option<fred::types::Value> {
    super::redis::command(&redis_url(), args).await
}
