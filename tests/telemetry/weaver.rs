//! OpenTelemetry's weaver (`weaver registry live-check`) reads what the
//! quickstart and wingman send, against the semantic conventions v1.44 (and
//! v1.41.1's `gen_ai.*` attributes, `third_party/semconv-genai-v1.41.1`) and
//! the project's registry (`semconv/`) together: no violation. Runs where a
//! `weaver` is on `PATH` (against the v1.44 model kept in
//! `third_party/`, or the one `WINGSPAN_SEMCONV_MODEL` names); elsewhere it
//! says why it is skipped. `make semconv-live-check` runs it, after
//! building the binaries and the quickstart, as part of `make test`; it is
//! ignored by a plain nextest run.

use serde_json::json;

use crate::support::weaver::LiveCheck;
use crate::support::{self, Example, Wingman};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "make semconv-live-check runs it (weaver on PATH, the binaries and the quickstart built)"]
async fn weaver_live_check_finds_no_violation_in_the_quickstart_and_wingman() {
    let check = match LiveCheck::start().await {
        Ok(check) => check,
        Err(why) => {
            eprintln!("SKIPPED: weaver live-check: {why}");
            return;
        }
    };
    let endpoint = check.endpoint();
    let otlp = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
    ];
    let http = support::http_client();

    // The quickstart: its three routes (one an LLM route), a log record.
    let mut quickstart = Example::start("quickstart", &otlp).await;
    for path in ["/hello", "/api/users/42"] {
        http.get(quickstart.url(path)).send().await.unwrap();
    }
    http.post(quickstart.url("/api/coach"))
        .send()
        .await
        .unwrap();
    assert!(quickstart.stop().await.is_some_and(|s| s.success()));

    // wingman: pool acquires, queries (one failing on a constraint), Redis
    // reads and writes, an LLM call, process metrics, logs.
    let mut builder = Wingman::builder();
    for (k, v) in otlp {
        builder = builder.var(k, v);
    }
    let mut wingman = builder.start().await;
    let email = format!("{}@example.test", wingman.schema);
    for path in [
        "/api/users/1",
        "/api/users/1/profile",
        "/api/users/1/profile",
        "/api/users/1/matches",
        "/api/challenges",
        "/api/challenges/3",
        "/api/users/99999999",
    ] {
        http.get(wingman.url(path)).send().await.unwrap();
    }
    for (path, body) in [
        ("/api/users", json!({"name": "Ada", "email": email})),
        ("/api/users", json!({"name": "Ada", "email": email})),
        ("/api/sessions", json!({"user_id": 5})),
        (
            "/api/coach",
            json!({"user_id": 1, "question": "How do I serve?"}),
        ),
    ] {
        http.post(wingman.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    assert!(wingman.stop().await.is_some_and(|s| s.success()));

    let report = check.stop().await;
    let seen = report.seen();
    for kind in ["span", "metric", "resource"] {
        assert!(
            seen[kind].as_u64().unwrap_or(0) > 0,
            "weaver saw no {kind}: {}",
            report.summary()
        );
    }
    let violations = report.violations();
    assert!(
        violations.is_empty(),
        "{} violations:\n{}\n{}",
        violations.len(),
        violations.join("\n"),
        report.summary()
    );
}
