//! `/health/detailed` fed by the hot paths themselves: the HTTP layer, the
//! pool, the statements and the cache of one `Telemetry` feed its view, and
//! `Health::for_telemetry` serves it with the pool and the cache as
//! readiness checks. No handler records anything by hand.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use wingspan::cache::Cache;
use wingspan::db::{Pool, Queryable};
use wingspan::health::Health;

use super::{get as fetch, MARKER};
use crate::support::{self, Protocol, Receiver};

#[derive(Clone)]
struct App {
    pool: Pool,
    cache: Cache,
    /// A cache name of this run's own, so the shared Redis holds none of its keys.
    prefix: String,
}

async fn item(State(app): State<App>, Path(id): Path<i32>) -> StatusCode {
    let key = format!("{}:{id}", app.prefix);
    let loaded = app
        .cache
        .get_or_load(&key, None, || {
            let pool = app.pool.clone();
            async move {
                let c = pool.get().await?;
                let row = c
                    .query_one(
                        "SELECT $1::int + 1 AS next, 'literal-MARKER-SECRET-5b1e77' AS s",
                        &[&id],
                    )
                    .await?;
                Ok::<i32, wingspan::db::DbError>(row.get(0))
            }
        })
        .await;
    match loaded {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn boom(State(app): State<App>) -> StatusCode {
    if let Ok(c) = app.pool.get().await {
        let _ = c.query_one("SELECT 1 / 0", &[]).await;
    }
    StatusCode::INTERNAL_SERVER_ERROR
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detailed_json_is_fed_by_the_hot_paths() {
    let receiver = Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        Protocol::Grpc,
        &[("WINGSPAN_ADMIN_TOKEN", super::TOKEN)],
    )
    .await;
    let pool = Pool::builder(&telemetry)
        .application_name(support::unique("wswired"))
        .build()
        .await
        .unwrap();
    let cache = Cache::builder(&telemetry).build().await.unwrap();
    let health = Health::for_telemetry(&telemetry)
        .check(pool.clone())
        .check(cache.clone())
        .build();
    // Its keys are deleted when `keys` drops, at the end of the test.
    let keys = support::KeyPrefix::new("wired");
    let prefix = keys.prefix.clone();
    let app = Router::new()
        .route("/api/items/{id}", get(item))
        .route("/api/boom", get(boom))
        .with_state(App {
            pool: pool.clone(),
            cache: cache.clone(),
            prefix: prefix.clone(),
        })
        .layer(wingspan::http::layer(&telemetry))
        .merge(health.router());
    let addr = support::spawn_app_with_peer(app).await;
    let url = |p: &str| format!("http://{addr}{p}");
    // The first read of each id misses and loads, the second hits.
    for round in 0..2 {
        for id in 0..4 {
            let (s, _) = fetch(&url(&format!("/api/items/{id}")), None).await;
            assert_eq!(s, 200, "round {round}");
        }
    }
    assert_eq!(fetch(&url("/api/boom"), None).await.0, 500);

    let (s, _) = fetch(&url("/health/ready"), None).await;
    assert_eq!(s, 200);
    let (s, _) = fetch(&url("/health/detailed"), None).await;
    assert_eq!(s, 401, "the token guards the figures");
    let (s, body) = fetch(&url("/health/detailed"), Some(super::TOKEN)).await;
    assert_eq!(s, 200);
    assert!(!body.contains(MARKER), "no statement literal in the JSON");
    assert!(!body.contains(super::TOKEN));
    let v: Value = serde_json::from_str(&body).unwrap();

    let api = &v["api_performance"];
    assert_eq!(api["requests"], 9, "{api}");
    assert_eq!(api["errors"], 1);
    let routes = api["routes"].as_array().unwrap();
    let items = routes
        .iter()
        .find(|r| r["route"] == "GET /api/items/{id}")
        .unwrap_or_else(|| panic!("{routes:?}"));
    assert_eq!(items["requests"], 8);
    assert!(items["p95_latency_ms"].as_f64().unwrap() > 0.0);

    let db = &v["database"];
    assert_eq!(db["queries"], 5, "4 loads and the division: {db}");
    assert_eq!(db["query_errors"], 1);
    assert!(db["acquires"].as_u64().unwrap() >= 5);
    assert!(db["max_connections"].as_u64().unwrap() > 0);
    let slow = v["slow_queries"]["by_total_time"].as_array().unwrap();
    assert!(slow
        .iter()
        .all(|q| !q["summary"].as_str().unwrap().contains("MARKER")));

    let cache_json = &v["cache"];
    let by_name = cache_json["by_name"].as_array().unwrap();
    let items_cache = by_name
        .iter()
        .find(|c| c["name"] == prefix.as_str())
        .unwrap_or_else(|| panic!("{by_name:?}"));
    assert_eq!(
        (items_cache["hits"].as_u64(), items_cache["misses"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(cache_json["connected"], true);
}
