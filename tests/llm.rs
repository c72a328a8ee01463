//! LLM calls over the wire: the Anthropic adapter against the fake Messages
//! API (`wingspan::llm::fake`), telemetry into a real OTLP receiver. Plain,
//! streamed and cached calls, 429 with `retry-after`, 529, timeouts,
//! cancellation, unpriced models, `traceparent` at the server, and the
//! content-stays-out marker.
#![cfg(feature = "llm-fake")]

use std::time::{Duration, Instant};

use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::Context;
use wingspan::client::RetryPolicy;
use wingspan::llm::anthropic::{Anthropic, AnthropicError, MessagesRequest};
use wingspan::llm::fake::{Behaviour, Failure, FakeAnthropic, Latency};
use wingspan::llm::Usage;

use crate::support::{self, Kind, Protocol, Receiver, SpanRecord, Status};

const WAIT: Duration = Duration::from_secs(10);
const MODEL: &str = "claude-sonnet-4-5";
const CHAT: &str = "chat claude-sonnet-4-5";
const POST: &str = "POST /v1/messages";

struct Setup {
    receiver: Receiver,
    telemetry: wingspan::Telemetry,
    fake: FakeAnthropic,
}

async fn setup(behaviour: Behaviour, extra: &[(&str, &str)]) -> Setup {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(&receiver, Protocol::Grpc, extra).await;
    let fake = FakeAnthropic::start(behaviour).await.expect("fake starts");
    Setup {
        receiver,
        telemetry,
        fake,
    }
}

impl Setup {
    fn adapter(&self, retry: RetryPolicy, timeout: Duration) -> Anthropic {
        Anthropic::builder(&self.telemetry)
            .base_url(self.fake.base_url())
            .api_key("sk-test")
            .retry(retry.backoff(Duration::from_millis(10), Duration::from_millis(50)))
            .timeout(timeout)
            .build()
            .expect("adapter builds")
    }

    fn default_adapter(&self) -> Anthropic {
        self.adapter(RetryPolicy::retries(2), Duration::from_secs(5))
    }

    /// Flushes and waits for the gen_ai span and `n_http` attempt spans.
    async fn spans(&self, n_http: usize) -> (SpanRecord, Vec<SpanRecord>) {
        self.telemetry.force_flush().await.unwrap();
        let chat = self
            .receiver
            .wait_for_span(|s| s.name.starts_with("chat "))
            .await;
        let spans = self
            .receiver
            .wait_for_spans(
                |s| s.iter().filter(|s| s.name == POST).count() >= n_http,
                WAIT,
            )
            .await;
        let mut http: Vec<SpanRecord> = spans.into_iter().filter(|s| s.name == POST).collect();
        http.sort_by_key(|s| s.attr_i64("http.request.resend_count").unwrap_or(0));
        assert_eq!(
            http.len(),
            n_http,
            "{}",
            support::dump_spans(&self.receiver.spans())
        );
        for h in &http {
            assert!(h.is_child_of(&chat), "attempt not under the gen_ai span");
            assert_eq!(h.kind, Kind::Client);
        }
        (chat, http)
    }

    async fn metric(&self, name: &str, attrs: &[(&str, &str)]) -> support::MetricPoint {
        self.receiver
            .wait_for_point(name, |p| p.matches(attrs))
            .await
    }
}

fn request() -> MessagesRequest {
    MessagesRequest::new(MODEL, 256)
        .system("You are terse.")
        .user("Say hello.")
        .temperature(0.5)
        .top_p(0.9)
        .top_k(40)
        .stop_sequences(["END"])
        .task("coach")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_call_fills_span_metrics_and_cost() {
    let s = setup(
        Behaviour::default().response_model("claude-sonnet-4-5-20250929"),
        &[],
    )
    .await;
    let message = s.default_adapter().messages(&request()).await.unwrap();
    assert_eq!(message.text(), "Hello from the fake Messages API.");

    let (chat, http) = s.spans(1).await;
    assert_eq!(chat.name, CHAT);
    assert_eq!(chat.kind, Kind::Client);
    assert_eq!(chat.status, Status::Unset);
    assert_eq!(chat.attr_str("gen_ai.operation.name"), Some("chat"));
    assert_eq!(chat.attr_str("gen_ai.provider.name"), Some("anthropic"));
    assert_eq!(chat.attr_str("gen_ai.request.model"), Some(MODEL));
    assert_eq!(
        chat.attr_str("gen_ai.response.model"),
        Some("claude-sonnet-4-5-20250929")
    );
    assert!(chat
        .attr_str("gen_ai.response.id")
        .unwrap()
        .starts_with("msg_fake_"));
    let reasons = chat.attr("gen_ai.response.finish_reasons").unwrap();
    assert_eq!(reasons.as_array().unwrap()[0].as_str(), Some("end_turn"));
    assert_eq!(chat.attr_i64("gen_ai.request.max_tokens"), Some(256));
    assert_eq!(chat.attr_f64("gen_ai.request.temperature"), Some(0.5));
    assert_eq!(chat.attr_f64("gen_ai.request.top_p"), Some(0.9));
    assert_eq!(chat.attr_f64("gen_ai.request.top_k"), Some(40.0));
    let stops = chat.attr("gen_ai.request.stop_sequences").unwrap();
    assert_eq!(stops.as_array().unwrap()[0].as_str(), Some("END"));
    assert_eq!(chat.attr_i64("gen_ai.usage.input_tokens"), Some(25));
    assert_eq!(chat.attr_i64("gen_ai.usage.output_tokens"), Some(10));
    assert_eq!(chat.attr_str("server.address"), Some("127.0.0.1"));
    assert_eq!(
        chat.attr_i64("server.port"),
        Some(i64::from(s.fake.addr().port()))
    );
    assert_eq!(chat.attr_str("wingspan.gen_ai.task"), Some("coach"));
    assert_eq!(chat.attr_str("wingspan.gen_ai.pricing.model"), Some(MODEL));
    assert!(!chat.has_attr("gen_ai.request.stream"));
    assert!(!chat.has_attr("error.type"));
    // 25 × $3 + 10 × $15 per million.
    assert!(close(
        chat.attr_f64("wingspan.gen_ai.cost_usd").unwrap(),
        0.000225
    ));

    let h = &http[0];
    assert_eq!(h.attr_str("http.request.method"), Some("POST"));
    assert_eq!(h.attr_i64("http.response.status_code"), Some(200));
    assert_eq!(h.attr_str("url.template"), Some("/v1/messages"));
    assert_eq!(
        h.attr_str("url.full"),
        Some(format!("{}/v1/messages", s.fake.base_url()).as_str())
    );
    assert!(!h.has_attr("http.request.resend_count"));
    assert_eq!(h.status, Status::Unset);

    let base = [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "anthropic"),
        ("gen_ai.request.model", MODEL),
        ("gen_ai.response.model", "claude-sonnet-4-5-20250929"),
        ("wingspan.gen_ai.task", "coach"),
    ];
    let d = s.metric("gen_ai.client.operation.duration", &base).await;
    assert_eq!(d.count, 1);
    assert_eq!(d.unit, "s");
    assert!(!d.has_attr("error.type"));
    let mut input = base.to_vec();
    input.push(("gen_ai.token.type", "input"));
    assert_eq!(
        s.metric("gen_ai.client.token.usage", &input).await.value,
        25.0
    );
    let mut output = base.to_vec();
    output.push(("gen_ai.token.type", "output"));
    assert_eq!(
        s.metric("gen_ai.client.token.usage", &output).await.value,
        10.0
    );
    let cost_in = s
        .metric(
            "wingspan.gen_ai.cost",
            &[
                ("gen_ai.request.model", MODEL),
                ("gen_ai.token.type", "input"),
                ("wingspan.gen_ai.cache", "none"),
                ("wingspan.gen_ai.task", "coach"),
            ],
        )
        .await;
    assert!(close(cost_in.value, 0.000075), "{}", cost_in.value);
    assert_eq!(cost_in.unit, "{USD}");
    let cost_out = s
        .metric(
            "wingspan.gen_ai.cost",
            &[
                ("gen_ai.token.type", "output"),
                ("wingspan.gen_ai.task", "coach"),
            ],
        )
        .await;
    assert!(close(cost_out.value, 0.00015), "{}", cost_out.value);
    let http_d = s
        .metric(
            "http.client.request.duration",
            &[
                ("http.request.method", "POST"),
                ("http.response.status_code", "200"),
                ("server.address", "127.0.0.1"),
            ],
        )
        .await;
    assert_eq!(http_d.count, 1);
    assert!(s.fake.received()[0].api_key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_call_records_first_chunk_and_per_chunk_times() {
    let s = setup(
        Behaviour::default().chunks(5, Duration::from_millis(5)),
        &[],
    )
    .await;
    let stream = s.default_adapter().stream(&request()).await.unwrap();
    assert_eq!(
        stream.text().await.unwrap(),
        "Hello from the fake Messages API."
    );
    assert!(s.fake.received()[0].stream);

    let (chat, http) = s.spans(1).await;
    assert_eq!(chat.attr_bool("gen_ai.request.stream"), Some(true));
    let ttfc = chat
        .attr_f64("gen_ai.response.time_to_first_chunk")
        .unwrap();
    assert!(ttfc > 0.0 && ttfc < 5.0, "{ttfc}");
    assert_eq!(chat.attr_i64("gen_ai.usage.input_tokens"), Some(25));
    assert_eq!(chat.attr_i64("gen_ai.usage.output_tokens"), Some(10));
    assert_eq!(chat.attr_str("gen_ai.response.model"), Some(MODEL));
    assert_eq!(http[0].attr_i64("http.response.status_code"), Some(200));
    // The gen_ai span lasts until message_stop, past the attempt's headers.
    assert!(chat.end_time_unix_nano >= http[0].end_time_unix_nano);

    let base = [
        ("gen_ai.request.model", MODEL),
        ("gen_ai.response.model", MODEL),
    ];
    let first = s
        .metric("gen_ai.client.operation.time_to_first_chunk", &base)
        .await;
    assert_eq!(first.count, 1);
    let per = s
        .metric("gen_ai.client.operation.time_per_output_chunk", &base)
        .await;
    assert_eq!(per.count, 4, "5 deltas: 4 gaps");
    // The gaps are measured on arrival: the network and the scheduler can
    // bunch deltas the fake sent 5 ms apart, so no single gap has a floor.
    // All of them fall inside the call, though, after its first chunk.
    let call = (chat.end_time_unix_nano - chat.start_time_unix_nano) as f64 / 1e9;
    assert!(
        per.value > 0.0 && per.value + ttfc <= call + 1e-3,
        "{} + {ttfc} vs {call}",
        per.value
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_tokens_are_summed_into_input_and_priced_apart() {
    let usage = Usage {
        input_tokens: 100,
        cache_read_input_tokens: 2_000,
        cache_creation_input_tokens: 300,
        output_tokens: 50,
    };
    let s = setup(Behaviour::default().usage(usage), &[]).await;
    let message = s.default_adapter().messages(&request()).await.unwrap();
    assert_eq!(message.usage(), usage);

    let (chat, _) = s.spans(1).await;
    assert_eq!(chat.attr_i64("gen_ai.usage.input_tokens"), Some(2_400));
    assert_eq!(
        chat.attr_i64("gen_ai.usage.cache_read.input_tokens"),
        Some(2_000)
    );
    assert_eq!(
        chat.attr_i64("gen_ai.usage.cache_creation.input_tokens"),
        Some(300)
    );
    assert_eq!(chat.attr_i64("gen_ai.usage.output_tokens"), Some(50));
    // 100×3 + 2000×0.3 + 300×3.75 + 50×15 = 300 + 600 + 1125 + 750 = 2775 µ$.
    assert!(close(
        chat.attr_f64("wingspan.gen_ai.cost_usd").unwrap(),
        0.002775
    ));

    let input = s
        .metric(
            "gen_ai.client.token.usage",
            &[("gen_ai.token.type", "input")],
        )
        .await;
    assert_eq!(input.value, 2_400.0);
    for (cache, usd) in [("none", 0.0003), ("read", 0.0006), ("write", 0.001125)] {
        let p = s
            .metric(
                "wingspan.gen_ai.cost",
                &[
                    ("gen_ai.token.type", "input"),
                    ("wingspan.gen_ai.cache", cache),
                ],
            )
            .await;
        assert!(close(p.value, usd), "{cache}: {}", p.value);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_with_retry_after_is_retried_under_one_gen_ai_span() {
    let s = setup(Behaviour::default(), &[]).await;
    s.fake.fail_next([Failure::RateLimited {
        retry_after_secs: 1,
    }]);
    let started = Instant::now();
    s.default_adapter().messages(&request()).await.unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1),
        "retry-after ignored: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");

    let (chat, http) = s.spans(2).await;
    assert_eq!(chat.status, Status::Unset);
    assert!(!chat.has_attr("error.type"));
    assert_eq!(http[0].attr_i64("http.response.status_code"), Some(429));
    assert_eq!(http[0].attr_str("error.type"), Some("429"));
    assert_eq!(http[0].status, Status::Error);
    assert!(!http[0].has_attr("http.request.resend_count"));
    assert_eq!(http[1].attr_i64("http.request.resend_count"), Some(1));
    assert_eq!(http[1].attr_i64("http.response.status_code"), Some(200));
    assert_eq!(http[1].status, Status::Unset);
    let d = s
        .metric(
            "http.client.request.duration",
            &[("http.response.status_code", "429"), ("error.type", "429")],
        )
        .await;
    assert_eq!(d.count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_beyond_the_bound_ends_the_call_at_once() {
    let s = setup(Behaviour::default(), &[]).await;
    s.fake.fail_next([Failure::RateLimited {
        retry_after_secs: 120,
    }]);
    let started = Instant::now();
    let err = s.default_adapter().messages(&request()).await.unwrap_err();
    // WINGSPAN_LLM_MAX_RETRY_WAIT (30 s) < 120 s: no wait, no resend.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.error_type(), "rate_limit_error");
    assert_eq!(s.fake.received().len(), 1);
    let (chat, http) = s.spans(1).await;
    assert_eq!(chat.attr_str("error.type"), Some("rate_limit_error"));
    assert_eq!(http[0].attr_str("error.type"), Some("429"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overloaded_529_fails_after_bounded_retries() {
    let s = setup(Behaviour::default(), &[]).await;
    s.fake.fail_next([
        Failure::Overloaded,
        Failure::Overloaded,
        Failure::Overloaded,
    ]);
    let err = s.default_adapter().messages(&request()).await.unwrap_err();
    match &err {
        AnthropicError::Api { status, error_type } => {
            assert_eq!((*status, error_type.as_str()), (529, "overloaded_error"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.fake.received().len(), 3, "1 attempt + 2 retries");

    let (chat, http) = s.spans(3).await;
    assert_eq!(chat.status, Status::Error);
    assert_eq!(chat.attr_str("error.type"), Some("overloaded_error"));
    for (i, h) in http.iter().enumerate() {
        assert_eq!(h.attr_str("error.type"), Some("529"));
        assert_eq!(h.attr_i64("http.response.status_code"), Some(529));
        assert_eq!(
            h.attr_i64("http.request.resend_count").unwrap_or(0),
            i as i64
        );
    }
    let d = s
        .metric(
            "gen_ai.client.operation.duration",
            &[("error.type", "overloaded_error")],
        )
        .await;
    assert_eq!(d.count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_recorded_on_every_attempt_and_the_call() {
    let s = setup(
        Behaviour::default().latency(Latency::Fixed(Duration::from_secs(3))),
        &[],
    )
    .await;
    let adapter = s.adapter(RetryPolicy::retries(1), Duration::from_millis(200));
    let started = Instant::now();
    let err = adapter.messages(&request()).await.unwrap_err();
    // Two 200 ms attempts and a ≤ 10 ms back-off; 2× that as the bound.
    assert!(
        started.elapsed() < Duration::from_millis(1_000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.error_type(), "timeout");

    let (chat, http) = s.spans(2).await;
    assert_eq!(chat.attr_str("error.type"), Some("timeout"));
    assert_eq!(chat.status, Status::Error);
    for h in &http {
        assert_eq!(h.attr_str("error.type"), Some("timeout"));
        assert!(!h.has_attr("http.response.status_code"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_call_ends_as_canceled() {
    let s = setup(
        Behaviour::default().latency(Latency::Fixed(Duration::from_secs(30))),
        &[],
    )
    .await;
    let adapter = s.default_adapter();
    let task = tokio::spawn(async move { adapter.messages(&request()).await });
    let deadline = Instant::now() + WAIT;
    while s.fake.received().is_empty() {
        assert!(Instant::now() < deadline, "the request never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    let (chat, http) = s.spans(1).await;
    assert_eq!(chat.attr_str("error.type"), Some("canceled"));
    assert_eq!(http[0].attr_str("error.type"), Some("canceled"));
    let d = s
        .metric(
            "gen_ai.client.operation.duration",
            &[("error.type", "canceled")],
        )
        .await;
    assert_eq!(d.count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_stream_ends_as_canceled() {
    let s = setup(
        Behaviour::default().chunks(5, Duration::from_millis(200)),
        &[],
    )
    .await;
    let mut stream = s.default_adapter().stream(&request()).await.unwrap();
    // message_start, then the first text delta.
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let (chat, _) = s.spans(1).await;
    assert_eq!(chat.attr_str("error.type"), Some("canceled"));
    assert!(chat.has_attr("gen_ai.response.time_to_first_chunk"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_model_is_counted_unpriced_never_guessed() {
    let s = setup(Behaviour::default(), &[]).await;
    let req = MessagesRequest::new("claude-sonnet-9-9", 64).user("hi");
    s.default_adapter().messages(&req).await.unwrap();
    let (chat, _) = s.spans(1).await;
    assert_eq!(chat.name, "chat claude-sonnet-9-9");
    assert_eq!(chat.attr_bool("wingspan.gen_ai.unpriced"), Some(true));
    assert!(!chat.has_attr("wingspan.gen_ai.cost_usd"));
    let p = s
        .metric(
            "wingspan.gen_ai.unpriced",
            &[("gen_ai.request.model", "claude-sonnet-9-9")],
        )
        .await;
    assert_eq!(p.value, 1.0);
    assert!(s.receiver.metric("wingspan.gen_ai.cost").is_empty());
    // Tokens are still counted.
    s.metric(
        "gen_ai.client.token.usage",
        &[("gen_ai.token.type", "input")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traceparent_reaches_the_server_with_the_attempt_as_parent() {
    let s = setup(Behaviour::default(), &[]).await;
    let tracer = s.telemetry.tracer();
    let handler = tracer.start("handler");
    let cx = Context::current_with_span(handler);
    {
        let _g = cx.clone().attach();
        s.default_adapter().messages(&request()).await.unwrap();
    }
    cx.span().end();
    let (chat, http) = s.spans(1).await;
    let handler = s.receiver.wait_for_span(|s| s.name == "handler").await;
    assert!(
        chat.is_child_of(&handler),
        "gen_ai span not under the handler"
    );
    let tp = s.fake.received()[0]
        .traceparent
        .clone()
        .expect("traceparent sent");
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(parts.len(), 4, "{tp}");
    assert_eq!(parts[1], chat.trace_id);
    assert_eq!(
        parts[2], http[0].span_id,
        "the server's parent is the attempt span"
    );
    assert_eq!(parts[3], "01");
    assert_eq!(s.fake.received()[0].baggage, None, "baggage is opt-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baggage_is_injected_when_configured() {
    use opentelemetry::baggage::BaggageExt as _;
    use opentelemetry::KeyValue;
    let s = setup(Behaviour::default(), &[]).await;
    let http = wingspan::client::HttpClient::builder(&s.telemetry)
        .baggage(true)
        .build()
        .unwrap();
    let adapter = Anthropic::builder(&s.telemetry)
        .base_url(s.fake.base_url())
        .http(http)
        .build()
        .unwrap();
    let cx = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
    {
        let _g = cx.attach();
        adapter.messages(&request()).await.unwrap();
    }
    assert_eq!(s.fake.received()[0].baggage.as_deref(), Some("tenant=acme"));
    assert!(!s.fake.received()[0].api_key);
}

const MARKER: &str = "ZEBRA-MARKER-7c1f";

/// Every string that left the process: span names, status messages and
/// attributes, log bodies and attributes, metric attributes.
fn exported_text(r: &Receiver) -> String {
    let mut out = String::new();
    for s in r.spans() {
        out.push_str(&format!(
            "{} {} {:?} {:?}\n",
            s.name, s.status_message, s.attributes, s.events
        ));
    }
    for l in r.logs() {
        out.push_str(&format!("{} {:?}\n", l.body, l.attributes));
    }
    for m in r.metrics() {
        out.push_str(&format!("{} {:?}\n", m.name, m.attributes));
    }
    out
}

async fn marker_run(capture: bool) -> (String, SpanRecord) {
    let extra: &[(&str, &str)] = if capture {
        &[
            ("WINGSPAN_LLM_CAPTURE_CONTENT", "true"),
            ("WINGSPAN_LLM_CONTENT_MAX_BYTES", "64"),
        ]
    } else {
        &[]
    };
    let s = setup(
        Behaviour::default().text(format!("answer with {MARKER} inside")),
        extra,
    )
    .await;
    let long = format!("{MARKER} {}", "x".repeat(500));
    let req = MessagesRequest::new(MODEL, 64)
        .system(format!("system {MARKER}"))
        .user(long)
        .task("coach");
    let adapter = s.default_adapter();
    adapter.messages(&req).await.unwrap();
    adapter.stream(&req).await.unwrap().text().await.unwrap();
    // An API error and a log line on the way: neither may carry content.
    s.fake.fail_next([Failure::Status(400)]);
    let err = adapter.messages(&req).await.unwrap_err();
    tracing::warn!(error = %err, "llm call failed");
    s.telemetry.force_flush().await.unwrap();
    s.receiver
        .wait_for_spans(|s| s.iter().filter(|s| s.name == CHAT).count() >= 3, WAIT)
        .await;
    s.receiver
        .wait_for_log(|l| l.body.contains("llm call failed"))
        .await;
    s.receiver
        .wait_for_point("wingspan.gen_ai.cost", |_| true)
        .await;
    let chat = s.receiver.spans_named(CHAT)[0].clone();
    (exported_text(&s.receiver), chat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_marker_reaches_no_span_log_or_metric_by_default() {
    let (text, chat) = marker_run(false).await;
    assert!(!text.contains(MARKER), "content leaked:\n{text}");
    assert!(!chat.has_attr("gen_ai.input.messages"));
    assert!(!chat.has_attr("gen_ai.system_instructions"));
    assert!(!chat.has_attr("gen_ai.output.messages"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opted_in_content_is_recorded_and_capped() {
    let (text, chat) = marker_run(true).await;
    assert!(text.contains(MARKER), "capture on, yet no content");
    let input = chat.attr_str("gen_ai.input.messages").unwrap();
    let parsed: serde_json::Value = serde_json::from_str(input).unwrap();
    let content = parsed[0]["parts"][0]["content"].as_str().unwrap();
    assert!(content.starts_with(MARKER));
    assert_eq!(
        content.len(),
        64,
        "capped at WINGSPAN_LLM_CONTENT_MAX_BYTES"
    );
    assert_eq!(parsed[0]["role"], "user");
    assert!(chat
        .attr_str("gen_ai.system_instructions")
        .unwrap()
        .contains(MARKER));
    assert!(chat
        .attr_str("gen_ai.output.messages")
        .unwrap()
        .contains(MARKER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_client_gets_the_same_span_through_instrument() {
    use wingspan::llm::{Llm, Request, Response};
    let s = setup(Behaviour::default(), &[]).await;
    let llm = Llm::builder(&s.telemetry).build().unwrap();
    let request = Request::chat(wingspan::llm::OPENAI, "gpt-4o")
        .max_tokens(100)
        .task("summary");
    let out: Result<u32, String> = llm
        .instrument(
            &request,
            async {
                // The client's own spans nest under the gen_ai span.
                let child = opentelemetry::global::tracer("client").start("client work");
                drop(child);
                Ok(7)
            },
            |_| {
                Response::new().model("gpt-4o-2024-08-06").usage(Usage {
                    input_tokens: 10,
                    output_tokens: 5,
                    ..Usage::default()
                })
            },
            |e: &String| e.clone(),
        )
        .await;
    assert_eq!(out, Ok(7));
    let failed: Result<u32, String> = llm
        .instrument(
            &request,
            async { Err("boom".to_owned()) },
            |_| Response::new(),
            |_| "rate_limited".to_owned(),
        )
        .await;
    assert!(failed.is_err());
    s.telemetry.force_flush().await.unwrap();
    let ok = s
        .receiver
        .wait_for_span(|s| s.name == "chat gpt-4o" && !s.has_attr("error.type"))
        .await;
    assert_eq!(ok.attr_str("gen_ai.provider.name"), Some("openai"));
    assert_eq!(ok.attr_bool("wingspan.gen_ai.unpriced"), Some(true));
    let child = s.receiver.wait_for_span(|s| s.name == "client work").await;
    assert!(child.is_child_of(&ok));
    let bad = s
        .receiver
        .wait_for_span(|s| s.name == "chat gpt-4o" && s.has_attr("error.type"))
        .await;
    assert_eq!(bad.attr_str("error.type"), Some("rate_limited"));
}

/// The Prometheus names the dashboards query, from the pull endpoint (the
/// same translation as the collector path).
#[cfg(feature = "prometheus")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_names_are_the_documented_ones() {
    let s = setup(Behaviour::default(), &[("WINGSPAN_PROMETHEUS", "true")]).await;
    let adapter = s.default_adapter();
    adapter.messages(&request()).await.unwrap();
    adapter
        .stream(&request())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    adapter
        .messages(&MessagesRequest::new("house-model", 8).user("hi"))
        .await
        .unwrap();
    let text = s.telemetry.prometheus_text().expect("pull registry on");
    for needle in [
        "gen_ai_client_operation_duration_seconds_bucket{",
        "gen_ai_client_token_usage_bucket{",
        "gen_ai_client_operation_time_to_first_chunk_seconds_bucket{",
        "gen_ai_client_operation_time_per_output_chunk_seconds_bucket{",
        "wingspan_gen_ai_cost_total{",
        "wingspan_gen_ai_unpriced_total{",
        "http_client_request_duration_seconds_bucket{",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(needle)),
            "{needle} missing:\n{text}"
        );
    }
    let cost = text
        .lines()
        .find(|l| {
            l.starts_with("wingspan_gen_ai_cost_total{")
                && l.contains("gen_ai_token_type=\"output\"")
        })
        .unwrap();
    for label in [
        "gen_ai_request_model=\"claude-sonnet-4-5\"",
        "wingspan_gen_ai_task=\"coach\"",
    ] {
        assert!(cost.contains(label), "{cost}");
    }
}

/// The wrapper feeds the in-process view: one row per requested model with
/// calls, failures, tokens (input = input + cache read + cache creation)
/// and cost, so `/health/detailed` shows them with no backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_feed_the_in_process_view() {
    let s = setup(Behaviour::default(), &[]).await;
    let adapter = s.default_adapter();
    adapter.messages(&request()).await.unwrap();
    adapter.messages(&request()).await.unwrap();
    s.fake.fail_next([
        Failure::Overloaded,
        Failure::Overloaded,
        Failure::Overloaded,
    ]);
    adapter.messages(&request()).await.unwrap_err();

    // The current minute and the one before: the records above may
    // straddle a minute boundary.
    let snap = s.telemetry.stats().expect("on by default").snapshot(2);
    let row = snap
        .models
        .iter()
        .find(|m| m.model == MODEL)
        .unwrap_or_else(|| panic!("no row for {MODEL}: {:?}", snap.models));
    assert_eq!((row.calls, row.errors), (3, 1));
    // The fake answers 25 input and 10 output tokens per call.
    assert_eq!((row.input_tokens, row.output_tokens), (50, 20));
    // claude-sonnet-4-5: $3 in, $15 out per million tokens.
    let expected = 2.0 * (25.0 * 3.0 + 10.0 * 15.0) / 1e6;
    assert!(
        close(row.cost_usd, expected),
        "{} vs {expected}",
        row.cost_usd
    );
    assert!(row.p95_ms > 0.0);
}

mod bounds;
mod corpus;
mod redirect;
mod sdk;
mod shapes;
