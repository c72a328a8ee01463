//! A wingspan-instrumented service that misbehaves on request: the target of the
//! backend's checks (`make backend-check`, `make e2e-alerts`).
//!
//! ```text
//! cargo run --example alert_target --all-features -- serve     # until SIGTERM
//! cargo run --example alert_target --all-features -- exercise  # prints /metrics
//! ```
//!
//! `serve` listens on `APP_ADDR` (default `127.0.0.1:0`), prints
//! `listening http://ADDR` on stdout, and serves the Prometheus pull endpoint at
//! `/metrics` on the same port. Its routes:
//!
//! | route | behaviour |
//! |---|---|
//! | `GET /api/items/{id}` | read-through cache (`items:` cache name) over a Postgres query |
//! | `GET /api/slow?ms=N` | answers after N ms (default 450) plus a query: above the 300 ms objective |
//! | `GET /api/fail` | a failing query (SQLSTATE 22012), then 500 |
//! | `POST /api/coach` | an LLM route (`wingspan.route.class=llm`): waits `?ms=N` (default 1200), then streams a Messages call to an in-process fake Messages API (`?unpriced=1`: a model the pricing table does not know; `?fail=1`: the API answers 529 past the retries and the route degrades to a fallback answer) |
//! | `GET /api/hold?ms=N` | holds a pooled connection N ms: pool utilization, acquire timeouts (503), leaks |
//!
//! `exercise` starts the same service on a free port, drives every route once
//! or more (a pool timeout and a leak included), waits for the Redis `INFO`
//! metrics and the leak report, then prints the text of `GET /metrics`:
//! what the agent really emits, for the metric-name check of dashboards and rules.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::Router;
use wingspan::cache::Cache;
use wingspan::client::RetryPolicy;
use wingspan::db::{Pool, Queryable};
use wingspan::llm::anthropic::{Anthropic, MessagesRequest};
use wingspan::llm::fake::{Behaviour, Failure, FakeAnthropic};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
struct App {
    pool: Pool,
    cache: Cache,
    claude: Anthropic,
    // Kept alive as long as the service: the adapter's base URL points at it.
    _fake: std::sync::Arc<FakeAnthropic>,
    /// `?fail=1` calls go to a fake of their own, through an adapter that does
    /// not retry: each pushes one 529 and takes it, whatever else runs.
    overloaded: Anthropic,
    overloaded_fake: std::sync::Arc<FakeAnthropic>,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    match mode.as_str() {
        "serve" => serve().await,
        "exercise" => exercise().await,
        other => Err(format!("unknown mode {other:?}: expected `serve` or `exercise`").into()),
    }
}

async fn start(
    config: wingspan::Config,
    tune_pool: impl FnOnce(wingspan::db::PoolBuilder) -> wingspan::db::PoolBuilder,
    addr: &str,
) -> Result<(wingspan::Telemetry, SocketAddr, App), BoxError> {
    let telemetry = wingspan::init(config)?;
    let pool = tune_pool(Pool::builder(&telemetry).name("main"))
        .build()
        .await?;
    let cache = Cache::builder(&telemetry)
        // Server metrics every second, so a short run sees them.
        .info_interval(Duration::from_secs(1))
        .build()
        .await?;
    let fake = FakeAnthropic::start(Behaviour::default()).await?;
    let claude = Anthropic::builder(&telemetry)
        .base_url(fake.base_url())
        .api_key("sk-fake")
        .build()?;
    let overloaded_fake = FakeAnthropic::start(Behaviour::default()).await?;
    let overloaded = Anthropic::builder(&telemetry)
        .base_url(overloaded_fake.base_url())
        .api_key("sk-fake")
        .retry(RetryPolicy::none())
        .build()?;
    let app_state = App {
        pool,
        cache,
        claude,
        _fake: std::sync::Arc::new(fake),
        overloaded,
        overloaded_fake: std::sync::Arc::new(overloaded_fake),
    };
    let app = Router::new()
        .route("/api/items/{id}", get(item))
        .route("/api/slow", get(slow))
        .route("/api/fail", get(fail))
        .route("/api/coach", post(coach))
        .route("/api/hold", get(hold))
        .layer(wingspan::http::layer(&telemetry).llm_routes(["/api/coach"]))
        .with_state(app_state.clone())
        // Merged after the layer: scrapes are not requests of the service and must
        // not dilute its request rate or error ratio.
        .merge(telemetry.prometheus_router());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok((telemetry, local, app_state))
}

async fn serve() -> Result<(), BoxError> {
    let addr = std::env::var("APP_ADDR").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let (telemetry, local, _app) = start(wingspan::Config::from_env()?, |b| b, &addr).await?;
    // The driver reads this line to learn the port.
    println!("listening http://{local}");
    shutdown_signal().await;
    if let Err(e) = telemetry.shutdown().await {
        eprintln!("telemetry shutdown: {e}");
    }
    Ok(())
}

async fn exercise() -> Result<(), BoxError> {
    let config = wingspan::Config::builder()
        .var("WINGSPAN_PROMETHEUS", "true")
        .var("WINGSPAN_CONSOLE_LOG", "false")
        // Nothing listens for OTLP: no span or log export is wanted here.
        .var("OTEL_TRACES_EXPORTER", "none")
        .var("OTEL_LOGS_EXPORTER", "none")
        .var("OTEL_METRICS_EXPORTER", "none")
        .var(
            "DATABASE_URL",
            std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        )
        .var(
            "REDIS_URL",
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        )
        .service_name("wingspan-exercise")
        .build()?;
    // Two connections, a short acquire timeout and leak threshold: three
    // concurrent holds produce a timeout and leak reports within a second.
    let (telemetry, local, app) = start(
        config,
        |b| {
            b.min_connections(1)
                .max_connections(2)
                .acquire_timeout(Duration::from_millis(200))
                .leak_threshold(Duration::from_millis(300))
        },
        "127.0.0.1:0",
    )
    .await?;
    let base = format!("http://{local}");
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();

    // A fresh key per run: a miss, then hits.
    let id = std::process::id();
    for _ in 0..3 {
        get(&format!("/api/items/{id}")).await?;
    }
    get("/api/slow?ms=320").await?;
    get("/api/fail").await?;
    get("/nope").await?;
    for variant in ["", "&unpriced=1", "&fail=1"] {
        client
            .post(format!("{base}/api/coach?ms=10{variant}"))
            .send()
            .await?;
    }
    let holds: Vec<_> = (0..3).map(|_| get("/api/hold?ms=600")).collect();
    let statuses: Vec<u16> = futures_join(holds).await?;
    if !statuses.contains(&503) {
        return Err(format!("no acquire timeout among the holds: {statuses:?}").into());
    }
    drop(app);

    // The INFO poll and the leak sweeper run in the background: wait for both.
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let body = get("/metrics").await?.text().await?;
        let ready = [
            "redis_memory_used_bytes",
            "wingspan_db_connection_leaks_total",
        ]
        .iter()
        .all(|name| body.lines().any(|l| l.starts_with(name)));
        if ready {
            break body;
        }
        if Instant::now() > deadline {
            return Err(format!("INFO metrics or leak report missing after 10 s:\n{body}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    print!("{body}");
    let _ = telemetry.shutdown().await;
    Ok(())
}

async fn futures_join<F>(futures: Vec<F>) -> Result<Vec<u16>, BoxError>
where
    F: std::future::Future<Output = Result<reqwest::Response, reqwest::Error>> + Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await??.status().as_u16());
    }
    Ok(statuses)
}

fn query_ms(uri: &Uri, default: u64) -> u64 {
    uri.query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ms=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn item(State(app): State<App>, Path(id): Path<i32>) -> Result<String, StatusCode> {
    let pool = app.pool.clone();
    let value: i32 = app
        .cache
        .get_or_load(
            &format!("items:{id}"),
            Some(Duration::from_secs(600)),
            || async move {
                let client = pool.get().await?;
                let row = client.query_one("SELECT $1::int4", &[&id]).await?;
                Ok::<i32, wingspan::db::DbError>(row.get(0))
            },
        )
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(value.to_string())
}

async fn slow(State(app): State<App>, uri: Uri) -> Result<&'static str, StatusCode> {
    tokio::time::sleep(Duration::from_millis(query_ms(&uri, 450))).await;
    let client = app
        .pool
        .get()
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    // A query on a table: db.collection.name on the query metrics.
    client
        .query_one("SELECT count(*) FROM pg_class", &[])
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok("slow\n")
}

/// A failing statement (SQLSTATE 22012, division by zero), then a 500: the
/// query error metrics and the HTTP error ratio move together.
async fn fail(State(app): State<App>) -> StatusCode {
    if let Ok(client) = app.pool.get().await {
        let _ = client.query_one("SELECT 1 / 0", &[]).await;
    }
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn coach(State(app): State<App>, uri: Uri) -> Result<String, StatusCode> {
    tokio::time::sleep(Duration::from_millis(query_ms(&uri, 1200))).await;
    let query = uri.query().unwrap_or("");
    let unpriced = query.contains("unpriced=1");
    let fail = query.contains("fail=1");
    let claude = if fail {
        // The API overloaded (and no retry left): the call fails as
        // `overloaded_error` and the route degrades instead of failing.
        app.overloaded_fake.fail_next([Failure::Overloaded]);
        &app.overloaded
    } else {
        &app.claude
    };
    let model = if unpriced {
        "house-model-1"
    } else {
        "claude-sonnet-4-5"
    };
    let request = MessagesRequest::new(model, 256)
        .user("How do I open a conversation?")
        .task("coach");
    // Streamed, so time to first chunk and time per chunk are emitted too.
    let stream = claude.stream(&request).await;
    let text = match stream {
        Ok(s) => s.text().await,
        Err(e) => Err(e),
    };
    Ok(text.unwrap_or_else(|_| "fallback advice\n".to_owned()))
}

async fn hold(State(app): State<App>, uri: Uri) -> StatusCode {
    match app.pool.get().await {
        Ok(client) => {
            tokio::time::sleep(Duration::from_millis(query_ms(&uri, 1500))).await;
            drop(client);
            StatusCode::OK
        }
        Err(e) if e.is_timeout() => StatusCode::SERVICE_UNAVAILABLE,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
