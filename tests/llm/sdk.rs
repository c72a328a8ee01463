//! The official Anthropic Python SDK against the fake Messages API: plain
//! and streamed calls, every event type, thinking and tool-use blocks,
//! cumulative and server-tool usage, an error event mid-stream, a stream
//! without its last blank line, 429 (with `retry-after`) and 529 through
//! the SDK's own retry, and each injected status with the error class the
//! SDK maps it to. The SDK must parse every answer.
//!
//! A nextest test rather than a script: the fakes run in-process, one per
//! scenario with its behaviour and failure queue, and their request counts
//! are checked after the SDK ran. Ignored by a plain `cargo nextest run`
//! (it needs the SDK from PyPI); `make sdk-conformance` (part of
//! `make test`) installs the pinned SDK into `.venv` and runs it, with
//! `WINGSPAN_SDK_PYTHON` naming the venv's interpreter.

use wingspan::llm::fake::{Behaviour, Ending, Failure, FakeAnthropic};

use crate::support;

async fn fake(behaviour: Behaviour, failures: Vec<Failure>) -> FakeAnthropic {
    let fake = FakeAnthropic::start(behaviour).await.expect("fake starts");
    fake.fail_next(failures);
    fake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the official SDK in .venv: make sdk-conformance"]
async fn official_python_sdk_parses_every_answer() {
    let python = std::env::var("WINGSPAN_SDK_PYTHON")
        .expect("WINGSPAN_SDK_PYTHON: the venv's python with anthropic (make sdk-conformance)");
    let plain = fake(Behaviour::default(), vec![]).await;
    let rich = fake(
        Behaviour::default()
            .thinking("Paris is in France.", 7)
            .tool_use("toolu_01fake", "get_weather", r#"{"location": "Paris"}"#)
            .cumulative_usage(true)
            .web_search_requests(1),
        vec![],
    )
    .await;
    let no_blank = fake(
        Behaviour::default().ending(Ending::NoFinalBlankLine),
        vec![],
    )
    .await;
    let mid_error = fake(
        Behaviour::default().error_mid_stream(2, "overloaded_error"),
        vec![],
    )
    .await;
    let retry_429 = fake(
        Behaviour::default(),
        vec![Failure::RateLimited {
            retry_after_secs: 1,
        }],
    )
    .await;
    let retry_529 = fake(Behaviour::default(), vec![Failure::Overloaded]).await;
    let mut statuses = Vec::new();
    for code in [400, 401, 402, 403, 404, 409, 413, 429, 500, 504, 529] {
        statuses.push((
            code,
            fake(Behaviour::default(), vec![Failure::Status(code)]).await,
        ));
    }
    let config = serde_json::json!({
        "plain": plain.base_url(),
        "rich": rich.base_url(),
        "no_final_blank_line": no_blank.base_url(),
        "error_mid_stream": mid_error.base_url(),
        "retry_429": retry_429.base_url(),
        "retry_529": retry_529.base_url(),
        "status": statuses
            .iter()
            .map(|(code, f)| (code.to_string(), serde_json::Value::from(f.base_url())))
            .collect::<serde_json::Map<_, _>>(),
    });
    let script = support::paths::workspace_root().join("tests/llm/sdk_conformance.py");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(config.to_string())
            .output()
    })
    .await
    .unwrap()
    .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.trim_end().ends_with("ok"),
        "the SDK refused an answer:\n{stdout}\n{stderr}"
    );
    assert_eq!(retry_429.received_count(), 2, "the SDK retried the 429");
    assert_eq!(retry_529.received_count(), 2, "the SDK retried the 529");
    for (code, f) in &statuses {
        assert_eq!(f.received_count(), 1, "{code}: max_retries=0");
    }
}
