//! `wingspan::health` over the real Postgres and Redis: readiness through an
//! outage of each, the detailed JSON against real traffic, the token, no
//! secret in any payload, and the dashboard page in headless Chromium.

mod admin;
mod browser;
mod proxy;
mod service;
mod wired;

use std::time::{Duration, Instant};

use serde_json::Value;
use wingspan::cache::Cache;
use wingspan::db::Pool;
use wingspan::health::HealthConfig;
use wingspan::stats::Stats;

use crate::support::{self, PrivateRedis, Protocol, Receiver};
use proxy::Proxy;
use service::World;

const WAIT: Duration = Duration::from_secs(20);
/// The admin token; also a marker that must never appear in a payload.
pub const TOKEN: &str = "tok-MARKER-7f3a9c-never-serve-me";
/// A marker the traffic carries in headers, bodies, SQL parameters and
/// cached values.
pub const MARKER: &str = "MARKER-SECRET-5b1e77";

fn health_config(extra: &[(&str, &str)]) -> HealthConfig {
    let mut vars: Vec<(String, String)> = vec![
        ("WINGSPAN_ADMIN_TOKEN".into(), TOKEN.into()),
        (
            "WINGSPAN_TRACE_URL".into(),
            "http://jaeger.test:16686/trace/{trace_id}".into(),
        ),
        ("WINGSPAN_HEALTH_READY_CACHE_MS".into(), "0".into()),
        ("WINGSPAN_HEALTH_CHECK_TIMEOUT_MS".into(), "1000".into()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    HealthConfig::from_lookup(|n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
        .expect("health config")
}

/// A world whose pool reaches Postgres through `proxy` and whose cache is
/// the private Redis `redis` (or the shared ones).
async fn world(
    receiver: &Receiver,
    db_url: String,
    redis_url: String,
) -> (wingspan::Telemetry, World) {
    world_with(receiver, db_url, redis_url, Stats::builder().build()).await
}

async fn world_with(
    receiver: &Receiver,
    db_url: String,
    redis_url: String,
    stats: Stats,
) -> (wingspan::Telemetry, World) {
    let extra = [
        ("DATABASE_URL", db_url.as_str()),
        ("REDIS_URL", redis_url.as_str()),
        ("DB_POOL_SIZE", "0"),
        ("DB_MAX_CONNECTIONS", "4"),
        ("DB_CONNECT_TIMEOUT", "1"),
        ("DB_CONNECTION_TIMEOUT", "2"),
    ];
    let telemetry = support::telemetry(receiver, Protocol::Grpc, &extra).await;
    let pool = Pool::builder(&telemetry)
        .application_name(support::unique("wshealth"))
        .build()
        .await
        .expect("pool builds");
    let cache = Cache::builder(&telemetry)
        .build()
        .await
        .expect("cache builds");
    let keys = support::KeyPrefix::at(&redis_url, "wshealth");
    let world = World::start(stats, pool, cache, health_config(&[]), MARKER, keys).await;
    (telemetry, world)
}

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut rb = crate::support::http_client().get(url);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.expect("request");
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Polls readiness until it answers `status` with `failing`.
async fn ready_becomes(w: &World, status: u16, failing: &[&str]) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let (s, body) = get(&w.admin_url("/health/ready"), None).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let names: Vec<&str> = v["failing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        if s == status && names == failing {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "readiness stayed {s} {body}, want {status} failing {failing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_turns_503_naming_postgres_or_redis_and_back_to_200() {
    let receiver = Receiver::start().await;
    let mut redis = PrivateRedis::spawn();
    let mut proxy = Proxy::start(support::database_target().socket_addr()).await;
    let db_url = support::database_url_through(proxy.port);
    let (_telemetry, w) = world(&receiver, db_url, redis.url()).await;

    let v = ready_becomes(&w, 200, &[]).await;
    assert_eq!(v["status"], "ready");
    assert_eq!(v["checks"].as_array().unwrap().len(), 2);

    redis.stop();
    let v = ready_becomes(&w, 503, &["redis"]).await;
    assert_eq!(v["status"], "not_ready");
    assert_eq!(v["checks"][1]["reason"], "not connected");
    // Liveness does not depend on anything.
    assert_eq!(get(&w.admin_url("/health"), None).await.0, 200);

    let port = redis.port;
    drop(redis);
    let _redis = PrivateRedis::start(port);
    ready_becomes(&w, 200, &[]).await;

    proxy.stop().await;
    let v = ready_becomes(&w, 503, &["postgres"]).await;
    let reason = v["checks"][0]["reason"].as_str().unwrap();
    assert!(!reason.is_empty());
    // Bounded by the check timeout (1 s), not the pool's timeouts.
    assert!(
        v["checks"][0]["duration_ms"].as_f64().unwrap() < 2000.0,
        "{v}"
    );

    proxy.restart().await;
    ready_becomes(&w, 200, &[]).await;
}

/// The JSON path `a.0.b` in `v`.
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) if v.is_array() => &v[i],
        _ => &v[k],
    })
}

fn route<'a>(v: &'a Value, list: &str, name: &str) -> &'a Value {
    at(v, list)
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == name)
        .unwrap_or_else(|| panic!("no route {name} in {list}"))
}

fn alert<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detailed_json_reflects_real_traffic_over_postgres_and_redis() {
    let receiver = Receiver::start().await;
    let (_telemetry, w) = world(&receiver, support::database_url(), support::redis_url()).await;
    w.drive().await;
    let (status, body) = get(&w.admin_url("/health/detailed"), Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();

    // API routes, LLM routes apart.
    let api = &v["api_performance"];
    let users = route(&v, "api_performance.routes", "GET /users/{id}");
    assert_eq!(users["requests"], 20);
    assert_eq!(
        route(&v, "api_performance.routes", "GET /slow")["requests"],
        3
    );
    assert_eq!(
        route(&v, "api_performance.routes", "GET /boom")["errors"],
        2
    );
    assert_eq!(api["requests"], 25);
    assert_eq!(api["errors"], 2);
    assert!((api["error_rate"].as_f64().unwrap() - 2.0 / 25.0).abs() < 1e-9);
    let chat = route(&v, "api_performance.llm.routes", "POST /chat");
    assert_eq!(chat["requests"], 4);
    assert!(chat["p50_latency_ms"].as_f64().unwrap() >= 40.0 * 0.99);
    assert_eq!(api["llm"]["requests"], 4);
    // 3 of 25 API requests sleep 350 ms: the P95 is one of them.
    let p95 = api["p95_latency_ms"].as_f64().unwrap();
    assert!((350.0 * 0.99..5000.0).contains(&p95), "{p95}");
    assert!(api["p50_latency_ms"].as_f64().unwrap() < 350.0);
    assert_eq!(api["windows"]["15m"]["requests"], 25);

    // Database: pool gauge and acquire/hold figures from the pool handle.
    let db = &v["database"];
    assert_eq!(db["max_connections"], 4);
    assert_eq!(db["acquires"], 5 + 3);
    assert_eq!(db["queries"], 8);
    assert_eq!(db["acquire_timeouts"], 0);
    let util = db["pool_utilization"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&util));
    assert!(db["query_p99_ms"].as_f64().unwrap() >= 350.0 * 0.99);

    // Slow queries by summary, never the text.
    let sleep = wingspan::db::sanitize::sanitize(service::SLEEP_SQL).summary;
    for table in ["by_total_time", "by_p95"] {
        let top = &v["slow_queries"][table][0];
        assert_eq!(top["summary"], sleep.as_str(), "{table}");
        assert_eq!(top["calls"], 3);
        assert!(top["p95_ms"].as_f64().unwrap() >= 350.0 * 0.99);
    }
    assert_ne!(
        sleep,
        wingspan::db::sanitize::sanitize(service::USER_SQL).summary
    );
    for text in ["pg_sleep(", "md5(", "LIMIT"] {
        assert!(!body.contains(text), "query text leaked: {body}");
    }

    // Cache: users 15 hits / 5 misses, sessions 20 misses.
    let cache = &v["cache"];
    assert_eq!(
        (cache["hits"].as_u64(), cache["misses"].as_u64()),
        (Some(15), Some(25))
    );
    assert!((cache["hit_rate"].as_f64().unwrap() - 15.0 / 40.0).abs() < 1e-9);
    assert_eq!(cache["connected"], true);
    let by_name = cache["by_name"].as_array().unwrap();
    let users_cache = by_name.iter().find(|n| n["name"] == "users").unwrap();
    assert_eq!(users_cache["hit_rate"], 0.75);
    assert_eq!(users_cache["ops"], 25); // 20 GETs + 5 SETs

    // gen_ai by model.
    let m = &v["gen_ai"]["models"][0];
    assert_eq!(m["model"], "gpt-4o-mini");
    assert_eq!(
        (
            m["calls"].as_u64(),
            m["input_tokens"].as_u64(),
            m["output_tokens"].as_u64()
        ),
        (Some(4), Some(480), Some(120))
    );
    assert!((m["cost_usd"].as_f64().unwrap() - 0.0084).abs() < 1e-9);

    // Slowest traces, linked.
    let slow = v["slowest_traces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["route"] == "GET /slow")
        .unwrap();
    let t = &slow["traces"][0];
    let id = t["trace_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(t["url"], format!("http://jaeger.test:16686/trace/{id}"));
    assert!(t["duration_ms"].as_f64().unwrap() >= 350.0);

    // Alerts: latency and errors breached, cache breached, pool not.
    assert_eq!(alert(&v, "p95_latency")["breached"], true);
    assert_eq!(alert(&v, "p95_latency")["limit"], 300.0);
    assert_eq!(alert(&v, "error_rate")["breached"], true);
    assert_eq!(alert(&v, "cache_hit_rate")["breached"], true);
    assert_eq!(alert(&v, "db_pool_utilization")["breached"], false);
    assert_eq!(v["status"], "degraded");

    // Recommendations with their figures.
    let recs = v["recommendations"].as_array().unwrap();
    let cache_rec = recs
        .iter()
        .find(|r| r["kind"] == "cache_hit_rate")
        .expect("cache advice");
    assert_eq!(cache_rec["figures"]["worst"][0]["name"], "sessions");
    let stmt = recs
        .iter()
        .find(|r| r["kind"] == "slow_statement")
        .expect("statement advice");
    assert_eq!(stmt["figures"]["summary"], sleep.as_str());
    assert!(stmt["figures"]["share_of_db_time"].as_f64().unwrap() > 0.5);

    // History: this minute holds the traffic.
    let h = &v["history"];
    let requests: u64 = h["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(requests, 29);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_guards_the_data_and_no_payload_carries_a_secret() {
    let receiver = Receiver::start().await;
    let (_telemetry, w) = world(&receiver, support::database_url(), support::redis_url()).await;
    w.drive().await;

    let detailed = w.admin_url("/health/detailed");
    assert_eq!(get(&detailed, None).await.0, 401);
    assert_eq!(
        get(&detailed, Some("tok-MARKER-7f3a9c-never-serve-mE"))
            .await
            .0,
        401
    );
    assert_eq!(get(&detailed, Some(&TOKEN[..TOKEN.len() - 1])).await.0, 401);
    let basic = crate::support::http_client()
        .get(&detailed)
        .header("authorization", format!("Basic {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401);
    assert_eq!(basic.headers()["www-authenticate"], "Bearer");

    let mut payloads = Vec::new();
    for (path, token) in [
        ("/health", None),
        ("/health/ready", None),
        ("/health/detailed", Some(TOKEN)),
        ("/observability", None),
    ] {
        let (status, body) = get(&w.admin_url(path), token).await;
        assert_eq!(status, 200, "{path}: {body}");
        payloads.push((path, body));
    }
    payloads.push((
        "Health::detailed",
        serde_json::to_string(&w.health.detailed()).unwrap(),
    ));
    payloads.push(("Debug", format!("{:?}", w.health)));
    for (path, body) in &payloads {
        for secret in [MARKER, TOKEN, "MARKER"] {
            assert!(!body.contains(secret), "{secret} in {path}");
        }
    }
}
