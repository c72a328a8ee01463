//! The answers the real API gives, from the fake's behaviours through the
//! adapter: every injected status with its documented error type, the
//! fake's `request-id` and request checks, tool-use and thinking blocks
//! captured as parts, reasoning tokens, cumulative and server-tool usage,
//! an error event mid-stream, the stream's endings, and the cost's model
//! labels.

use std::time::Duration;

use wingspan::client::RetryPolicy;
use wingspan::llm::anthropic::{AnthropicError, MessagesRequest};
use wingspan::llm::fake::{error_type_of, Behaviour, Ending, Failure};

use super::{request, setup, MODEL};
use crate::support::{self, RawHttp, Receiver, SpanRecord};

const CAPTURE: &[(&str, &str)] = &[("WINGSPAN_LLM_CAPTURE_CONTENT", "true")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_status_gets_its_documented_error_type_from_the_body() {
    let s = setup(Behaviour::default(), &[]).await;
    let adapter = s.adapter(RetryPolicy::retries(0), Duration::from_secs(5));
    for (status, want) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (409, "conflict_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ] {
        assert_eq!(error_type_of(status), want);
        s.fake.fail_next([Failure::Status(status)]);
        match adapter.messages(&request()).await.unwrap_err() {
            AnthropicError::Api {
                status: got,
                error_type,
            } => assert_eq!((got, error_type.as_str()), (status, want)),
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_without_an_error_type_is_labelled_with_the_status() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, support::Protocol::Grpc, &[]).await;
    let server = RawHttp::start(409, "application/json", br#"{"oops":1}"#.to_vec()).await;
    let claude = wingspan::llm::anthropic::Anthropic::builder(&telemetry)
        .base_url(server.base_url())
        .retry(RetryPolicy::retries(0))
        .build()
        .unwrap();
    let err = claude.messages(&request()).await.unwrap_err();
    assert_eq!(err.error_type(), "409");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_sends_request_ids_checks_max_tokens_and_reads_bearer_keys() {
    let s = setup(Behaviour::default(), &[]).await;
    let http = support::http_client();
    let url = format!("{}/v1/messages", s.fake.base_url());
    let post = |body: serde_json::Value| {
        http.post(&url)
            .header("authorization", "Bearer sk-test")
            .json(&body)
            .send()
    };
    let missing = post(serde_json::json!({"model": MODEL, "messages": []}))
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let header = missing.headers()["request-id"].to_str().unwrap().to_owned();
    assert!(header.starts_with("req_"), "{header}");
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["request_id"], header.as_str());
    for bad in [
        serde_json::json!(0),
        serde_json::json!("8"),
        serde_json::json!(-1),
    ] {
        let refused = post(serde_json::json!({"model": MODEL, "max_tokens": bad, "messages": []}))
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "max_tokens {bad}");
    }

    let ok = post(serde_json::json!({"model": MODEL, "max_tokens": 8, "messages": []}))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let other = ok.headers()["request-id"].to_str().unwrap();
    assert_ne!(other, header, "one id per request");
    assert!(
        s.fake.received().iter().all(|r| r.api_key),
        "Bearer is a key"
    );
}

/// The parts of the captured answer of `span`: `(type, content or name)`.
fn parts(span: &SpanRecord) -> Vec<(String, serde_json::Value)> {
    let output: serde_json::Value =
        serde_json::from_str(span.attr_str("gen_ai.output.messages").unwrap()).unwrap();
    output[0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["type"].as_str().unwrap().to_owned(), p.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_use_and_thinking_are_captured_as_parts_with_reasoning_tokens() {
    let behaviour = Behaviour::default()
        .thinking("Paris is in France; look it up.", 7)
        .tool_use("toolu_01fake", "get_weather", r#"{"location": "Paris"}"#);
    let s = setup(behaviour, CAPTURE).await;
    let adapter = s.default_adapter();
    let message = adapter.messages(&request()).await.unwrap();
    assert_eq!(message.text(), "Hello from the fake Messages API.");
    let kinds: Vec<&str> = message.content.iter().map(|b| b.kind.as_str()).collect();
    assert_eq!(kinds, ["thinking", "text", "tool_use"]);
    adapter
        .stream(&request())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    s.telemetry.force_flush().await.unwrap();
    let spans = s
        .receiver
        .wait_for_spans(
            |s| s.iter().filter(|s| s.name.starts_with("chat ")).count() >= 2,
            super::WAIT,
        )
        .await;
    for chat in spans.iter().filter(|s| s.name.starts_with("chat ")) {
        let parts = parts(chat);
        let types: Vec<&str> = parts.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["reasoning", "text", "tool_call"], "{parts:?}");
        assert_eq!(parts[0].1["content"], "Paris is in France; look it up.");
        assert_eq!(parts[2].1["id"], "toolu_01fake");
        assert_eq!(parts[2].1["name"], "get_weather");
        assert_eq!(
            parts[2].1["arguments"],
            serde_json::json!({"location": "Paris"})
        );
        assert_eq!(
            chat.attr_i64("gen_ai.usage.reasoning.output_tokens"),
            Some(7)
        );
        let reasons = chat.attr("gen_ai.response.finish_reasons").unwrap();
        assert_eq!(reasons.as_array().unwrap()[0].as_str(), Some("tool_use"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_parts_are_capped_like_text() {
    let long = "y".repeat(500);
    let behaviour = Behaviour::default().thinking(long.clone(), 100).tool_use(
        "toolu_01fake",
        "f",
        format!(r#"{{"q": "{long}"}}"#),
    );
    let s = setup(
        behaviour,
        &[
            ("WINGSPAN_LLM_CAPTURE_CONTENT", "true"),
            ("WINGSPAN_LLM_CONTENT_MAX_BYTES", "64"),
        ],
    )
    .await;
    s.default_adapter()
        .stream(&request())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (chat, _) = s.spans(1).await;
    let parts = parts(&chat);
    assert_eq!(parts[0].1["content"].as_str().unwrap().len(), 64);
    let arguments = parts[2].1["arguments"].as_str().unwrap();
    assert_eq!(arguments.len(), 64, "cut arguments: a capped string");
    assert!(arguments.starts_with(r#"{"q": "yyy"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_is_labelled_with_the_requested_and_the_answering_model() {
    // Asked for Opus, answered by Sonnet: priced as Sonnet, labelled as both.
    let s = setup(Behaviour::default().response_model(MODEL), &[]).await;
    let asked = MessagesRequest::new("claude-opus-4-1", 64)
        .user("hi")
        .task("coach");
    s.default_adapter().messages(&asked).await.unwrap();
    let (chat, _) = s.spans(1).await;
    assert_eq!(chat.attr_str("wingspan.gen_ai.pricing.model"), Some(MODEL));
    // 25 × $3 + 10 × $15 per million (Sonnet), not Opus's $15 / $75.
    let cost = chat.attr_f64("wingspan.gen_ai.cost_usd").unwrap();
    assert!((cost - 0.000225).abs() < 1e-12, "{cost}");
    let point = s
        .metric(
            "wingspan.gen_ai.cost",
            &[
                ("gen_ai.request.model", "claude-opus-4-1"),
                ("gen_ai.response.model", MODEL),
                ("gen_ai.token.type", "output"),
            ],
        )
        .await;
    assert!((point.value - 0.00015).abs() < 1e-12, "{}", point.value);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_without_usage_is_unpriced_not_free() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, support::Protocol::Grpc, &[]).await;
    let body = br#"{"id":"msg_nousage","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn"}"#;
    let server = RawHttp::start(200, "application/json", body.to_vec()).await;
    let claude = wingspan::llm::anthropic::Anthropic::builder(&telemetry)
        .base_url(server.base_url())
        .build()
        .unwrap();
    assert_eq!(claude.messages(&request()).await.unwrap().text(), "hi");
    telemetry.force_flush().await.unwrap();
    let chat = receiver
        .wait_for_span(|s| s.name.starts_with("chat "))
        .await;
    assert_eq!(chat.attr_bool("wingspan.gen_ai.unpriced"), Some(true));
    assert!(!chat.has_attr("wingspan.gen_ai.cost_usd"));
    assert!(!chat.has_attr("gen_ai.usage.input_tokens"));
    let unpriced = receiver
        .wait_for_point("wingspan.gen_ai.unpriced", |p| p.value >= 1.0)
        .await;
    assert_eq!(unpriced.value, 1.0);
    assert!(
        receiver.metric("wingspan.gen_ai.cost").is_empty(),
        "no cost recorded for a call without usage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_ends_after_message_delta_is_complete() {
    let s = setup(Behaviour::default(), &[]).await;
    let adapter = s.default_adapter();
    let endings = [Ending::NoFinalBlankLine, Ending::DropAfterMessageDelta];
    for ending in endings {
        s.fake
            .set_behaviour(Behaviour::default().ending(ending).cumulative_usage(true));
        let stream = adapter.stream(&request()).await.unwrap();
        assert_eq!(
            stream.text().await.unwrap(),
            "Hello from the fake Messages API.",
            "{ending:?}"
        );
    }
    s.telemetry.force_flush().await.unwrap();
    let spans = s
        .receiver
        .wait_for_spans(
            |s| s.iter().filter(|s| s.name.starts_with("chat ")).count() >= 2,
            super::WAIT,
        )
        .await;
    for chat in spans.iter().filter(|s| s.name.starts_with("chat ")) {
        let id = chat.attr_str("gen_ai.response.id").unwrap_or_default();
        assert!(!chat.has_attr("error.type"), "{id}");
        assert_eq!(chat.attr_i64("gen_ai.usage.input_tokens"), Some(25));
        assert_eq!(chat.attr_i64("gen_ai.usage.output_tokens"), Some(10));
        let cost = chat.attr_f64("wingspan.gen_ai.cost_usd").unwrap();
        assert!((cost - 0.000225).abs() < 1e-12, "{id}: {cost}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_stream_fails_but_records_its_partial_usage() {
    let s = setup(
        Behaviour::default().ending(Ending::DropBeforeMessageDelta),
        &[],
    )
    .await;
    let stream = s.default_adapter().stream(&request()).await.unwrap();
    let err = stream.text().await.unwrap_err();
    assert_eq!(err.error_type(), "decode", "{err}");
    let (chat, _) = s.spans(1).await;
    assert_eq!(chat.attr_str("error.type"), Some("decode"));
    // message_start's counts: 25 input, 1 output.
    assert_eq!(chat.attr_i64("gen_ai.usage.input_tokens"), Some(25));
    assert_eq!(chat.attr_i64("gen_ai.usage.output_tokens"), Some(1));
    assert!(chat.has_attr("wingspan.gen_ai.cost_usd"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_event_mid_stream_fails_with_its_type() {
    let s = setup(
        Behaviour::default().error_mid_stream(2, "overloaded_error"),
        &[],
    )
    .await;
    let mut stream = s.default_adapter().stream(&request()).await.unwrap();
    let mut text = String::new();
    let err = loop {
        match stream.next().await {
            Ok(Some(wingspan::llm::anthropic::StreamEvent::Text(t))) => text.push_str(&t),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the stream ended without its error"),
            Err(e) => break e,
        }
    };
    assert!(!text.is_empty(), "two deltas came before the error");
    assert_eq!(err.error_type(), "overloaded_error");
    let (chat, _) = s.spans(1).await;
    assert_eq!(chat.attr_str("error.type"), Some("overloaded_error"));
    assert_eq!(chat.attr_i64("gen_ai.usage.input_tokens"), Some(25));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cumulative_and_server_tool_usage_pass_through() {
    let s = setup(
        Behaviour::default()
            .cumulative_usage(true)
            .web_search_requests(2),
        &[],
    )
    .await;
    let adapter = s.default_adapter();
    let message = adapter.messages(&request()).await.unwrap();
    assert_eq!(message.usage().output_tokens, 10);
    let mut stream = adapter.stream(&request()).await.unwrap();
    while stream.next().await.unwrap().is_some() {}
    assert_eq!(stream.usage().input_tokens, 25, "not added twice");
    assert_eq!(stream.usage().output_tokens, 10);
    // The fake did send the server-tool counts the adapter passes over.
    let body = support::http_client()
        .post(format!("{}/v1/messages", s.fake.base_url()))
        .header("x-api-key", "sk-test")
        .json(&serde_json::json!({"model": MODEL, "max_tokens": 8, "messages": []}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(r#""web_search_requests":2"#), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_error_body_names_the_error_type() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, support::Protocol::Grpc, &[]).await;
    let body =
        br#"{"type":"error","error":{"type":"conflict_error","message":"m"},"request_id":"req_1"}"#;
    let server = RawHttp::start(409, "application/json", body.to_vec()).await;
    let claude = wingspan::llm::anthropic::Anthropic::builder(&telemetry)
        .base_url(server.base_url())
        .retry(RetryPolicy::retries(0))
        .build()
        .unwrap();
    let err = claude.messages(&request()).await.unwrap_err();
    assert_eq!(err.error_type(), "conflict_error");
}
