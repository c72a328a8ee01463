//! The book's porting example after wingspan (package `port-after`,
//! examples/port/after/) as a real process: its own schema (the URL's
//! `search_path`), its own Redis key prefix, exporting to a receiver; its
//! output captured; killed, and its schema and keys removed, when dropped.
//!
//! The binary is `<target>/<profile>/port-after`: `make nextest` builds it
//! first; alone, run `cargo build -p port-after`.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::captured::Captured;
use super::wingman::{delete_keys, drop_schema, START_TIMEOUT};
use super::{database_url, redis_url, unique, Protocol, Receiver};

/// A running `port-after`.
pub struct PortAfter {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its schema (created before the start).
    pub schema: String,
    /// Its Redis key prefix.
    pub key_prefix: String,
    out: Captured,
}

impl std::fmt::Debug for PortAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortAfter")
            .field("pid", &self.child.id())
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl PortAfter {
    /// Creates a schema, spawns the service on it exporting to `receiver`
    /// (gRPC, fast intervals, console log on), and waits for its
    /// `listening http://…` line.
    pub async fn start(receiver: &Receiver) -> PortAfter {
        let bin = super::paths::binary("port-after").unwrap_or_else(|e| panic!("{e}"));
        let schema = unique("port");
        let (admin, conn) = tokio_postgres::connect(&database_url(), tokio_postgres::NoTls)
            .await
            .expect("admin connection to DATABASE_URL");
        tokio::spawn(conn);
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("CREATE SCHEMA");
        let url = database_url();
        let sep = if url.contains('?') { '&' } else { '?' };
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ADDR", "127.0.0.1:0")
            .env(
                "DATABASE_URL",
                format!("{url}{sep}options=-c%20search_path%3D{schema}"),
            )
            .env("REDIS_URL", redis_url())
            .env("NOTES_KEY_PREFIX", &schema)
            .env("OTEL_SERVICE_NAME", "port-after-test")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                receiver.endpoint(Protocol::Grpc),
            )
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            // Nothing is exported on a timer during a test: what reaches the
            // receiver came with the flush at SIGTERM.
            .env("OTEL_METRIC_EXPORT_INTERVAL", "60000")
            .env("OTEL_BSP_SCHEDULE_DELAY", "60000")
            .env("OTEL_BLRP_SCHEDULE_DELAY", "60000")
            .env("WINGSPAN_CONSOLE_LOG", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", bin.display()));
        let out = Captured::start(&mut child);
        let mut port = PortAfter {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            key_prefix: schema.clone(),
            schema,
            out,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let listening = port
                .stdout()
                .lines()
                .find_map(|l| l.strip_prefix("listening http://")?.trim().parse().ok());
            if let Some(addr) = listening {
                port.addr = addr;
                return port;
            }
            let exited = port.child.try_wait().ok().flatten();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "port-after did not start ({exited:?}):\n{}",
                port.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What it printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.out.stdout()
    }

    /// What it printed on stderr so far (its console log).
    pub fn stderr(&self) -> String {
        self.out.stderr()
    }

    /// Both, labelled, for failure messages.
    pub fn output(&self) -> String {
        self.out.output()
    }

    /// SIGTERM, then waits up to 15 s for the exit: whether it exited with 0.
    pub async fn stop(&mut self) -> bool {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

impl Drop for PortAfter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (schema, prefix) = (self.schema.clone(), self.key_prefix.clone());
        // A thread and a runtime of its own: drop may run inside the test's.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async {
                    drop_schema(&schema).await;
                    delete_keys(&prefix).await;
                });
            }
        })
        .join();
    }
}
