//! LLM calls instrumented two ways against the fake Messages API on loopback:
//! the Anthropic adapter (one plain and one streamed call) and the
//! client-agnostic wrapper around another client's call. The book's "LLM
//! calls" chapter includes this file between its `ANCHOR` lines.
//!
//! ```text
//! cargo run --example llm_calls --features llm-fake
//! ```
//!
//! It exports to `OTEL_EXPORTER_OTLP_ENDPOINT` like any service
//! (`OTEL_SDK_DISABLED=true` exports nothing) and needs no network: the fake
//! listens on 127.0.0.1.

use std::error::Error;
use std::time::Duration;

use wingspan::llm::anthropic::{Anthropic, MessagesRequest, StreamEvent};
use wingspan::llm::fake::{Behaviour, Failure, FakeAnthropic, Latency};
use wingspan::llm::{Llm, Request, Response, Usage, OPENAI};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let telemetry = wingspan::init(wingspan::Config::from_env()?)?;
    let fake = start_fake().await?;
    adapter(&telemetry, &fake.base_url()).await?;
    any_client(&telemetry).await?;
    println!("the fake received {} requests", fake.received_count());
    telemetry.shutdown().await?;
    Ok(())
}

// ANCHOR: fake
async fn start_fake() -> std::io::Result<FakeAnthropic> {
    let fake = FakeAnthropic::start(
        Behaviour::default()
            .latency(Latency::LogNormal {
                median: Duration::from_millis(80),
                p95: Duration::from_millis(300),
            })
            .usage(Usage {
                input_tokens: 40,
                cache_read_input_tokens: 1200,
                cache_creation_input_tokens: 0,
                output_tokens: 150,
            })
            .chunks(20, Duration::from_millis(3)),
    )
    .await?;
    // The next two requests meet a 429 (retry-after: 1 s), then a 529; the
    // adapter's two retries get through. fake.received() lists each request's
    // traceparent, baggage, model and stream flag.
    fake.fail_next([
        Failure::RateLimited {
            retry_after_secs: 1,
        },
        Failure::Overloaded,
    ]);
    Ok(fake)
}
// ANCHOR_END: fake

// ANCHOR: adapter
async fn adapter(telemetry: &wingspan::Telemetry, base_url: &str) -> Result<(), Box<dyn Error>> {
    // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL and WINGSPAN_LLM_* come from the config;
    // `.base_url(..)` points this one at the fake.
    let claude = Anthropic::builder(telemetry).base_url(base_url).build()?;

    // One line per call; `task` labels the cost ("which model serves which task").
    let request = MessagesRequest::new("claude-sonnet-4-5", 1024)
        .system("You are a dating coach.")
        .user("How do I open a conversation?")
        .task("coach");
    let message = claude.messages(&request).await?;
    let usage = message.usage();
    println!("{} ({} output tokens)", message.text(), usage.output_tokens);

    // Streaming: time to first chunk and time per chunk are recorded as events arrive.
    let mut stream = claude.stream(&request).await?;
    while let Some(event) = stream.next().await? {
        if let StreamEvent::Text(text) = event {
            print!("{text}");
        }
    }
    println!();
    Ok(())
}
// ANCHOR_END: adapter

// ANCHOR: any_client
/// What another client answers (OpenAI-style usage, say).
struct Reply {
    model: String,
    id: String,
    prompt_tokens: u64,
    cached_tokens: u64,
    completion_tokens: u64,
}

async fn any_client(telemetry: &wingspan::Telemetry) -> Result<(), Box<dyn Error>> {
    let llm = Llm::builder(telemetry).build()?; // once, then clone

    let request = Request::chat(OPENAI, "gpt-4o")
        .max_tokens(512)
        .temperature(0.2)
        .task("summary");
    let reply = llm
        .instrument(
            &request,
            my_client_call(), // runs under the gen_ai span: an instrumented client nests below it
            |r: &Reply| {
                Response::new()
                    .model(r.model.clone())
                    .id(r.id.clone())
                    .usage(Usage {
                        // wingspan counts input the Anthropic way: uncached + cache reads + writes.
                        input_tokens: r.prompt_tokens - r.cached_tokens,
                        cache_read_input_tokens: r.cached_tokens,
                        output_tokens: r.completion_tokens,
                        ..Usage::default()
                    })
            },
            |e: &std::io::Error| format!("{:?}", e.kind()), // error.type: keep it low-cardinality
        )
        .await?;
    println!("{} answered {}", reply.model, reply.id);
    Ok(())
}
// ANCHOR_END: any_client

/// Stands in for the other client's call.
async fn my_client_call() -> Result<Reply, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(Reply {
        model: "gpt-4o-2024-08-06".to_owned(),
        id: "chatcmpl-1".to_owned(),
        prompt_tokens: 1300,
        cached_tokens: 1024,
        completion_tokens: 90,
    })
}
