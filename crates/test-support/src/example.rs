//! One of the library's examples (`examples/*.rs`) as a real process: built
//! by `cargo build --examples` (or a `cargo test`/`cargo nextest` run, which
//! builds them), listening on a port of its own (`APP_ADDR`), stopped with
//! SIGTERM so that it drains and flushes its telemetry.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::paths;

/// How long a start may take on a busy machine.
const START: Duration = Duration::from_secs(60);

/// Prefixes of inherited variables that would change what the process does.
const SCRUBBED: &[&str] = &["OTEL_", "WINGSPAN_", "APP_ADDR", "RUST_LOG"];

/// A running example; killed (SIGKILL) when dropped.
pub struct Example {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Example {
    /// Starts `<target>/<profile>/examples/<name>` with `vars` and waits until
    /// it accepts connections on `APP_ADDR`.
    pub async fn start(name: &str, vars: &[(&str, &str)]) -> Example {
        let bin = paths::profile_dir()
            .map(|d| d.join("examples").join(name))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            bin.is_file(),
            "{} is missing: build the examples first (`cargo build --examples --all-features`; \
             `make nextest` does)",
            bin.display()
        );
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let mut cmd = Command::new(&bin);
        for (var, _) in std::env::vars() {
            if SCRUBBED.iter().any(|p| var.starts_with(p)) {
                cmd.env_remove(var);
            }
        }
        let child = cmd
            .env("APP_ADDR", addr.to_string())
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", bin.display()));
        let mut example = Example { child, addr };
        let deadline = Instant::now() + START;
        while TcpStream::connect(addr).is_err() {
            let exited = example.child.try_wait().ok().flatten();
            assert!(exited.is_none(), "{name} exited at start: {exited:?}");
            assert!(Instant::now() < deadline, "{name} did not listen on {addr}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        example
    }

    /// `http://{addr}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM, then waits (at most 30 s) for the exit.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        // SAFETY: kill(2) on the pid of a child this value owns and has not reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
