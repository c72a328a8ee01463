//! CPU cost of the LLM instrumentation, against the fake Messages API
//! (`wingspan::llm::fake`) on loopback: the same non-streamed Messages call
//! made raw (plain reqwest + JSON parse), wrapped in `Llm::instrument` (the
//! gen_ai span, duration, tokens and cost), through the instrumented
//! `HttpClient` (one HTTP attempt span), and through the Anthropic adapter
//! (both), side by side in alternating rounds.
//!
//! Everything, the fake server included, runs on one current-thread runtime,
//! so the bench thread's CPU time covers the whole call for every variant and
//! the differences are what the instrumentation adds. Spans go through the
//! batch processor into a no-op exporter, 100 % sampled.

mod support;

use opentelemetry::trace::FutureExt as _;
use wingspan::client::{HttpClient, RetryPolicy};
use wingspan::llm::anthropic::{Anthropic, Message, MessagesRequest};
use wingspan::llm::fake::{Behaviour, FakeAnthropic};
use wingspan::llm::{Llm, Request, Response, ANTHROPIC};

fn telemetry(sampler: &str) -> wingspan::Telemetry {
    let config = wingspan::Config::builder()
        .service_name("bench-llm")
        .var("OTEL_TRACES_SAMPLER", sampler)
        .var("WINGSPAN_CONSOLE_LOG", "false")
        // A queue large enough that the tight loop does not drop spans.
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "65536")
        .build()
        .expect("bench configuration");
    wingspan::Telemetry::builder(config)
        .with_span_exporter(support::Noop)
        .with_metric_exporter(support::Noop)
        .with_log_exporter(support::Noop)
        .install_globals(false)
        .install_subscriber(false)
        .build()
        .expect("telemetry")
}

const MODEL: &str = "claude-sonnet-4-5";

fn body() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": MODEL,
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Say hello."}],
    }))
    .expect("JSON")
}

async fn raw_call(client: &reqwest::Client, url: &str, body: &[u8]) -> Message {
    let response = client
        .post(url)
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("send");
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("message")
}

fn describe(m: &Message) -> Response {
    let mut r = Response::new()
        .model(m.model.clone())
        .id(m.id.clone())
        .usage(m.usage());
    if let Some(reason) = &m.stop_reason {
        r = r.finish_reason(reason.clone());
    }
    r
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (telemetry, unsampled) =
        rt.block_on(async { (telemetry("always_on"), telemetry("always_off")) });
    let fake = rt
        .block_on(FakeAnthropic::start(Behaviour::default()))
        .expect("fake");
    let url = format!("{}/v1/messages", fake.base_url());
    let raw = reqwest::Client::builder().build().expect("reqwest");
    let llm = Llm::builder(&telemetry).build().expect("llm");
    let quiet = Llm::builder(&unsampled).build().expect("llm");
    let http = rt
        .block_on(async {
            HttpClient::builder(&telemetry)
                .retry(RetryPolicy::none())
                .build()
        })
        .expect("client");
    let adapter = rt
        .block_on(async {
            Anthropic::builder(&telemetry)
                .base_url(fake.base_url())
                .llm(llm.clone())
                .http(http.clone())
                .build()
        })
        .expect("adapter");
    let body = body();
    let gen_ai = Request::chat(ANTHROPIC, MODEL)
        .max_tokens(256)
        .server("127.0.0.1", fake.addr().port())
        .task("bench");
    let request = MessagesRequest::new(MODEL, 256)
        .user("Say hello.")
        .task("bench");

    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let iters = env("LLM_BENCH_ITERS", 400);
    let rounds = env("LLM_BENCH_ROUNDS", 15) as usize;
    let mut variants = [
        support::Variant::new("raw reqwest call + parse", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    raw_call(&raw, &url, &body).await;
                }
            })
        }),
        support::Variant::new("raw call under FutureExt::with_context only", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    let cx = opentelemetry::Context::current();
                    raw_call(&raw, &url, &body).with_context(cx).await;
                }
            })
        }),
        support::Variant::new(
            "raw call in Llm::instrument (gen_ai span + metrics + cost)",
            |n| {
                rt.block_on(async {
                    for _ in 0..n {
                        let r: Result<Message, ()> = llm
                            .instrument(
                                &gen_ai,
                                async { Ok(raw_call(&raw, &url, &body).await) },
                                describe,
                                |_| String::new(),
                            )
                            .await;
                        assert!(r.is_ok());
                    }
                })
            },
        ),
        support::Variant::new(
            "raw call in Llm::instrument, sampler off (metrics + cost only)",
            |n| {
                rt.block_on(async {
                    for _ in 0..n {
                        let r: Result<Message, ()> = quiet
                            .instrument(
                                &gen_ai,
                                async { Ok(raw_call(&raw, &url, &body).await) },
                                describe,
                                |_| String::new(),
                            )
                            .await;
                        assert!(r.is_ok());
                    }
                })
            },
        ),
        support::Variant::new("HttpClient::send + parse (HTTP attempt span)", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    let req = http
                        .reqwest()
                        .post(&url)
                        .header("anthropic-version", "2023-06-01")
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .build()
                        .expect("request");
                    let response = http.send(req).await.expect("send");
                    let bytes = response.bytes().await.expect("body");
                    let _m: Message = serde_json::from_slice(&bytes).expect("message");
                }
            })
        }),
        support::Variant::new("Anthropic::messages (gen_ai + HTTP spans)", |n| {
            rt.block_on(async {
                for _ in 0..n {
                    adapter.messages(&request).await.expect("messages");
                }
            })
        }),
    ];
    let m = support::alternating(&mut variants, iters, rounds);
    drop(variants);
    let mut table = support::added_table(&m, "call");
    table.push_str(&format!(
        "\n{} calls per round, {} alternating rounds, medians; one current-thread runtime running the client and the fake Messages API (so each figure includes the server's work, alike for all variants); loopback HTTP/1.1; 100 % sampled into a no-op exporter; spans dropped: {}. Machine: {}. Command: `cargo bench --all-features --bench llm`.\n",
        iters,
        rounds,
        telemetry.dropped_spans(),
        support::machine(),
    ));
    support::report(
        "LLM call: gen_ai wrapper and instrumented client vs raw call (fake Messages API)",
        &table,
    );

    // The wrapper alone, around a future that is ready at once: no I/O, so
    // every nanosecond is the wrapper's (and `block_on`'s, alike for both).
    let message: Message = rt.block_on(raw_call(&raw, &url, &body));
    let ready = |llm: &Llm| {
        let r: Result<&Message, ()> = rt.block_on(llm.instrument(
            &gen_ai,
            async { Ok(&message) },
            |m| describe(m),
            |_| String::new(),
        ));
        assert!(r.is_ok());
    };
    let n = env("LLM_BENCH_READY_ITERS", 20_000);
    let p = support::paired(
        "sampler off",
        || ready(&quiet),
        "sampled",
        || ready(&llm),
        n,
        rounds,
    );
    let alone = format!(
        "| `Llm::instrument` around a ready future | thread CPU / call |\n|---|---|\n| sampler off (duration, 2 token records, 2 cost adds, pricing lookup) | {} |\n| 100 % sampled (plus the span: ~15 attributes, end, batch queue) | {} |\n\n{} calls per round, {} alternating rounds, medians; `block_on` of the current-thread runtime included.\n",
        support::fmt_ns(p.a_cpu_ns_median),
        support::fmt_ns(p.b_cpu_ns_median),
        n,
        rounds,
    );
    support::report("LLM call: the gen_ai wrapper alone", &alone);
}
