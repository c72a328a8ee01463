//! The HTTP layer's added cost per request.
//!
//! One axum router (`GET /api/users/{id}`, a small body, fully consumed),
//! driven by `tower::ServiceExt::oneshot` in a current-thread loop: bare,
//! with wingspan, with opentelemetry-instrumentation-tower 0.19 and with
//! axum-tracing-opentelemetry 0.42, side by side in one run, alternating
//! rounds. Every pipeline is 100 % sampled and ends in a batch processor
//! feeding a no-op exporter. The figures are the request thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`) and wall time, per request.
//!
//! `cargo bench --all-features --bench http` (or `make bench`); the tables
//! are appended to `$WINGSPAN_BENCH_OUT` (default `target/benchmarks.md`).

mod support;

use std::hint::black_box;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path};
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use tower::ServiceExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

use support::{fmt_ns, Medians, Variant};
use wingspan::http::HttpLayer;
use wingspan::Telemetry;

/// Requests per round and rounds of the alternating run.
const ITERS: u64 = 2_000;
const ROUNDS: usize = 101;

fn telemetry(extra: &[(&str, &str)], globals: bool) -> Telemetry {
    let mut b = wingspan::Config::builder()
        .var("OTEL_SERVICE_NAME", "bench")
        .var("OTEL_TRACES_SAMPLER", "always_on")
        // The largest queue wingspan accepts, drained every 50 ms: the tight
        // loop never fills it; drops are counted and reported anyway.
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "65536")
        .var("OTEL_BSP_SCHEDULE_DELAY", "50")
        .var("WINGSPAN_CONSOLE_LOG", "false");
    for (k, v) in extra {
        b = b.var(*k, *v);
    }
    let cfg = b.build().expect("bench configuration");
    Telemetry::builder(cfg)
        .with_span_exporter(support::Noop)
        .with_metric_exporter(support::Noop)
        .with_log_exporter(support::Noop)
        .install_globals(globals)
        .install_subscriber(false)
        .build()
        .expect("bench telemetry")
}

async fn user(Path(id): Path<u64>) -> String {
    format!("user {id}")
}

fn router() -> Router {
    Router::new().route("/api/users/{id}", get(user))
}

/// What `axum::serve` does once (`into_make_service` → `with_state`): turns
/// handlers into routes and applies the layers. Without it axum re-applies
/// every layer on every request.
fn ready(app: Router) -> Router {
    app.with_state(())
}

fn request() -> Request<Body> {
    let mut req = Request::get("/api/users/42")
        .header("host", "api.example.com:8080")
        .header("user-agent", "bench/1.0")
        .body(Body::empty())
        .expect("request");
    // What `into_make_service_with_connect_info` inserts when serving.
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([10, 1, 2, 3], 54321))));
    req
}

#[inline(never)]
fn drive(rt: &tokio::runtime::Runtime, app: &Router, n: u64) {
    rt.block_on(async {
        for _ in 0..n {
            let res = app.clone().oneshot(request()).await.expect("infallible");
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            black_box(body);
        }
    });
}

fn wingspan(t: &Telemetry, f: impl FnOnce(HttpLayer) -> HttpLayer) -> Router {
    ready(router().layer(f(wingspan::http::layer(t))))
}

fn row(m: &Medians, bare: &Medians) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {:.2}× |",
        m.label,
        fmt_ns(m.cpu_ns),
        if m.label == bare.label {
            "—".to_owned()
        } else {
            format!("+{}", fmt_ns(m.cpu_ns - bare.cpu_ns))
        },
        fmt_ns(m.wall_ns),
        if m.label == bare.label {
            "—".to_owned()
        } else {
            format!("+{}", fmt_ns(m.wall_ns - bare.wall_ns))
        },
        m.cpu_ns / bare.cpu_ns,
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _enter = rt.enter();

    // wingspan's pipelines: no globals, no subscriber, so the layer uses
    // only its handle.
    let ours = telemetry(&[], false);
    let ours_prom = telemetry(&[("WINGSPAN_PROMETHEUS", "true")], false);
    // The peers read the globals: the same pipeline shape, installed as
    // the global providers and propagator.
    let peers = telemetry(&[], true);
    let peer_dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(
            tracing_opentelemetry::layer().with_tracer(peers.tracer_provider().tracer("bench")),
        ));

    let bare = ready(router());
    let default = wingspan(&ours, |l| l);
    let span_only = wingspan(&ours, |l| {
        l.duration_metric(false)
            .active_requests_metric(false)
            .response_traceparent(false)
    });
    let span_hist = wingspan(&ours, |l| {
        l.active_requests_metric(false).response_traceparent(false)
    });
    let span_hist_active = wingspan(&ours, |l| l.response_traceparent(false));
    let no_client = wingspan(&ours, |l| l.client_address(false));
    let no_agent = wingspan(&ours, |l| l.user_agent(false));
    let no_server = wingspan(&ours, |l| l.server_address(false));
    let minimal = wingspan(&ours, |l| {
        l.client_address(false)
            .user_agent(false)
            .server_address(false)
    });
    let prom = wingspan(&ours_prom, |l| l);
    let tower_peer =
        ready(router().layer(opentelemetry_instrumentation_tower::http::server::Layer::new()));
    let axum_peer = ready(
        router()
            .layer(axum_tracing_opentelemetry::middleware::OtelInResponseLayer)
            .layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default()),
    );

    let rt = &rt;
    let mut variants = vec![
        Variant::new("bare router", |n| drive(rt, &bare, n)),
        Variant::new("wingspan (default)", |n| drive(rt, &default, n)),
        Variant::new("opentelemetry-instrumentation-tower 0.19", |n| {
            drive(rt, &tower_peer, n)
        }),
        Variant::new("axum-tracing-opentelemetry 0.42", |n| {
            tracing::dispatcher::with_default(&peer_dispatch, || drive(rt, &axum_peer, n))
        }),
        Variant::new("wingspan: span only", |n| drive(rt, &span_only, n)),
        Variant::new("wingspan: span + histogram", |n| drive(rt, &span_hist, n)),
        Variant::new("wingspan: span + histogram + active requests", |n| {
            drive(rt, &span_hist_active, n)
        }),
        Variant::new("wingspan: default − client.address", |n| {
            drive(rt, &no_client, n)
        }),
        Variant::new("wingspan: default − user_agent.original", |n| {
            drive(rt, &no_agent, n)
        }),
        Variant::new("wingspan: default − server.address/port", |n| {
            drive(rt, &no_server, n)
        }),
        Variant::new("wingspan: default − all three", |n| {
            drive(rt, &minimal, n)
        }),
        Variant::new("wingspan: default + prometheus reader", |n| {
            drive(rt, &prom, n)
        }),
    ];

    // Profiling mode (`WINGSPAN_BENCH_ONLY=<label>`): one variant, no report.
    if support::run_only(&mut variants) {
        return;
    }

    // Criterion's view of the four headline variants (thread CPU), short.
    {
        let mut c = support::quick_criterion();
        let mut g = c.benchmark_group("http");
        for v in variants.iter_mut().take(4) {
            let label = v.label.clone();
            g.bench_function(label, |b| {
                b.iter_custom(|iters| {
                    let t0 = support::thread_cpu_ns();
                    (v.run)(iters);
                    support::thread_cpu_ns() - t0
                })
            });
        }
        g.finish();
    }

    let m = support::alternating(&mut variants, ITERS, ROUNDS);
    drop(variants);
    let bare_m = &m[0];

    for t in [&ours, &ours_prom, &peers] {
        rt.block_on(t.force_flush()).expect("flush");
    }
    let losses = |t: &Telemetry| {
        let l = t.loss_counts();
        format!(
            "{} exported, {} dropped (queue full), {} failed",
            l.spans_exported, l.spans_queue_full, l.spans_export_failed
        )
    };

    let mut table = String::new();
    table.push_str(&format!(
        "Machine: {}. Command: `cargo bench --all-features --bench http`. \
         {ROUNDS} alternating rounds of {ITERS} requests per variant; medians per request. \
         Thread CPU is the request thread's `CLOCK_THREAD_CPUTIME_ID`.\n\n",
        support::machine()
    ));
    table.push_str(
        "| variant | thread CPU | added CPU | wall | added wall | CPU ratio |\n|---|---|---|---|---|---|\n",
    );
    for v in &m[..4] {
        table.push_str(&row(v, bare_m));
        table.push('\n');
    }
    table.push_str(&format!(
        "\nSpans: wingspan {}; wingspan+prometheus {}; peers {}.\n",
        losses(&ours),
        losses(&ours_prom),
        losses(&peers)
    ));
    support::report("HTTP layer: added cost per request", &table);

    let mut breakdown = String::from(
        "Cumulative from the span alone to the default layer, then the default without each \
         optional attribute, and with the Prometheus pull reader.\n\n\
         | wingspan variant | thread CPU | added CPU vs bare | wall |\n|---|---|---|---|\n",
    );
    let order = [4usize, 5, 6, 1, 7, 8, 9, 10, 11];
    for &i in &order {
        let v = &m[i];
        breakdown.push_str(&format!(
            "| {} | {} | +{} | {} |\n",
            v.label.trim_start_matches("wingspan: "),
            fmt_ns(v.cpu_ns),
            fmt_ns(v.cpu_ns - bare_m.cpu_ns),
            fmt_ns(v.wall_ns)
        ));
    }
    let d = |a: usize, b: usize| fmt_ns(m[a].cpu_ns - m[b].cpu_ns);
    breakdown.push_str(&format!(
        "\nParts (CPU differences): span {}; histogram {}; active requests {}; response \
         `traceparent` {}; client.address {}; user_agent.original {}; server.address/port {}; \
         Prometheus reader {}.\n",
        fmt_ns(m[4].cpu_ns - bare_m.cpu_ns),
        d(5, 4),
        d(6, 5),
        d(1, 6),
        d(1, 7),
        d(1, 8),
        d(1, 9),
        d(11, 1),
    ));
    support::report("HTTP layer: cost breakdown", &breakdown);

    if support::callgrind_wanted() {
        let labels: Vec<String> = m.iter().map(|v| v.label.clone()).collect();
        if let Some(rows) = support::callgrind_counts("http::drive", &labels, 10_000) {
            support::report(
                "HTTP layer: instructions per request",
                &format!(
                    "Instructions per request on the request thread (callgrind, 10 000 requests \
                     per variant; `WINGSPAN_BENCH_CALLGRIND=1`). Deterministic: the machine's \
                     load does not move them.\n\n{}",
                    support::instructions_table(&rows)
                ),
            );
        }
    }
}
