//! N+1 detection (`DB_N_PLUS_ONE_THRESHOLD`): a request that runs one
//! statement summary more than the threshold times in a row gets one
//! `wingspan.db.n_plus_one` event on its server span, a counter point by
//! route and summary, and a row in `/health/detailed`; a request under the
//! threshold, one that alternates two statements, and one that batches do
//! not.

use std::net::SocketAddr;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use wingspan::db::{Pool, Queryable};
use wingspan::health::Health;

use super::Db;
use crate::support::{self, Kind, SpanRecord};

const EVENT: &str = "wingspan.db.n_plus_one";

#[derive(Clone)]
struct App {
    pool: Pool,
    profiles: String,
    matches: String,
}

impl App {
    async fn profile(&self, c: &wingspan::db::Client, id: i32) {
        c.query_opt(
            &format!("SELECT name FROM {} WHERE id = $1", self.profiles),
            &[&id],
        )
        .await
        .unwrap();
    }

    async fn matches(&self, c: &wingspan::db::Client) {
        c.query(&format!("SELECT id FROM {} LIMIT 10", self.matches), &[])
            .await
            .unwrap();
    }
}

/// Loads the matches, then each of 10 profiles one by one.
async fn n_plus_one(State(app): State<App>) -> &'static str {
    let c = app.pool.get().await.unwrap();
    app.matches(&c).await;
    for id in 0..10 {
        app.profile(&c, id).await;
    }
    "ok"
}

/// 4 in a row: under the default threshold of 5.
async fn under(State(app): State<App>) -> &'static str {
    let c = app.pool.get().await.unwrap();
    for id in 0..4 {
        app.profile(&c, id).await;
    }
    "ok"
}

/// Two statements, 10 times each, alternating: never two in a row.
async fn alternating(State(app): State<App>) -> &'static str {
    let c = app.pool.get().await.unwrap();
    for id in 0..10 {
        app.profile(&c, id).await;
        app.matches(&c).await;
    }
    "ok"
}

/// The same rows in one statement.
async fn batch(State(app): State<App>) -> &'static str {
    let c = app.pool.get().await.unwrap();
    let ids: Vec<i32> = (0..10).collect();
    c.query(
        &format!("SELECT name FROM {} WHERE id = ANY($1)", app.profiles),
        &[&ids],
    )
    .await
    .unwrap();
    "ok"
}

async fn serve(db: &Db) -> (SocketAddr, App) {
    let pool = db.pool().await;
    let app = App {
        pool: pool.clone(),
        profiles: format!("{}.np_profiles", db.schema),
        matches: format!("{}.np_matches", db.schema),
    };
    db.admin
        .batch_execute(&format!(
            "CREATE TABLE {} (id int PRIMARY KEY, name text);
             INSERT INTO {} SELECT g, 'p' || g FROM generate_series(0, 9) g;
             CREATE TABLE {} (id int PRIMARY KEY);",
            app.profiles, app.profiles, app.matches
        ))
        .await
        .unwrap();
    let router = Router::new()
        .route("/n1", get(n_plus_one))
        .route("/under", get(under))
        .route("/alternating", get(alternating))
        .route("/batch", get(batch))
        .with_state(app.clone())
        .layer(wingspan::http::layer(&db.telemetry));
    (support::spawn_app(router).await, app)
}

async fn hit(addr: SocketAddr, paths: &[&str]) {
    for p in paths {
        let r = reqwest::get(format!("http://{addr}{p}")).await.unwrap();
        assert_eq!(r.status(), 200, "{p}");
    }
}

/// The exported server span of `GET {path}`.
async fn server_span(db: &Db, path: &str) -> SpanRecord {
    let name = format!("GET {path}");
    db.receiver
        .wait_for_span(|s| s.name == name && s.kind == Kind::Server)
        .await
}

fn events(span: &SpanRecord) -> Vec<&support::EventRecord> {
    span.events.iter().filter(|e| e.name == EVENT).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_statement_is_flagged_once_and_batches_or_alternations_are_not() {
    let db = Db::new(&[]).await;
    let (addr, app) = serve(&db).await;
    hit(addr, &["/n1", "/under", "/alternating", "/batch"]).await;
    db.flush().await;

    let summary = format!("SELECT {}", app.profiles);
    let span = server_span(&db, "/n1").await;
    let flagged = events(&span);
    assert_eq!(flagged.len(), 1, "{span:?}");
    let e = flagged[0];
    assert_eq!(
        e.attributes
            .get("db.query.summary")
            .and_then(|v| v.as_str()),
        Some(summary.as_str())
    );
    assert_eq!(
        e.attributes
            .get("wingspan.db.n_plus_one.count")
            .and_then(|v| v.as_i64()),
        Some(10)
    );
    assert_eq!(
        e.attributes
            .get("db.client.connection.pool.name")
            .and_then(|v| v.as_str()),
        Some(db.app.as_str())
    );
    for path in ["/under", "/alternating", "/batch"] {
        let span = server_span(&db, path).await;
        assert!(events(&span).is_empty(), "{path}: {span:?}");
    }

    let point = db
        .receiver
        .wait_for_point(EVENT, |p| p.attr_str("http.route") == Some("/n1"))
        .await;
    assert_eq!(point.attr_str("db.query.summary"), Some(summary.as_str()));
    assert_eq!(point.value, 1.0);
    let points = db.receiver.metric(EVENT);
    assert!(
        points
            .iter()
            .all(|p| p.attr_str("http.route") == Some("/n1")),
        "{}",
        support::dump_metrics(&points)
    );

    // The view: `/health/detailed` lists the route, its statement and the trace.
    let health = Health::for_telemetry(&db.telemetry).build();
    let doc = serde_json::to_value(health.detailed()).unwrap();
    let rows = doc["n_plus_one"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["route"], "GET /n1");
    assert_eq!(rows[0]["summary"], summary.as_str());
    assert_eq!(rows[0]["occurrences"], 1);
    assert_eq!(rows[0]["max_repeats"], 10);
    assert_eq!(rows[0]["traces"][0]["trace_id"], span.trace_id.as_str());
    let recs = doc["recommendations"].as_array().unwrap();
    let rec = recs
        .iter()
        .find(|r| r["kind"] == "n_plus_one")
        .unwrap_or_else(|| panic!("{recs:?}"));
    assert!(rec["message"].as_str().unwrap().contains("= ANY($1)"));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threshold_zero_turns_detection_off() {
    let db = Db::new(&[("DB_N_PLUS_ONE_THRESHOLD", "0")]).await;
    let (addr, _app) = serve(&db).await;
    hit(addr, &["/n1"]).await;
    db.flush().await;
    let span = server_span(&db, "/n1").await;
    assert!(events(&span).is_empty(), "{span:?}");
    assert!(db.receiver.metric(EVENT).is_empty());
    let stats = db.telemetry.stats().expect("on by default");
    assert!(stats.snapshot(2).n_plus_one.is_empty());
    db.drop_schema().await;
}

/// With `OTEL_SDK_DISABLED=true` there is no span to carry an event, but
/// detection feeds the in-process view (independent of the SDK) all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_sdk_still_feeds_the_view() {
    let db = Db::new(&[("OTEL_SDK_DISABLED", "true")]).await;
    let (addr, app) = serve(&db).await;
    hit(addr, &["/n1", "/alternating"]).await;
    let stats = db.telemetry.stats().expect("on by default");
    let rows = stats.snapshot(2).n_plus_one;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let doc =
        serde_json::to_value(Health::for_telemetry(&db.telemetry).build().detailed()).unwrap();
    let rows = doc["n_plus_one"].as_array().unwrap();
    assert_eq!(rows[0]["route"], "GET /n1");
    assert_eq!(
        rows[0]["summary"],
        format!("SELECT {}", app.profiles).as_str()
    );
    assert_eq!(rows[0]["max_repeats"], 10);
    assert_eq!(db.receiver.request_count(), 0);
    db.drop_schema().await;
}
