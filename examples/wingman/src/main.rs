//! wingman: a WingmanMatch-style API (players, profiles, matches,
//! challenges, sessions, an AI coach) that uses every part of wingspan: the
//! HTTP layer, the instrumented Postgres pool (joins, a transaction, an RLS
//! read through `as_user`), the Redis cache (`get_or_load` read-through,
//! sessions with a TTL), the Anthropic adapter against a fake Messages API,
//! the health endpoints and the embedded `/observability` page. It is the
//! reference service of `make demo` and of the benches.
//!
//! ```text
//! cargo build -p wingman
//! target/debug/wingman            # or: cargo run -p wingman --bin wingman
//! ```
//!
//! # The API (a stable contract: the load tool, benches and fault tests use it)
//!
//! | route | does | answers |
//! |---|---|---|
//! | `GET /api/users/{id}` | one indexed row | 200 `{id,name,city,created_at_ms}`, 404, 400 (id not a positive integer) |
//! | `GET /api/users/{id}/profile` | users ⋈ profiles + a count over the matches index | 200 `{id,name,city,sport,skill_level,elo,bio,matches_played}`, 404, 400 |
//! | `POST /api/users` `{name,email,city?,sport?,skill_level?}` | user + profile in one statement | 201 `{id}`, 409 (email taken), 400 |
//! | `GET /api/users/{id}/matches` | the 20 latest matches, joined with partner and challenge, read **as the user** (`Pool::as_user`, RLS policy on `matches`) | 200 `{user_id,matches:[…]}`, 404, 400 |
//! | `POST /api/matches` `{user_id,partner_id,challenge_id,score}` | a transaction: insert the match, move both ratings | 201 `{id,elo_change}`, 404 (unknown user/challenge), 400 |
//! | `GET /api/challenges/{id}` | `get_or_load` (Redis, Postgres on a miss; unknown ids cached too) | 200 `{id,title,difficulty,points,description}`, 404, 400 |
//! | `GET /api/challenges?difficulty=easy\|medium\|hard` | `get_or_load` of the top 50 | 200 `{difficulty,challenges:[…]}`, 400 |
//! | `POST /api/sessions` `{user_id}` | checks the user, stores a session in Redis (TTL 30 min) | 201 `{token,user_id,expires_in_s}`, 404, 400 |
//! | `GET /api/sessions/{token}` | Redis `GET` | 200 `{user_id,valid}`, 404, 400 (not 32 hex digits) |
//! | `POST /api/coach` `{user_id,question}` | profile via the cache, then a streamed Messages call (`wingspan.route.class=llm`) | 200 `{advice,degraded,model}` (`degraded: true` when the API stayed overloaded past the retries), 404, 400 |
//!
//! A database that is down or out of connections answers 503 (with
//! `retry-after: 1`) within the pool's timeouts, never a hang; Redis down
//! costs the cache, not the request (the loader answers), except for
//! sessions, which live only in Redis (503). Error bodies are
//! `{"error": "<reason>"}`.
//!
//! The admin listener serves `/health`, `/health/ready` (Postgres and Redis
//! checks), `/health/detailed`, `/observability` and, when the pull endpoint
//! is on (this package's default feature `prometheus`, with `ENABLE_METRICS=true` or
//! `WINGSPAN_PROMETHEUS=true`), `/metrics`. `/health/detailed` and
//! `/metrics` follow wingspan's admin rule: the `WINGSPAN_ADMIN_TOKEN`
//! bearer token when set, else loopback clients only (unless
//! `WINGSPAN_ADMIN_OPEN=true`). Both listeners are served with the
//! `WINGSPAN_HTTP_*` connection bounds.
//!
//! Once both listeners are up and the schema is ready it prints exactly two
//! lines on stdout, which drivers parse: `listening http://ADDR` and
//! `admin http://ADDR`. SIGTERM or SIGINT drains the listeners (at most
//! 10 s), closes the pool and flushes telemetry.
//!
//! # Settings
//!
//! Every wingspan variable applies (`DATABASE_URL`, `DB_*`, `REDIS_*`,
//! `OTEL_*`, `WINGSPAN_*`; `OTEL_SERVICE_NAME` defaults to `wingman`), plus:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `APP_ADDR` | the API's listener (`127.0.0.1:0` picks a port) | `127.0.0.1:8080` |
//! | `WINGSPAN_ADMIN_ADDR` | health routes, page, `/metrics` | `127.0.0.1:9188` |
//! | `WINGMAN_SCHEMA` | Postgres schema of the tables (migrated and seeded at start; the connections' `search_path`) | `wingman` |
//! | `WINGMAN_KEY_PREFIX` | prefix of every Redis key (`{prefix}challenges/{id}`, `{prefix}sessions/{token}`, …) | `wingman:` |
//! | `WINGMAN_SEED_USERS` | users seeded into an empty schema (as many profiles, 10× matches, 500 challenges) | 5000 |
//! | `WINGMAN_LLM_URL` | a Messages API base URL to call instead of starting the in-process fake | unset |
//! | `WINGMAN_LLM_MEDIAN_MS`, `WINGMAN_LLM_P95_MS` | the fake's log-normal latency | 700, 2500 |
//! | `WINGMAN_LLM_OVERLOAD_EVERY` | every N-th coach call meets a 529 (retried), every 4N-th three (degraded); 0 = never; fake only | 25 |
//! | `WINGMAN_SLOW_ROUTE` | `true` adds `GET /api/challenges/{id}/top-scores`: the best scores of a challenge from `matches`, which has no index on `challenge_id` (a deliberately slow statement whose plan wingspan captures with `DB_PLAN_CAPTURE=true`) | false |
//! | `WINGMAN_FAULT_EVERY` | every N-th API request answers 500 (`{"error": "injected fault …"}`) without running its handler; 0 = never | 0 |
//! | `WINGMAN_DELAY_EVERY` | every N-th API request waits 400 ms first (slow by the latency alert's 300 ms); 0 = never | 0 |
//! | `WINGMAN_N_PLUS_ONE_ROUTE` | `true` adds `GET /api/users/{id}/matches-n-plus-one`: the matches, then each partner's profile one query at a time (a deliberate N+1 for wingspan's detection, `DB_N_PLUS_ONE_THRESHOLD`) | false |
//! | `DB_POOL_ENABLED` | `false`: a new connection per request (wingspan's switch), for the pooled-vs-direct baseline | true |
//! | `DB_RLS_ALLOW_PRIVILEGED_LOGIN` | wingman migrates, writes and reads as the user through one pool, so its login owns the tables (and is `postgres` by default): it accepts that risk for `as_user` unless told `false` | true |
//!
//! A bad value stops start-up with `invalid NAME="value": expected …`.

mod app;
mod challenges;
mod coach;
mod error;
mod faults;
mod matches;
mod schema;
mod sessions;
mod settings;
mod users;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::Instrument;
use wingspan::cache::Cache;
use wingspan::db::Pool;
use wingspan::health::Health;
use wingspan::llm::anthropic::Anthropic;
use wingspan::llm::fake::FakeAnthropic;

use crate::app::{App, Keys};
use crate::coach::Overload;
use crate::settings::Settings;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long in-flight requests may take to finish after SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wingman: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let settings = Settings::from_env()?;
    let config = wingspan_config(&settings)?;
    let admin_addr = settings::admin_addr(&config);
    let telemetry = wingspan::init(config)?;

    let started = Instant::now();
    let pool = Pool::builder(&telemetry).name("wingman").build().await?;
    // One trace for the whole migration: its statements nest under this span.
    let seeded = schema::migrate(&pool, &settings.schema, settings.seed_users)
        .instrument(tracing::info_span!(
            "wingman.migrate",
            wingman.schema = %settings.schema
        ))
        .await?;
    // Field names of its own, `wingman.*` (semconv/wingman.yaml).
    tracing::info!(
        wingman.schema = %settings.schema,
        wingman.seeded = seeded,
        wingman.elapsed_ms = started.elapsed().as_millis() as u64,
        "schema ready"
    );
    let cache = Cache::builder(&telemetry)
        // `{prefix}{name}/{id}`: the cache name is everything before the `/`.
        .name_separator('/')
        .build()
        .await?;

    let (claude, fake, overload) = llm(&telemetry, &settings).await?;
    let urandom = Arc::new(std::fs::File::open("/dev/urandom")?);
    let app = App {
        pool: pool.clone(),
        cache: cache.clone(),
        claude,
        keys: Arc::new(Keys::new(&settings.key_prefix)),
        overload,
        urandom,
    };

    let health = Health::for_telemetry(&telemetry)
        .check(pool.clone())
        .check(cache.clone())
        .build();
    let admin = health.router();
    // `/metrics` beside the health routes (empty unless the pull endpoint is on).
    #[cfg(feature = "prometheus")]
    let admin = admin.merge(telemetry.prometheus_router());

    let api_listener = tokio::net::TcpListener::bind(settings.app_addr).await?;
    let admin_listener = tokio::net::TcpListener::bind(admin_addr).await?;
    let api_local = api_listener.local_addr()?;
    let admin_local = admin_listener.local_addr()?;

    // Which admin routes this address exposes to whom (a warning when open).
    health.log_exposure(admin_local);

    let (stop_tx, stop_rx) = watch::channel(false);
    let bounds = telemetry.config().http.serve;
    let api = tokio::spawn(serve(
        api_listener,
        app::router(
            app,
            &telemetry,
            settings.n_plus_one_route,
            settings.slow_route,
            faults::Faults::new(settings.fault_every, settings.delay_every),
        ),
        bounds,
        stop_rx.clone(),
    ));
    let admin = tokio::spawn(serve(admin_listener, admin, bounds, stop_rx));
    // Drivers (tests, make demo, benches) parse these two lines.
    println!("listening http://{api_local}");
    println!("admin http://{admin_local}");

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        let _ = api.await;
        let _ = admin.await;
    })
    .await;
    if drained.is_err() {
        eprintln!("wingman: requests still running after {DRAIN:?}; stopping anyway");
    }
    pool.close();
    drop(fake);
    // Bounded (5 s) even with the collector gone.
    if let Err(e) = telemetry.shutdown().await {
        eprintln!("wingman: telemetry shutdown: {e}");
    }
    Ok(())
}

/// wingspan's configuration from the environment, with wingman's defaults:
/// the service name, the schema as the connections' `search_path`, and
/// `as_user` allowed on a login role that can bypass row-level security.
fn wingspan_config(settings: &Settings) -> Result<wingspan::Config, BoxError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let url = env("DATABASE_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut builder = wingspan::Config::builder()
        .with_process_env()
        .var("DATABASE_URL", with_search_path(&url, &settings.schema));
    let named_by_resource = env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| {
        a.split(',')
            .any(|kv| kv.trim().starts_with("service.name="))
    });
    if env("OTEL_SERVICE_NAME").is_none() && !named_by_resource {
        builder = builder.service_name("wingman");
    }
    // One pool migrates, writes and reads as the user, so its login owns the
    // tables, which bypasses their RLS: a statement that got past the
    // session's guard could read every match. A service of your own gives
    // `as_user` a pool of its own that logs in as an authenticator role.
    if env("DB_RLS_ALLOW_PRIVILEGED_LOGIN").is_none() {
        builder = builder.var("DB_RLS_ALLOW_PRIVILEGED_LOGIN", "true");
    }
    Ok(builder.build()?)
}

/// `url` with `-c search_path=<schema>` added to its `options` parameter
/// (appended to options already there), so every connection, pooled or
/// direct, reads wingman's tables unqualified and the spans' summaries say
/// `SELECT users`, not `SELECT <schema>.users`.
fn with_search_path(url: &str, schema: &str) -> String {
    // Percent-encoded: a space is %20, `=` is %3D. The schema is an identifier.
    let option = format!("-c%20search_path%3D{schema}");
    match url.split_once('?') {
        None => format!("{url}?options={option}"),
        Some((base, query)) => {
            let mut found = false;
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.strip_prefix("options=") {
                    Some(existing) if !found => {
                        found = true;
                        format!("options={existing}%20{option}")
                    }
                    _ => p.to_owned(),
                })
                .collect();
            let mut query = params.join("&");
            if !found {
                query.push_str(&format!("&options={option}"));
            }
            format!("{base}?{query}")
        }
    }
}

/// The Anthropic adapter, pointed at `WINGMAN_LLM_URL` or at an in-process
/// fake started here (returned, so it lives as long as the service).
async fn llm(
    telemetry: &wingspan::Telemetry,
    settings: &Settings,
) -> Result<(Anthropic, Option<Arc<FakeAnthropic>>, Option<Arc<Overload>>), BoxError> {
    if let Some(url) = &settings.llm_url {
        let claude = Anthropic::builder(telemetry)
            .base_url(url.clone())
            .build()?;
        return Ok((claude, None, None));
    }
    let fake = Arc::new(
        FakeAnthropic::start(coach::fake_behaviour(settings.llm_median, settings.llm_p95)).await?,
    );
    let claude = Anthropic::builder(telemetry)
        .base_url(fake.base_url())
        .api_key("sk-wingman-fake")
        .build()?;
    let overload = Arc::new(Overload::new(fake.clone(), settings.overload_every));
    Ok((claude, Some(fake), Some(overload)))
}

async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    bounds: wingspan::http::ServeConfig,
    mut stop: watch::Receiver<bool>,
) {
    // wingspan's Serve, not axum::serve: axum sets no timer and no limit, so
    // a client sending its headers or body a byte at a time, or an HTTP/2
    // preface and then nothing, would hold its connection for ever, and
    // nothing would bound how many it opens. Here the WINGSPAN_HTTP_*
    // bounds apply. The peer address reaches the HTTP layer (and the admin
    // rule) as with `into_make_service_with_connect_info`.
    let result = wingspan::http::Serve::new(listener, router)
        .config(&bounds)
        .run_until(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
    if let Err(e) = result {
        tracing::warn!("listener stopped: {e}");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        Err(_) => ctrl_c.await,
    }
}
