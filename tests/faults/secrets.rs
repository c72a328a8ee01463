//! A secrets scan of everything wingman lets out. It runs with a DSN
//! password (a Postgres role of its own), a Redis password (a private
//! redis-server with `requirepass`), an admin token, an OTLP header token
//! and request values carrying a marker that land in SQL parameters and in
//! the LLM prompt; its start-up seeding runs SQL whose literals are known
//! text. Every route is driven (errors included), then searched: spans,
//! metrics and logs at the receiver, `/metrics`, `/health`, `/health/ready`,
//! `/health/detailed`, the page and the JSON it fetches, stdout and stderr,
//! at the default level and at `RUST_LOG=debug`. Neither the marker nor a
//! seeded literal appears anywhere.

use std::time::Duration;

use serde_json::json;

use crate::support::PrivateRedis;
use crate::support::{self, dump_logs, dump_metrics, dump_spans, Receiver, Wingman};

/// Literals of wingman's seeding SQL (`'…@wingman.test'`, `'… looking for a
/// partner at level '`): text only a SQL literal carries.
const SEED_LITERALS: [&str; 2] = ["wingman.test", "looking for a partner"];

async fn admin_pg() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&support::database_url(), tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(conn);
    client
}

/// `postgres://role:password@host:port/db` from `DATABASE_URL`.
fn with_credentials(url: &str, role: &str, password: &str) -> String {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .expect("a postgres:// DATABASE_URL");
    let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    format!("postgres://{role}:{password}@{host}")
}

async fn secrets_never_leave(rust_log: Option<&str>) {
    let marker = format!("mrk{}q", support::unique("s").replace('_', ""));
    let pg_password = format!("pgpw{marker}");
    let redis_password = format!("rdpw{marker}");
    let admin_token = format!("admintoken{marker}");
    let otlp_token = format!("otlptoken{marker}");
    let role = support::unique("wm_secret");

    let pg = admin_pg().await;
    pg.batch_execute(&format!(
        "CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{pg_password}'"
    ))
    .await
    .unwrap();
    let redis = PrivateRedis::spawn_with(&["--requirepass", &redis_password]);
    let redis_port = redis.port;
    let receiver = Receiver::start().await;
    let mut builder = Wingman::builder()
        .otlp(&receiver)
        .var(
            "DATABASE_URL",
            with_credentials(&support::database_url(), &role, &pg_password),
        )
        .var(
            "REDIS_URL",
            format!("redis://:{redis_password}@127.0.0.1:{redis_port}"),
        )
        .var("WINGSPAN_ADMIN_TOKEN", &admin_token)
        .var(
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("authorization=Bearer {otlp_token}"),
        )
        // On the admin listener; no port of its own.
        .var("WINGSPAN_PROMETHEUS", "true");
    if let Some(level) = rust_log {
        builder = builder.var("RUST_LOG", level);
    }
    let mut wingman = builder.start().await;

    // Every route, with the marker in every value a client sends.
    let http = super::http();
    let post =
        |path: &str, body: serde_json::Value| http.post(wingman.url(path)).json(&body).send();
    let get = |path: &str| http.get(wingman.url(path)).send();
    let mut statuses = Vec::new();
    let created = post(
        "/api/users",
        json!({"name": format!("name{marker}"), "email": format!("{marker}@example.org")}),
    )
    .await
    .unwrap();
    statuses.push(("POST /api/users", created.status().as_u16()));
    let created: serde_json::Value = created.json().await.unwrap_or_default();
    // The same email again: a unique violation, whose server message names the value.
    let dup = post(
        "/api/users",
        json!({"name": format!("name{marker}"), "email": format!("{marker}@example.org")}),
    )
    .await
    .unwrap();
    statuses.push(("POST /api/users again", dup.status().as_u16()));
    let id = created["id"].as_i64().unwrap_or(1);
    for path in [
        format!("/api/users/{id}"),
        format!("/api/users/{id}/profile"),
        "/api/users/1/matches".to_owned(),
        "/api/challenges/3".to_owned(),
        "/api/challenges?difficulty=hard".to_owned(),
    ] {
        statuses.push(("GET", get(&path).await.unwrap().status().as_u16()));
    }
    for body in [
        json!({"user_id": 1, "partner_id": 2, "challenge_id": 3, "score": 50}),
        json!({"user_id": 1, "partner_id": 2, "challenge_id": 999999, "score": 50}),
    ] {
        statuses.push((
            "POST /api/matches",
            post("/api/matches", body).await.unwrap().status().as_u16(),
        ));
    }
    let session = post("/api/sessions", json!({"user_id": 2})).await.unwrap();
    statuses.push(("POST /api/sessions", session.status().as_u16()));
    let session: serde_json::Value = session.json().await.unwrap_or_default();
    if let Some(token) = session["token"].as_str() {
        statuses.push((
            "GET /api/sessions",
            get(&format!("/api/sessions/{token}"))
                .await
                .unwrap()
                .status()
                .as_u16(),
        ));
    }
    let coach = post(
        "/api/coach",
        json!({"user_id": 1, "question": format!("question {marker}")}),
    )
    .await
    .unwrap();
    statuses.push(("POST /api/coach", coach.status().as_u16()));
    eprintln!("faults::secrets {rust_log:?}: statuses {statuses:?}");
    assert!(
        statuses.iter().all(|(_, s)| *s < 500),
        "a route failed: {statuses:?}\n{}",
        wingman.output()
    );

    // The admin listener: with and without the token.
    let admin = |path: &str, auth: bool| {
        let mut r = http.get(wingman.admin_url(path));
        if auth {
            r = r.bearer_auth(&admin_token);
        }
        r.send()
    };
    let mut served = Vec::new();
    for (path, auth) in [
        ("/health", false),
        ("/health/ready", false),
        ("/health/detailed", false),
        ("/health/detailed", true),
        ("/observability", false),
        ("/observability", true),
        ("/metrics", false),
        ("/metrics", true),
    ] {
        let res = admin(path, auth).await.unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        served.push((format!("{path} (token: {auth}) -> {status}"), body));
    }
    let detailed_with_token = &served[3];
    assert!(
        detailed_with_token.0.ends_with("200"),
        "{}: {}",
        detailed_with_token.0,
        detailed_with_token.1
    );

    // The control: the marker did reach the database and comes back where
    // it belongs, in the API's answer, so a leak would be found.
    let back = get(&format!("/api/users/{id}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        back.contains(&marker),
        "the marker is not in the row: {back}"
    );

    // Let the pipeline drain, then stop the process (SIGTERM flushes).
    tokio::time::sleep(Duration::from_secs(1)).await;
    wingman.terminate();
    let spans = receiver.spans();
    let metrics = receiver.metrics();
    let logs = receiver.logs();
    assert!(!spans.is_empty() && !metrics.is_empty(), "nothing exported");
    // The OTLP token did go where it belongs: the export request's header.
    assert_eq!(
        receiver
            .last_headers()
            .get("authorization")
            .map(String::as_str),
        Some(format!("Bearer {otlp_token}").as_str())
    );

    let mut places: Vec<(String, String)> = vec![
        (
            "receiver spans".into(),
            format!("{}\n{spans:?}", dump_spans(&spans)),
        ),
        (
            "receiver metrics".into(),
            format!("{}\n{metrics:?}", dump_metrics(&metrics)),
        ),
        (
            "receiver logs".into(),
            format!("{}\n{logs:?}", dump_logs(&logs)),
        ),
        ("stdout".into(), wingman.stdout()),
        ("stderr".into(), wingman.stderr()),
    ];
    places.extend(served);
    let mut needles = vec![marker.as_str()];
    needles.extend(SEED_LITERALS);
    let mut coverage = Vec::new();
    for (place, text) in &places {
        coverage.push(format!("{place}: {} bytes", text.len()));
        for needle in &needles {
            if let Some(at) = text.find(needle) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(200)
                    .map_or(0, |(i, _)| i);
                let to = (at + 200).min(text.len());
                let to = (to..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap();
                panic!("{needle:?} leaked into {place}: …{}…", &text[from..to]);
            }
        }
    }
    eprintln!(
        "faults::secrets {rust_log:?}: {} spans, {} metric series, {} log records searched; {}",
        spans.len(),
        metrics.len(),
        logs.len(),
        coverage.join("; ")
    );
    wingman.cleanup().await;
    drop(redis);
    let _ = pg
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_secrets_scan_finds_no_marker_anywhere() {
    secrets_never_leave(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_secrets_scan_finds_no_marker_anywhere_at_debug_level() {
    secrets_never_leave(Some("debug")).await;
}
