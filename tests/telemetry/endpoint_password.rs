//! A password in an OTLP endpoint URL (`https://user:pass@collector`) never
//! shows: not in an exporter build error, not in the warning about dropped
//! telemetry (which quotes the exporter's own error), not in a flush or
//! shutdown error, not on the console nor in the exported log records (the
//! logs endpoint carries the password too, and delivers).
//! (`Debug` of the configuration and its errors: unit tests in
//! `src/config/otel.rs`.)
//!
//! The console is the process's stderr, so the pipeline runs in a child
//! process (this test binary, running the ignored [`endpoint_password_child`])
//! whose output the parent reads.

use std::process::Command;
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _};

use crate::support::{self, Protocol, Receiver};

const WAIT: Duration = Duration::from_secs(10);
const LOGS_VAR: &str = "WINGSPAN_TEST_CHILD_LOGS_ENDPOINT";
const PROTOCOL_VAR: &str = "WINGSPAN_TEST_CHILD_PROTOCOL";
const MARKER_VAR: &str = "WINGSPAN_TEST_CHILD_MARKER";
/// What the warning about lost telemetry starts with.
const DROPPED: &str = "telemetry is being dropped";

/// `http://u:<password>@<host:port><path>` from `http://<host:port>`.
fn with_password(endpoint: &str, password: &str, path: &str) -> String {
    let authority = endpoint
        .strip_prefix("http://")
        .expect("an http:// endpoint");
    format!("http://u:{password}@{authority}{path}")
}

async fn build_error(protocol: Protocol) {
    let marker = support::unique("pwbuild");
    let receiver = Receiver::start().await;
    let mut cfg = support::config(&receiver, protocol, &[]);
    // Valid endpoints pass validation; these are set in code, past it, and
    // the exporter refuses them (a space in the host), quoting them.
    cfg.telemetry.otlp.traces.endpoint = format!("http://u:{marker}@bad host:4318/v1/traces");
    let err = wingspan::Telemetry::builder(cfg)
        .install_globals(false)
        .install_subscriber(false)
        .build()
        .expect_err("an endpoint with a space is refused");
    let shown = format!("{err} | {err:?}");
    assert!(shown.contains("u:***@bad host"), "{shown}");
    assert!(!shown.contains(&marker), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_endpoint_password_never_in_exporter_build_errors() {
    build_error(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_endpoint_password_never_in_exporter_build_errors() {
    build_error(Protocol::HttpProtobuf).await;
}

/// Run by [`endpoint_password_never_printed`] only: traces and metrics go to
/// a closed port and fail, logs (the warning among them) reach the
/// receiver; every endpoint carries the marker as its password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by telemetry_*_endpoint_password_never_printed"]
async fn endpoint_password_child() {
    // Run alone (`--ignored`), it has nothing to do.
    let (Ok(logs), Ok(protocol), Ok(marker)) = (
        std::env::var(LOGS_VAR),
        std::env::var(PROTOCOL_VAR),
        std::env::var(MARKER_VAR),
    ) else {
        return;
    };
    let dead = support::DeadPort::new();
    let cfg = wingspan::Config::builder()
        .var("OTEL_SERVICE_NAME", "wingspan-test.endpoint-password-child")
        .var("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .var(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            with_password(&dead.http(), &marker, ""),
        )
        .var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs)
        .var("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
        .var("OTEL_METRIC_EXPORT_INTERVAL", "100")
        .var("OTEL_BSP_SCHEDULE_DELAY", "50")
        .var("OTEL_BLRP_SCHEDULE_DELAY", "50")
        .var("RUST_LOG", "trace")
        .var("WINGSPAN_CONSOLE_LOG", "true")
        .build()
        .unwrap();
    let telemetry = wingspan::init(cfg).unwrap();
    eprintln!("config: {:?}", telemetry.config());
    for _ in 0..10 {
        telemetry.tracer().start("doomed").end();
    }
    let flushed = telemetry.force_flush().await;
    eprintln!("flush: {flushed:?}");
    if let Err(e) = &flushed {
        eprintln!("flush error: {e}");
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let l = telemetry.loss_counts();
        if l.spans_export_failed > 0 && l.metric_exports_failed > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no export failed: {l:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::info!("child.done");
    let shut = telemetry.shutdown().await;
    eprintln!("shutdown: {shut:?}");
    if let Err(e) = &shut {
        eprintln!("shutdown error: {e}");
    }
}

async fn never_printed(protocol: Protocol) {
    let receiver = Receiver::start().await;
    let marker = support::unique("pwrun");
    let logs = match protocol {
        Protocol::Grpc => with_password(&receiver.grpc_endpoint(), &marker, ""),
        Protocol::HttpProtobuf => with_password(&receiver.http_endpoint(), &marker, "/v1/logs"),
    };
    let output = tokio::task::spawn_blocking({
        let marker = marker.clone();
        move || {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "telemetry::endpoint_password::endpoint_password_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(LOGS_VAR, logs)
                .env(PROTOCOL_VAR, protocol.as_str())
                .env(MARKER_VAR, marker)
                .env_remove("RUST_LOG")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    // The paths ran: the configuration, the warning and the child's own
    // event are on the console...
    assert!(stderr.contains("u:***@127.0.0.1"), "console:\n{stderr}");
    assert!(stderr.contains(DROPPED), "console:\n{stderr}");
    assert!(stderr.contains("child.done"), "console:\n{stderr}");
    // ...without the password.
    assert!(
        !stderr.contains(&marker) && !stdout.contains(&marker),
        "the password reached the console:\n{stderr}"
    );

    // The warning itself is not exported: it is logged on the export
    // thread, where the SDK suppresses its own telemetry.
    let logs = receiver
        .wait_for_logs(|l| l.iter().any(|l| l.body == "child.done"), WAIT)
        .await;
    let leaked: Vec<_> = logs
        .iter()
        .filter(|l| format!("{l:?}").contains(&marker))
        .cloned()
        .collect();
    assert!(
        leaked.is_empty(),
        "the password reached the exported logs:\n{}",
        support::dump_logs(&leaked)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_grpc_endpoint_password_never_printed() {
    never_printed(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_http_endpoint_password_never_printed() {
    never_printed(Protocol::HttpProtobuf).await;
}
