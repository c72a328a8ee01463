//! The adapter against SSE transcripts built from the Messages API
//! documentation and the official Python SDK's test fixtures
//! (`tests/llm/corpus/*.sse`, each citing its source in its header),
//! served byte for byte a few bytes at a time: whole, without the last
//! blank line, without `message_stop` (the connection closing right
//! after `message_delta`), and without either. Each case checks the result, the gen_ai span
//! (model, id, finish reason, usage, captured parts) and the cost.

use std::time::Duration;

use wingspan::client::RetryPolicy;
use wingspan::llm::anthropic::{Anthropic, AnthropicError, MessagesRequest};

use crate::support::{self, Protocol, RawHttp, Receiver, SpanRecord};

/// A model the pricing table does not know: each call is priced by the
/// model the transcript names, or not at all.
const REQUESTED: &str = "corpus-requested-model";

/// What one transcript must give.
struct Case {
    file: &'static str,
    id: &'static str,
    model: &'static str,
    /// The text, or the call's `error.type`.
    result: Result<&'static str, &'static str>,
    stop: Option<&'static str>,
    /// Input and output tokens (`None`: no usage reported).
    tokens: Option<(i64, i64)>,
    /// The cost in USD (`None`: unpriced).
    cost: Option<f64>,
    /// The captured parts' types, in order (successful calls).
    parts: &'static [&'static str],
    /// The captured tool call's arguments, as JSON (when whole).
    arguments: Option<&'static str>,
}

#[derive(Clone, Copy, Debug)]
enum Variant {
    Whole,
    NoFinalBlankLine,
    NoMessageStop,
    /// Neither `message_stop` nor the blank line closing `message_delta`.
    NoMessageStopNorBlankLine,
}

impl Variant {
    fn body(self, transcript: &str) -> String {
        match self {
            Variant::Whole => transcript.to_owned(),
            Variant::NoFinalBlankLine => transcript.trim_end_matches('\n').to_owned(),
            Variant::NoMessageStop => {
                let trimmed = transcript.trim_end_matches('\n');
                match trimmed.rfind("event: message_stop") {
                    Some(at) => trimmed[..at].to_owned(),
                    None => transcript.to_owned(),
                }
            }
            Variant::NoMessageStopNorBlankLine => Variant::NoMessageStop
                .body(transcript)
                .trim_end_matches('\n')
                .to_owned(),
        }
    }
}

fn transcript(file: &str) -> String {
    let path = support::paths::workspace_root()
        .join("tests/llm/corpus")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn replay(case: &Case) {
    let receiver = Receiver::start().await;
    let extra = [("WINGSPAN_LLM_CAPTURE_CONTENT", "true")];
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, &extra).await;
    let text = transcript(case.file);
    for variant in [
        Variant::Whole,
        Variant::NoFinalBlankLine,
        Variant::NoMessageStop,
        Variant::NoMessageStopNorBlankLine,
    ] {
        // One message id per variant, to tell their spans apart.
        let id = format!("{}_{variant:?}", case.id);
        let body = variant.body(&text).replace(case.id, &id);
        let server = RawHttp::start(200, "text/event-stream", body.into_bytes()).await;
        let claude = Anthropic::builder(&telemetry)
            .base_url(server.base_url())
            .retry(RetryPolicy::retries(0))
            .timeout(Duration::from_secs(5))
            .build()
            .expect("adapter builds");
        let request = MessagesRequest::new(REQUESTED, 1024).user("corpus");
        let got = match claude.stream(&request).await {
            Ok(stream) => stream.text().await,
            Err(e) => Err(e),
        };
        let what = format!("{} ({variant:?})", case.file);
        match (&got, case.result) {
            (Ok(text), Ok(want)) => assert_eq!(text, want, "{what}"),
            (Err(e), Err(want)) => assert_eq!(e.error_type(), want, "{what}: {e}"),
            (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
        }
        if let Err(AnthropicError::Decode(m)) = &got {
            assert_eq!(m, "stream ended before message_stop", "{what}");
        }
        telemetry.force_flush().await.unwrap();
        let span = receiver
            .wait_for_span(|s| s.attr_str("gen_ai.response.id") == Some(id.as_str()))
            .await;
        check_span(case, &span, &what);
    }
}

fn check_span(case: &Case, span: &SpanRecord, what: &str) {
    assert_eq!(span.name, format!("chat {REQUESTED}"), "{what}");
    assert_eq!(
        span.attr_str("gen_ai.response.model"),
        Some(case.model),
        "{what}"
    );
    assert_eq!(
        span.attr_str("error.type"),
        case.result.err(),
        "{what}: error.type"
    );
    let reasons = span
        .attr("gen_ai.response.finish_reasons")
        .and_then(|r| r.as_array())
        .map(|r| r[0].as_str().unwrap_or_default().to_owned());
    assert_eq!(reasons.as_deref(), case.stop, "{what}: finish reason");
    let tokens = span
        .attr_i64("gen_ai.usage.input_tokens")
        .zip(span.attr_i64("gen_ai.usage.output_tokens"));
    assert_eq!(tokens, case.tokens, "{what}: usage");
    match case.cost {
        Some(want) => {
            let got = span.attr_f64("wingspan.gen_ai.cost_usd");
            assert!(
                got.is_some_and(|g| (g - want).abs() < 1e-12),
                "{what}: cost {got:?}, want {want}"
            );
            assert!(!span.has_attr("wingspan.gen_ai.unpriced"), "{what}");
        }
        None => {
            assert!(!span.has_attr("wingspan.gen_ai.cost_usd"), "{what}");
            assert_eq!(
                span.attr_bool("wingspan.gen_ai.unpriced"),
                Some(true),
                "{what}"
            );
        }
    }
    if case.result.is_ok() {
        let output = span
            .attr_str("gen_ai.output.messages")
            .unwrap_or_else(|| panic!("{what}: no gen_ai.output.messages"));
        let parsed: serde_json::Value = serde_json::from_str(output).unwrap();
        let types: Vec<&str> = parsed[0]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, case.parts, "{what}: {output}");
        if let Some(want) = case.arguments {
            let call = parsed[0]["parts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["type"] == "tool_call")
                .unwrap();
            assert!(call["id"].as_str().unwrap().starts_with("toolu_"), "{what}");
            let want: serde_json::Value = serde_json::from_str(want).unwrap();
            assert_eq!(call["arguments"], want, "{what}");
        }
    }
}

const SDK_BASIC: Case = Case {
    file: "sdk_basic.sse",
    id: "msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK",
    model: "claude-3-opus-latest",
    result: Ok("Hello there!"),
    stop: Some("end_turn"),
    tokens: Some((11, 6)),
    cost: None, // not in the pricing table
    parts: &["text"],
    arguments: None,
};

const SDK_TOOL_USE: Case = Case {
    file: "sdk_tool_use.sse",
    id: "msg_019Q1hrJbZG26Fb9BQhrkHEr",
    model: "claude-sonnet-4-20250514",
    result: Ok("I'll check the current weather in Paris for you."),
    stop: Some("tool_use"),
    tokens: Some((377, 65)),
    cost: Some(0.002106), // 377 × $3 + 65 × $15 per million
    parts: &["text", "tool_call"],
    arguments: Some(r#"{"location": "Paris"}"#),
};

const DOCS_TOOL_USE: Case = Case {
    file: "docs_tool_use.sse",
    id: "msg_014p7gG3wDgGV9EUtLvnow3U",
    model: "claude-opus-4-6",
    result: Ok("Okay, let's check the weather for San Francisco, CA:"),
    stop: Some("tool_use"),
    tokens: Some((472, 89)),
    cost: Some(0.004585), // 472 × $5 + 89 × $25 per million
    parts: &["text", "tool_call"],
    arguments: Some(r#"{"location": "San Francisco, CA", "unit": "fahrenheit"}"#),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sdk_basic() {
    replay(&SDK_BASIC).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sdk_tool_use() {
    replay(&SDK_TOOL_USE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sdk_incomplete_partial_json() {
    replay(&Case {
        file: "sdk_incomplete_partial_json.sse",
        id: "msg_01UdjYBBipA9omjYhicnevgq",
        model: "claude-3-7-sonnet-20250219",
        result: Ok("I'll create a comprehensive tax guide for someone with multiple W2s and save it in a file called taxes.txt. Let me do that for you now."),
        stop: Some("max_tokens"),
        tokens: Some((450, 124)),
        cost: None,
        parts: &["text", "tool_call"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sdk_refusal() {
    replay(&Case {
        file: "sdk_refusal.sse",
        id: "msg_01RefusalTestMessage123456789",
        model: "claude-opus-4-7",
        result: Ok(""),
        stop: Some("refusal"),
        tokens: Some((20, 0)),
        cost: Some(0.0001), // 20 × $5 per million
        parts: &["text"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sdk_compaction() {
    replay(&Case {
        file: "sdk_compaction.sse",
        id: "msg_01CompactionEncryptedContent01",
        model: "claude-opus-4-7",
        result: Ok("Hello there!"),
        stop: Some("end_turn"),
        tokens: Some((30, 8)),
        cost: Some(0.00035), // 30 × $5 + 8 × $25 per million
        parts: &["text"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_docs_basic() {
    replay(&Case {
        file: "docs_basic.sse",
        id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
        model: "claude-opus-4-6",
        result: Ok("Hello!"),
        stop: Some("end_turn"),
        tokens: Some((25, 15)),
        cost: Some(0.0005), // 25 × $5 + 15 × $25 per million
        parts: &["text"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_docs_tool_use() {
    replay(&DOCS_TOOL_USE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_docs_thinking() {
    replay(&Case {
        file: "docs_thinking.sse",
        id: "msg_01HzW6YjyfEtYmb8ixZ9iLSt",
        model: "claude-opus-4-6",
        result: Ok("The greatest common divisor of 1071 and 462 is **21**."),
        stop: Some("end_turn"),
        tokens: Some((85, 320)),
        cost: Some(0.008425), // 85 × $5 + 320 × $25 per million
        parts: &["reasoning", "text"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_docs_web_search() {
    replay(&Case {
        file: "docs_web_search.sse",
        id: "msg_01G3EmSKGcNEHJcrK9cPxmwB",
        model: "claude-opus-4-6",
        result: Ok("I'll check the current weather in New York City for you. It is sunny and 21 °C in New York City today."),
        stop: Some("end_turn"),
        // message_delta's counts are cumulative: they replace message_start's.
        tokens: Some((10682, 510)),
        cost: Some(0.06616), // 10 682 × $5 + 510 × $25 per million
        parts: &["text", "text"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_docs_error_event_records_partial_usage() {
    replay(&Case {
        file: "docs_error.sse",
        id: "msg_01ErrorEventMidStream0001",
        model: "claude-haiku-4-5",
        result: Err("overloaded_error"),
        stop: None,
        tokens: Some((25, 1)),
        cost: Some(0.00003), // 25 × $1 + 1 × $5 per million
        parts: &[],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_unmodelled_events_blocks_and_deltas_are_skipped() {
    replay(&Case {
        file: "unmodelled.sse",
        id: "msg_01UnmodelledTypes000001",
        model: "claude-haiku-4-5",
        result: Ok("Hi"),
        stop: Some("end_turn"),
        tokens: Some((10, 2)),
        cost: Some(0.00002), // 10 × $1 + 2 × $5 per million
        parts: &["text"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_no_usage_is_unpriced() {
    replay(&Case {
        file: "no_usage.sse",
        id: "msg_01NoUsageReported0000001",
        model: "claude-haiku-4-5",
        result: Ok("Hi"),
        stop: Some("end_turn"),
        tokens: None,
        cost: None,
        parts: &["text"],
        arguments: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_truncated_fails_with_partial_usage() {
    replay(&Case {
        file: "truncated.sse",
        id: "msg_01TruncatedBeforeDelta01",
        model: "claude-haiku-4-5",
        result: Err("decode"),
        stop: None,
        tokens: Some((25, 1)),
        cost: Some(0.00003),
        parts: &[],
        arguments: None,
    })
    .await;
}
