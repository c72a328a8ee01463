//! The full request cost: one in-process request that does what a typical
//! wingman route does (HTTP + pool acquire + one query + one cache GET +
//! metrics), instrumented against bare, part by part.
//!
//! One axum route (`GET /api/users/{id}`) driven by `tower::ServiceExt::oneshot`
//! in a current-thread loop (as `benches/http.rs`): its handler acquires a
//! Postgres connection, runs one prepared query with the path's id, returns
//! it, then GETs one Redis key. The variants add wingspan one part at a time,
//! so each difference is one part's cost:
//!
//! 0. bare: bare router, plain deadpool-postgres pool (`prepare_cached`), raw fred;
//! 1. adds wingspan's HTTP layer;
//! 2. adds wingspan's pool (acquire span, wait/use time, leak slot; the query
//!    still runs on the raw tokio-postgres client);
//! 3. adds the query instrument (`Queryable::query_one`);
//! 4. adds the cache instrument (`Cache::get`): everything, 100 % sampled;
//! 5. everything with the sampler off: metrics and the in-process view only;
//! 6. everything with the sampler off and `WINGSPAN_STATS=false`: OTel metrics only.
//!
//! Spans go through the batch processor to a no-op exporter; metrics to a
//! no-op periodic reader. Both pools hold one connection with the same
//! settings (server `statement_timeout`, keepalives, deadpool timeouts), so
//! the differences are instrumentation. Thread CPU medians over alternating
//! rounds, and callgrind instruction counts (`WINGSPAN_BENCH_CALLGRIND=1`,
//! set by `make bench` when valgrind is installed), which loopback noise
//! cannot move.
//!
//! Needs Postgres at `DATABASE_URL` and Redis at `REDIS_URL`.
//! `cargo bench --all-features --bench request`.

mod support;

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use fred::interfaces::KeysInterface as _;
use tower::ServiceExt as _;

use support::{fmt_ns, Medians, Variant};
use wingspan::cache::Cache;
use wingspan::db::{Pool, Queryable as _};
use wingspan::Telemetry;

/// Requests per round and rounds of the alternating run.
const ITERS: u64 = 200;
const ROUNDS: usize = 31;
/// Requests per variant under callgrind.
const CALLGRIND_ITERS: u64 = 3_000;

/// One small prepared query with a parameter: the instrumentation's cost
/// does not depend on the rows, and a cheap query keeps loopback noise low.
const SQL: &str = "SELECT $1::int8 + 1";

/// How much of wingspan a variant uses (cumulative, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Bare,
    Http,
    Acquire,
    Query,
    Cache,
}

struct App {
    stage: Stage,
    plain: deadpool_postgres::Pool,
    pool: Pool,
    /// `SQL` prepared on the single connection of `pool`, for stage Acquire.
    raw_statement: tokio_postgres::Statement,
    redis: fred::clients::Pool,
    cache: Cache,
    key: String,
}

async fn handler(State(app): State<Arc<App>>, Path(id): Path<i64>) -> String {
    let n: i64 = match app.stage {
        Stage::Bare | Stage::Http => {
            let c = app.plain.get().await.expect("plain get");
            let st = c.prepare_cached(SQL).await.expect("prepare");
            c.query_one(&st, &[&id]).await.expect("query").get(0)
        }
        Stage::Acquire => {
            let c = app.pool.get().await.expect("get");
            let raw = c.raw().expect("raw client");
            raw.query_one(&app.raw_statement, &[&id])
                .await
                .expect("query")
                .get(0)
        }
        Stage::Query | Stage::Cache => {
            let c = app.pool.get().await.expect("get");
            c.query_one(SQL, &[&id]).await.expect("query").get(0)
        }
    };
    let v: Option<String> = if app.stage >= Stage::Cache {
        app.cache.get(&app.key).await.expect("GET")
    } else {
        app.redis.next().get(&app.key).await.expect("GET")
    };
    format!("user {n} {}", v.map_or(0, |v| v.len()))
}

fn telemetry(sampler: &str, stats: bool) -> Telemetry {
    let cfg = wingspan::Config::builder()
        .var("OTEL_SERVICE_NAME", "bench-request")
        .var("OTEL_TRACES_SAMPLER", sampler)
        .var("OTEL_BSP_MAX_QUEUE_SIZE", "65536")
        .var("OTEL_BSP_SCHEDULE_DELAY", "50")
        .var("WINGSPAN_CONSOLE_LOG", "false")
        .var("WINGSPAN_STATS", if stats { "true" } else { "false" })
        .var("DATABASE_URL", database_url())
        .var("REDIS_URL", redis_url())
        .var("DB_POOL_SIZE", "1")
        .var("DB_MAX_CONNECTIONS", "1")
        .build()
        .expect("bench configuration");
    Telemetry::builder(cfg)
        .with_span_exporter(support::Noop)
        .with_metric_exporter(support::Noop)
        .with_log_exporter(support::Noop)
        .install_globals(false)
        .install_subscriber(false)
        .build()
        .expect("bench telemetry")
}

fn database_url() -> String {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    // Plain TCP on both sides: the comparison is instrumentation, not TLS.
    if url.contains("sslmode=") {
        url
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A plain deadpool-postgres pool of one connection configured as
/// wingspan's (server-side statement_timeout, keepalives, deadpool timeouts).
fn plain_pool() -> deadpool_postgres::Pool {
    let mut pg = database_url()
        .parse::<tokio_postgres::Config>()
        .expect("DATABASE_URL");
    pg.options("-c statement_timeout=30000").keepalives(true);
    deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(pg, tokio_postgres::NoTls))
        .max_size(1)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .build()
        .expect("plain pool")
}

/// The shared state of every variant built on `t`.
struct Parts {
    plain: deadpool_postgres::Pool,
    pool: Pool,
    raw_statement: tokio_postgres::Statement,
    cache: Cache,
    key: String,
}

async fn parts(t: &Telemetry, key: &str) -> Parts {
    let pool = Pool::builder(t)
        .build()
        .await
        .expect("pool (is Postgres running at DATABASE_URL?)");
    let raw_statement = {
        let c = pool.get().await.expect("get");
        let st = c.raw().expect("raw").prepare(SQL).await.expect("prepare");
        st
    };
    let cache = Cache::builder(t)
        .info_metrics(false)
        .build()
        .await
        .expect("cache");
    assert!(cache.is_connected(), "the bench needs Redis at REDIS_URL");
    Parts {
        plain: plain_pool(),
        pool,
        raw_statement,
        cache,
        key: key.to_owned(),
    }
}

fn app(p: &Parts, stage: Stage, layer: Option<&Telemetry>) -> Router {
    let state = Arc::new(App {
        stage,
        plain: p.plain.clone(),
        pool: p.pool.clone(),
        raw_statement: p.raw_statement.clone(),
        redis: p.cache.pool().clone(),
        cache: p.cache.clone(),
        key: p.key.clone(),
    });
    let router = Router::new()
        .route("/api/users/{id}", get(handler))
        .with_state(state);
    match layer {
        Some(t) => router.layer(wingspan::http::layer(t)),
        None => router,
    }
}

fn request() -> Request<Body> {
    let mut req = Request::get("/api/users/42")
        .header("host", "api.example.com:8080")
        .header("user-agent", "bench/1.0")
        .body(Body::empty())
        .expect("request");
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

const LABELS: [&str; 7] = [
    "bare: router + deadpool-postgres + fred",
    "+ HTTP layer",
    "+ pool acquire",
    "+ query instrument",
    "+ cache instrument (all of wingspan, 100 % sampled)",
    "all of wingspan, sampler off (metrics + in-process view)",
    "all of wingspan, sampler off, WINGSPAN_STATS=false (OTel metrics)",
];

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _enter = rt.enter();
    let key = format!("bench:request:{}", std::process::id());

    let sampled = telemetry("always_on", true);
    let quiet = telemetry("always_off", true);
    let metrics_only = telemetry("always_off", false);
    let (p_sampled, p_quiet, p_metrics) = rt.block_on(async {
        (
            parts(&sampled, &key).await,
            parts(&quiet, &key).await,
            parts(&metrics_only, &key).await,
        )
    });
    rt.block_on(
        p_sampled
            .cache
            .set(&key, "value", Some(Duration::from_secs(600))),
    )
    .expect("SET");

    let apps = [
        app(&p_sampled, Stage::Bare, None),
        app(&p_sampled, Stage::Http, Some(&sampled)),
        app(&p_sampled, Stage::Acquire, Some(&sampled)),
        app(&p_sampled, Stage::Query, Some(&sampled)),
        app(&p_sampled, Stage::Cache, Some(&sampled)),
        app(&p_quiet, Stage::Cache, Some(&quiet)),
        app(&p_metrics, Stage::Cache, Some(&metrics_only)),
    ];
    let rt_ref = &rt;
    let mut variants: Vec<Variant<'_>> = apps
        .iter()
        .zip(LABELS)
        .map(|(a, label)| Variant::new(label, move |n| drive(rt_ref, a, n)))
        .collect();

    // Profiling mode (`WINGSPAN_BENCH_ONLY=<label>`): one variant, no report.
    if support::run_only(&mut variants) {
        return;
    }

    let m = support::alternating(&mut variants, ITERS, ROUNDS);
    drop(variants);
    rt.block_on(async {
        let _ = sampled.force_flush().await;
    });
    let l = sampled.loss_counts();

    let mut text = format!(
        "Machine: {}. Command: `cargo bench --all-features --bench request`. One in-process \
         request (`oneshot` on an axum router): acquire a pooled Postgres connection, one \
         prepared query (`{SQL}`), return it, one Redis GET; Postgres and Redis on loopback; \
         one current-thread runtime (the bench thread runs the connection tasks too). \
         {ROUNDS} alternating rounds of {ITERS} requests per variant, medians per request. \
         Spans: {} exported, {} dropped.\n\n",
        support::machine(),
        l.spans_exported,
        l.spans_queue_full,
    );
    text.push_str(
        "| variant | thread CPU | added CPU vs bare | step | wall |\n|---|---|---|---|---|\n",
    );
    let bare = &m[0];
    for (i, v) in m.iter().enumerate() {
        let step = if (1..5).contains(&i) {
            let d = v.cpu_ns - m[i - 1].cpu_ns;
            format!("{}{}", if d >= 0.0 { "+" } else { "" }, fmt_ns(d))
        } else {
            "—".to_owned()
        };
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            v.label,
            fmt_ns(v.cpu_ns),
            fmt_ns(v.cpu_ns - bare.cpu_ns),
            step,
            fmt_ns(v.wall_ns),
        ));
    }
    support::report("Full request: instrumented vs bare", &text);

    if support::callgrind_wanted() {
        let labels: Vec<String> = m.iter().map(|v| v.label.clone()).collect();
        if let Some(rows) = support::callgrind_counts("request::drive", &labels, CALLGRIND_ITERS) {
            support::report(
                "Full request: instructions per request",
                &instructions(&rows, &m),
            );
        }
    }
}

/// The callgrind table with each part's share of the added instructions.
fn instructions(rows: &[(String, u64)], _m: &[Medians]) -> String {
    let n: Vec<i64> = rows.iter().map(|r| r.1 as i64).collect();
    let added = n[4] - n[0];
    let mut text = format!(
        "Instructions per request on the request thread (callgrind, {CALLGRIND_ITERS} requests \
         per variant; the connection tasks run on it too). Deterministic to within a few \
         instructions: the machine's load does not move them.\n\n{}",
        support::instructions_table(rows)
    );
    let share = |what: &str, x: i64| {
        format!(
            "| {what} | {x:+} | {:.0} % |\n",
            100.0 * x as f64 / added.max(1) as f64
        )
    };
    text.push_str(&format!(
        "\n**Added per request: {added} instructions** (goal ≤ 12 000).\n\n\
         | part | added instructions | share |\n|---|---|---|\n"
    ));
    text.push_str(&share(
        "HTTP layer (server span, duration, active requests)",
        n[1] - n[0],
    ));
    text.push_str(&share(
        "pool acquire (acquire span, wait/use time, leak slot)",
        n[2] - n[1],
    ));
    text.push_str(&share(
        "query instrument (query span, duration, statement cache)",
        n[3] - n[2],
    ));
    text.push_str(&share(
        "cache instrument (cache span, duration, hit/miss)",
        n[4] - n[3],
    ));
    text.push_str(&format!(
        "\nThe same total split by signal: spans {:+} ({:.0} %), in-process view {:+} ({:.0} %), \
         OTel metrics with the rest of the instrumentation (context, attributes, timers) {:+} \
         ({:.0} %).\n",
        n[4] - n[5],
        100.0 * (n[4] - n[5]) as f64 / added.max(1) as f64,
        n[5] - n[6],
        100.0 * (n[5] - n[6]) as f64 / added.max(1) as f64,
        n[6] - n[0],
        100.0 * (n[6] - n[0]) as f64 / added.max(1) as f64,
    ));
    text
}
