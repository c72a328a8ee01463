//! OpenTelemetry's weaver as a real process: `weaver registry live-check`
//! over the project's registry (`semconv/`) and its dependency, the semantic
//! conventions v1.44, listening for OTLP/gRPC; stopped, it reports every
//! finding as JSON.
//!
//! ```ignore
//! let Some(check) = LiveCheck::start().await else { return }; // no weaver: skipped
//! // ... processes exporting to check.endpoint() ...
//! let report = check.stop().await;
//! assert!(report.violations().is_empty(), "{}", report.summary());
//! ```
//!
//! weaver is found on `PATH`. The registry's dependency, the conventions'
//! release archive named in semconv/manifest.yaml, is kept in the repository
//! ([`VENDORED_MODEL`]): the check runs against a copy of the registry whose
//! dependency points at that folder, or at the one [`MODEL_VAR`] names. So
//! is its second dependency, the `gen_ai.*` attributes of v1.41.1
//! ([`VENDORED_GENAI`]).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{paths, unique};

/// The variable naming a local copy of the semantic conventions v1.44
/// `model/` folder (the registry's dependency).
pub const MODEL_VAR: &str = "WINGSPAN_SEMCONV_MODEL";

/// The v1.44.0 `model/` folder kept in the repository, relative to its root.
pub const VENDORED_MODEL: &str = "third_party/semconv-v1.44.0/model";

/// How long weaver may take to resolve the registry and listen.
const START: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The `weaver` on `PATH`, if any.
pub fn weaver_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("weaver"))
        .find(|p| p.is_file())
}

/// The `gen_ai.*` attributes of semantic conventions v1.41.1 kept in the
/// repository, relative to its root: the registry's second dependency (its
/// README says why).
pub const VENDORED_GENAI: &str = "third_party/semconv-genai-v1.41.1/model";

/// A copy of `semconv/` in `dir`, its dependencies pointed at `model` (for
/// the v1.44 release archive) and at the repository's GenAI folder (for its
/// path relative to the repository's root).
fn registry_copy(dir: &Path, model: &Path) -> PathBuf {
    let root = paths::workspace_root();
    let src = root.join("semconv");
    let dst = dir.join("registry");
    std::fs::create_dir_all(&dst).expect("registry copy");
    for entry in std::fs::read_dir(&src).expect("semconv/") {
        let path = entry.expect("semconv/ entry").path();
        let Some(name) = path.file_name() else {
            continue;
        };
        let mut text = std::fs::read_to_string(&path).expect("semconv/ file");
        if name == "manifest.yaml" {
            text = text
                .lines()
                .map(|line| match line.split_once("registry_path:") {
                    Some((indent, to)) if to.trim().starts_with("https://") => {
                        format!("{indent}registry_path: {}", model.display())
                    }
                    Some((indent, to)) => {
                        format!("{indent}registry_path: {}", root.join(to.trim()).display())
                    }
                    None => line.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        std::fs::write(dst.join(name), text).expect("registry copy");
    }
    dst
}

/// A running `weaver registry live-check`.
pub struct LiveCheck {
    child: Child,
    grpc_port: u16,
    admin_port: u16,
    dir: PathBuf,
}

impl LiveCheck {
    /// Starts the live check, or says why it is skipped (no weaver on
    /// `PATH`). Panics when weaver fails to load the registry or to listen.
    pub async fn start() -> Result<LiveCheck, String> {
        let Some(weaver) = weaver_on_path() else {
            return Err(
                "no `weaver` on PATH (the book's Signals chapter says how to get it)".into(),
            );
        };
        let dir = paths::target_tmp().join(unique("weaver"));
        std::fs::create_dir_all(&dir).expect("weaver's directory");
        let model = std::env::var_os(MODEL_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| paths::workspace_root().join(VENDORED_MODEL));
        let registry = registry_copy(&dir, &model);
        let (grpc_port, admin_port) = (free_port(), free_port());
        let out = std::fs::File::create(dir.join("report.json")).expect("report file");
        let err = std::fs::File::create(dir.join("weaver.log")).expect("log file");
        let child = Command::new(&weaver)
            .args(["registry", "live-check", "--registry"])
            .arg(&registry)
            .args(["--otlp-grpc-address", "127.0.0.1", "--otlp-grpc-port"])
            .arg(grpc_port.to_string())
            .arg("--admin-port")
            .arg(admin_port.to_string())
            .args([
                "--inactivity-timeout",
                "0",
                "--format",
                "json",
                "--no-stream",
            ])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", weaver.display()));
        let mut check = LiveCheck {
            child,
            grpc_port,
            admin_port,
            dir,
        };
        let deadline = Instant::now() + START;
        while TcpStream::connect(("127.0.0.1", grpc_port)).is_err() {
            let exited = check.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = check.log();
                let tail = log.lines().rev().take(15).collect::<Vec<_>>();
                let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
                panic!(
                    "weaver live-check did not start (exit: {exited:?}, model {}):\n{tail}",
                    model.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(check)
    }

    /// The OTLP/gRPC endpoint to export to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("weaver.log")).unwrap_or_default()
    }

    /// Stops the listener (`POST /stop`) and reads the report weaver writes.
    pub async fn stop(mut self) -> Report {
        let stop = format!("http://127.0.0.1:{}/stop", self.admin_port);
        let _ = super::http_client().post(&stop).send().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "weaver did not stop:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let text = std::fs::read_to_string(self.dir.join("report.json")).unwrap_or_default();
        // The report is the JSON document after weaver's own lines.
        let json = text
            .find("\n{")
            .map(|i| &text[i + 1..])
            .or_else(|| text.starts_with('{').then_some(&text[..]))
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_else(|| panic!("no JSON report from weaver:\n{text}\n{}", self.log()));
        Report { json }
    }
}

impl Drop for LiveCheck {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// weaver's live-check report.
pub struct Report {
    /// The report as weaver writes it (`samples`, `statistics`).
    pub json: Value,
}

impl Report {
    /// Findings at level `violation`: `{id} on {signal}: {message}`, sorted,
    /// without repeats.
    pub fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_violations(&self.json["samples"], &mut out);
        out.sort();
        out.dedup();
        out
    }

    /// How many telemetry items weaver saw, by type.
    pub fn seen(&self) -> &Value {
        &self.json["statistics"]["total_entities_by_type"]
    }

    /// The counts of findings by level.
    pub fn summary(&self) -> String {
        format!(
            "findings by level: {}; seen: {}",
            self.json["statistics"]["advice_level_counts"],
            self.seen()
        )
    }
}

fn collect_violations(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_violations(i, out)),
        Value::Object(map) => {
            let level = map.get("level").or_else(|| map.get("advice_level"));
            if level.and_then(Value::as_str) == Some("violation") {
                let text = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or("");
                let id = map
                    .get("id")
                    .or_else(|| map.get("advice_type"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.push(format!(
                    "{id} on {} {}: {}",
                    text("signal_type"),
                    text("signal_name"),
                    text("message")
                ));
            } else {
                map.values().for_each(|i| collect_violations(i, out));
            }
        }
        _ => {}
    }
}
