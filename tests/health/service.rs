//! A small test service over the real Postgres and Redis, with the health
//! router on an admin listener. The hot-path wiring of `stats` into the
//! HTTP layer, the pool, the cache and the LLM wrapper comes later, so the
//! handlers feed the window through the public recording API themselves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use opentelemetry::trace::TraceId;
use wingspan::cache::Cache;
use wingspan::db::{Pool, Queryable as _};
use wingspan::health::{AdminServer, Check, CheckError, CheckFuture, Health, HealthConfig};
use wingspan::http::RouteClass;
use wingspan::stats::{
    CacheGauge, CacheStats, ModelStats, PoolStats, QueryStats, RouteStats, Stats,
};

use crate::support::KeyPrefix;

/// Readiness of the pool: `SELECT 1` within the check's timeout.
pub struct PgCheck(pub Pool);

impl Check for PgCheck {
    fn name(&self) -> &str {
        "postgres"
    }
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            self.0
                .ready_within(Duration::from_millis(800))
                .await
                .map_err(|e| CheckError::new(format!("SELECT 1 failed ({})", e.error_type())))
        })
    }
}

/// Readiness of the cache: a connection is up.
pub struct RedisCheck(pub Cache);

impl Check for RedisCheck {
    fn name(&self) -> &str {
        "redis"
    }
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            if self.0.is_connected() {
                Ok(())
            } else {
                Err(CheckError::new("not connected"))
            }
        })
    }
}

/// `SELECT pg_sleep($1)`: the slow statement.
pub const SLEEP_SQL: &str = "SELECT pg_sleep($1) FROM pg_catalog.pg_am LIMIT 1";
/// The users lookup.
pub const USER_SQL: &str =
    "SELECT $1::int AS id, md5($2::text) AS h FROM pg_catalog.pg_namespace LIMIT 1";

#[derive(Clone)]
struct App {
    pool: Pool,
    cache: Cache,
    users: RouteStats,
    slow: RouteStats,
    boom: RouteStats,
    chat: RouteStats,
    q_user: QueryStats,
    q_sleep: QueryStats,
    pool_stats: PoolStats,
    c_users: CacheStats,
    c_sessions: CacheStats,
    model: ModelStats,
    prefix: String,
    marker: String,
    traces: Arc<AtomicU64>,
}

impl App {
    fn trace(&self) -> TraceId {
        let n = self.traces.fetch_add(1, Ordering::Relaxed) + 1;
        TraceId::from_bytes(((0xabcd_u128 << 64) | u128::from(n)).to_be_bytes())
    }

    /// Borrows a connection, runs `sql`, records acquire, hold and query.
    async fn query(
        &self,
        q: &QueryStats,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<(), StatusCode> {
        let t = Instant::now();
        let client = self.pool.get().await;
        self.pool_stats.record_acquire(t.elapsed(), client.is_err());
        let client = client.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        let held = Instant::now();
        let qt = Instant::now();
        let r = client.query(sql, params).await;
        q.record(qt.elapsed(), r.is_err());
        drop(client);
        self.pool_stats.record_hold(held.elapsed());
        r.map(|_| ()).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
    }

    async fn cached(&self, stats: &CacheStats, key: &str) -> bool {
        let t = Instant::now();
        let got = self.cache.get::<String>(key).await;
        match &got {
            Ok(Some(_)) => stats.record_hit(t.elapsed()),
            Ok(None) => stats.record_miss(t.elapsed()),
            Err(_) => stats.record_error(t.elapsed()),
        }
        matches!(got, Ok(Some(_)))
    }
}

async fn user(State(app): State<App>, Path(id): Path<i32>) -> StatusCode {
    let t = Instant::now();
    let status = async {
        let _ = app
            .cached(&app.c_sessions, &format!("{}:sessions:{id}", app.prefix))
            .await;
        let key = format!("{}:users:{id}", app.prefix);
        if !app.cached(&app.c_users, &key).await {
            app.query(&app.q_user, USER_SQL, &[&id, &app.marker])
                .await?;
            let t = Instant::now();
            let r = app
                .cache
                .set(&key, app.marker.clone(), Some(Duration::from_secs(60)))
                .await;
            if r.is_ok() {
                app.c_users.record_command(t.elapsed());
            } else {
                app.c_users.record_error(t.elapsed());
            }
        }
        Ok::<_, StatusCode>(StatusCode::OK)
    }
    .await
    .unwrap_or_else(|s| s);
    app.users.record(status.as_u16(), t.elapsed(), app.trace());
    status
}

async fn slow(State(app): State<App>) -> StatusCode {
    let t = Instant::now();
    let status = match app.query(&app.q_sleep, SLEEP_SQL, &[&0.35f64]).await {
        Ok(()) => StatusCode::OK,
        Err(s) => s,
    };
    app.slow.record(status.as_u16(), t.elapsed(), app.trace());
    status
}

async fn boom(State(app): State<App>) -> StatusCode {
    let t = Instant::now();
    app.boom.record(500, t.elapsed(), app.trace());
    StatusCode::INTERNAL_SERVER_ERROR
}

/// Stands in for an LLM call (the LLM module is not in this branch): waits
/// 40 ms and reports usage through the recording API.
async fn chat(State(app): State<App>) -> StatusCode {
    let t = Instant::now();
    let call = Instant::now();
    tokio::time::sleep(Duration::from_millis(40)).await;
    app.model.record(call.elapsed(), false, 120, 30, 0.0021);
    app.chat.record(200, t.elapsed(), app.trace());
    StatusCode::OK
}

/// The service, its window and its admin listener.
pub struct World {
    pub health: Health,
    pub admin: AdminServer,
    pub base: String,
    pub marker: String,
    _server: tokio::task::JoinHandle<()>,
    /// The cache keys' prefix: its keys go with the world.
    _keys: KeyPrefix,
}

impl World {
    pub async fn start(
        stats: Stats,
        pool: Pool,
        cache: Cache,
        config: HealthConfig,
        marker: &str,
        keys: KeyPrefix,
    ) -> World {
        let gauge_pool = pool.clone();
        stats.set_pool_status(move || gauge_pool.status());
        let gauge_cache = cache.clone();
        stats.set_cache_gauge(move || CacheGauge {
            connected: gauge_cache.is_connected(),
            memory_used_bytes: None,
        });
        let summary = |sql: &str| wingspan::db::sanitize::sanitize(sql).summary;
        let app = App {
            users: stats.route("GET", "/users/{id}", RouteClass::Standard),
            slow: stats.route("GET", "/slow", RouteClass::Standard),
            boom: stats.route("GET", "/boom", RouteClass::Standard),
            chat: stats.route("POST", "/chat", RouteClass::Llm),
            q_user: stats.query(&summary(USER_SQL)),
            q_sleep: stats.query(&summary(SLEEP_SQL)),
            pool_stats: stats.pool(),
            c_users: stats.cache("users"),
            c_sessions: stats.cache("sessions"),
            model: stats.model("gpt-4o-mini"),
            prefix: keys.prefix.clone(),
            marker: marker.to_owned(),
            traces: Arc::new(AtomicU64::new(0)),
            pool: pool.clone(),
            cache: cache.clone(),
        };
        let health = Health::builder(&stats)
            .config(config)
            .check(PgCheck(pool))
            .check(RedisCheck(cache))
            .build();
        let router = Router::new()
            .route("/users/{id}", get(user))
            .route("/slow", get(slow))
            .route("/boom", get(boom))
            .route("/chat", post(chat))
            .with_state(app);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let admin = health
            .serve_on("127.0.0.1:0".parse().unwrap())
            .await
            .expect("admin listener");
        World {
            health,
            admin,
            base,
            marker: marker.to_owned(),
            _server: server,
            _keys: keys,
        }
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin.local_addr())
    }

    /// The traffic the JSON test and the browser test look at: 20 user
    /// lookups over 5 ids (15 cache hits), 3 slow requests, 2 failures and
    /// 4 chat calls. Every request carries the marker in a header.
    pub async fn drive(&self) {
        let http = crate::support::http_client();
        let send = |rb: reqwest::RequestBuilder| async move {
            rb.header("x-secret", self.marker.as_str())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        for i in 0..20 {
            assert_eq!(
                send(http.get(format!("{}/users/{}", self.base, i % 5))).await,
                200
            );
        }
        for _ in 0..3 {
            assert_eq!(send(http.get(format!("{}/slow", self.base))).await, 200);
        }
        for _ in 0..2 {
            assert_eq!(send(http.get(format!("{}/boom", self.base))).await, 500);
        }
        for _ in 0..4 {
            assert_eq!(
                send(
                    http.post(format!("{}/chat", self.base))
                        .body(self.marker.clone())
                )
                .await,
                200
            );
        }
    }
}

impl World {
    /// One minute of a busier, varying load for the dashboard: requests sent
    /// concurrently (so the pool fills and callers wait), with a sample of
    /// the pool taken while the slow statements hold their connections.
    pub async fn drive_round(&self, round: u64) {
        let http = crate::support::http_client();
        let mut set = tokio::task::JoinSet::new();
        let mut send = |url: String, post: bool| {
            let http = http.clone();
            let marker = self.marker.clone();
            set.spawn(async move {
                let rb = if post {
                    http.post(url).body(marker.clone())
                } else {
                    http.get(url)
                };
                rb.header("x-secret", marker)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
        };
        for k in 0..(12 + (round * 7) % 15) {
            send(
                format!("{}/users/{}", self.base, (round * 3 + k) % 14),
                false,
            );
        }
        for _ in 0..(1 + round % 6) {
            send(format!("{}/slow", self.base), false);
        }
        for _ in 0..(round % 4) / 2 {
            send(format!("{}/boom", self.base), false);
        }
        for _ in 0..(1 + round % 3) {
            send(format!("{}/chat", self.base), true);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        let _ = self.health.detailed();
        while let Some(status) = set.join_next().await {
            assert!([200, 500].contains(&status.unwrap()));
        }
    }
}
