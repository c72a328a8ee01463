//! Database text never reaches the exported logs or the console: the
//! driver crates log NOTICEs at INFO and statements with their literals at
//! DEBUG, and wingspan keeps them below WARN even at `RUST_LOG=debug`.
//!
//! The console is the process's stderr, so the work runs in a child process
//! (this test binary, running the ignored [`driver_logs_child`]) whose
//! stderr the parent reads.

use std::process::Command;
use std::time::Duration;

use crate::support::{self, Protocol, Receiver};

const WAIT: Duration = Duration::from_secs(10);
const ENDPOINT_VAR: &str = "WINGSPAN_TEST_CHILD_ENDPOINT";
const MARKER_VAR: &str = "WINGSPAN_TEST_CHILD_MARKER";

/// Run by [`telemetry_driver_text_never_reaches_logs_or_console`] only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by telemetry_driver_text_never_reaches_logs_or_console"]
async fn driver_logs_child() {
    // Run alone (`--ignored`), it has nothing to do.
    let (Ok(endpoint), Ok(marker)) = (std::env::var(ENDPOINT_VAR), std::env::var(MARKER_VAR))
    else {
        return;
    };
    let cfg = wingspan::Config::builder()
        .var("OTEL_SERVICE_NAME", "wingspan-test.driver-logs-child")
        .var("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .var("OTEL_BSP_SCHEDULE_DELAY", "50")
        .var("RUST_LOG", "debug")
        .var("WINGSPAN_CONSOLE_LOG", "true")
        .build()
        .unwrap();
    let telemetry = wingspan::init(cfg).unwrap();

    let (client, connection) =
        tokio_postgres::connect(&support::database_url(), tokio_postgres::NoTls)
            .await
            .expect("connect to Postgres");
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DO $$ BEGIN RAISE NOTICE 'notice {marker}'; END $$; SELECT 'literal {marker}'"
        ))
        .await
        .unwrap();
    let stmt = client.prepare("SELECT $1::text").await.unwrap();
    client
        .query(&stmt, &[&format!("param {marker}")])
        .await
        .unwrap();
    tracing::info!("child.done");
    telemetry.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_driver_text_never_reaches_logs_or_console() {
    let receiver = Receiver::start().await;
    let marker = support::unique("m4rk3r");
    let output = tokio::task::spawn_blocking({
        let endpoint = receiver.endpoint(Protocol::Grpc);
        let marker = marker.clone();
        move || {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "telemetry::driver_logs::driver_logs_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(ENDPOINT_VAR, endpoint)
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
    // The console works (the child's own event is there)...
    assert!(stderr.contains("child.done"), "console:\n{stderr}");
    // ...and carries no database text.
    assert!(
        !stderr.contains(&marker) && !stdout.contains(&marker),
        "the marker reached the console:\n{stderr}"
    );

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
        "the marker reached the exported logs:\n{}",
        support::dump_logs(&leaked)
    );
    let spans = receiver.spans();
    assert!(
        !spans.iter().any(|s| format!("{s:?}").contains(&marker)),
        "the marker reached a span"
    );
}
