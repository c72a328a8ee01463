//! The wingman example as a real process (the built binary) against real
//! Postgres, Redis and the OTLP receiver: every endpoint's status codes, the
//! traces they export (HTTP → acquire → query, cache, LLM), graceful
//! shutdown, settings validation and concurrent start-up on one schema.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{self, Kind, Receiver, SpanRecord, Wingman};

const WAIT: Duration = Duration::from_secs(15);

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("wingman answers");
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The first SERVER span named `name`, and the spans of its trace.
fn trace_of<'a>(spans: &'a [SpanRecord], name: &str) -> (&'a SpanRecord, Vec<&'a SpanRecord>) {
    let root = spans
        .iter()
        .find(|s| s.name == name && s.kind == Kind::Server)
        .unwrap_or_else(|| panic!("no SERVER span {name:?}"));
    let trace = spans
        .iter()
        .filter(|s| s.trace_id == root.trace_id)
        .collect();
    (root, trace)
}

fn child<'a>(trace: &[&'a SpanRecord], parent: &SpanRecord, name: &str) -> &'a SpanRecord {
    trace
        .iter()
        .copied()
        .find(|s| s.name == name && s.is_child_of(parent))
        .unwrap_or_else(|| {
            let names: Vec<_> = trace.iter().map(|s| (&s.name, &s.parent_span_id)).collect();
            panic!("no child {name:?} of {:?}; trace: {names:?}", parent.name)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_and_its_trace_reaches_the_collector() {
    let receiver = Receiver::start().await;
    let mut wingman = Wingman::builder()
        .otlp(&receiver)
        // Every coach call meets a 529: three are retried, the fourth degrades.
        .var("WINGMAN_LLM_OVERLOAD_EVERY", "1")
        .var("WINGSPAN_PROMETHEUS", "true")
        .start()
        .await;
    let http = reqwest::Client::new();
    let get = |path: &str| send(http.get(wingman.url(path)));
    let post = |path: &str, body: Value| send(http.post(wingman.url(path)).json(&body));
    let mut checks: Vec<(String, u16, u16)> = Vec::new();
    let mut expect = |what: &str, want: u16, got: u16| checks.push((what.to_owned(), want, got));

    // Users and profiles.
    let (s, user) = get("/api/users/1").await;
    expect("GET user", 200, s);
    assert_eq!(user["id"], 1, "{user}");
    expect("GET unknown user", 404, get("/api/users/99999999").await.0);
    expect("GET user abc", 400, get("/api/users/abc").await.0);
    expect("GET user 0", 400, get("/api/users/0").await.0);
    let (s, profile) = get("/api/users/1/profile").await;
    expect("GET profile", 200, s);
    assert!(
        profile["matches_played"].as_i64().unwrap_or(0) > 0,
        "{profile}"
    );
    expect(
        "GET unknown profile",
        404,
        get("/api/users/99999999/profile").await.0,
    );
    let email = format!("{}@example.test", wingman.schema);
    let (s, created) = post("/api/users", json!({"name": "Ada", "email": email})).await;
    expect("POST user", 201, s);
    assert!(created["id"].as_i64().unwrap_or(0) > 1000, "{created}");
    expect(
        "POST user, email taken",
        409,
        post("/api/users", json!({"name": "Ada", "email": email}))
            .await
            .0,
    );
    expect(
        "POST user, bad body",
        400,
        post("/api/users", json!({"name": 3})).await.0,
    );

    // Matches: the RLS read and the transaction.
    let (s, matches) = get("/api/users/1/matches").await;
    expect("GET matches", 200, s);
    let list = matches["matches"].as_array().cloned().unwrap_or_default();
    assert!(!list.is_empty(), "{matches}");
    expect(
        "GET matches, unknown user",
        404,
        get("/api/users/99999999/matches").await.0,
    );
    let (s, m) = post(
        "/api/matches",
        json!({"user_id": 1, "partner_id": 2, "challenge_id": 3, "score": 80}),
    )
    .await;
    expect("POST match", 201, s);
    assert_eq!(m["elo_change"], 6, "{m}");
    expect(
        "POST match, unknown challenge",
        404,
        post(
            "/api/matches",
            json!({"user_id": 1, "partner_id": 2, "challenge_id": 999999, "score": 1}),
        )
        .await
        .0,
    );
    expect(
        "POST match against oneself",
        400,
        post(
            "/api/matches",
            json!({"user_id": 1, "partner_id": 1, "challenge_id": 1, "score": 1}),
        )
        .await
        .0,
    );

    // Challenges through the cache: a miss, then (once the write-back has
    // landed in Redis) hits.
    let (s, c) = get("/api/challenges/7").await;
    expect("GET challenge", 200, s);
    assert_eq!(c["id"], 7, "{c}");
    let key = format!("{}challenges/7", wingman.key_prefix);
    let deadline = std::time::Instant::now() + WAIT;
    while support::wingman::redis(&["EXISTS", &key]).await
        != Some(wingspan::cache::Value::Integer(1))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{key} never written back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The flight stays registered a moment after the SET lands (a caller then
    // takes the shared value without a GET): read until a GET hits.
    let hit_text = format!("GET {}challenges/?", wingman.key_prefix);
    let is_hit = |s: &SpanRecord| {
        s.attr_str("db.query.text") == Some(hit_text.as_str())
            && s.attr_bool("wingspan.cache.hit") == Some(true)
    };
    while !receiver.spans().iter().any(is_hit) {
        assert!(
            std::time::Instant::now() < deadline,
            "no cache hit on {key}"
        );
        let (s, c) = get("/api/challenges/7").await;
        expect("GET challenge, cached", 200, s);
        assert_eq!(c["id"], 7, "{c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    expect(
        "GET unknown challenge",
        404,
        get("/api/challenges/999999").await.0,
    );
    expect("GET challenge x", 400, get("/api/challenges/x").await.0);
    let (s, hard) = get("/api/challenges?difficulty=hard").await;
    expect("GET challenges hard", 200, s);
    assert!(!hard["challenges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .is_empty());
    expect(
        "GET challenges, bad difficulty",
        400,
        get("/api/challenges?difficulty=brutal").await.0,
    );
    expect("GET challenges, none", 400, get("/api/challenges").await.0);

    // Sessions in Redis.
    let (s, session) = post("/api/sessions", json!({"user_id": 5})).await;
    expect("POST session", 201, s);
    let token = session["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(token.len(), 32, "{session}");
    let (s, read) = get(&format!("/api/sessions/{token}")).await;
    expect("GET session", 200, s);
    assert_eq!(read["user_id"], 5, "{read}");
    expect(
        "GET unknown session",
        404,
        get(&format!("/api/sessions/{}", "0".repeat(32))).await.0,
    );
    expect(
        "GET session, bad token",
        400,
        get("/api/sessions/short").await.0,
    );
    expect(
        "POST session, unknown user",
        404,
        post("/api/sessions", json!({"user_id": 99999999})).await.0,
    );

    // The coach: 529s retried three times, then degraded past the retries.
    let mut degraded = Vec::new();
    for _ in 0..4 {
        let (s, advice) = post(
            "/api/coach",
            json!({"user_id": 9, "question": "How do I serve?"}),
        )
        .await;
        expect("POST coach", 200, s);
        degraded.push(advice["degraded"].as_bool());
    }
    assert_eq!(
        degraded,
        [Some(false), Some(false), Some(false), Some(true)],
        "{}",
        wingman.output()
    );
    expect(
        "POST coach, unknown user",
        404,
        post("/api/coach", json!({"user_id": 99999999, "question": "?"}))
            .await
            .0,
    );
    expect(
        "POST coach, empty question",
        400,
        post("/api/coach", json!({"user_id": 1, "question": " "}))
            .await
            .0,
    );
    expect("GET unknown route", 404, get("/nope").await.0);

    // The admin listener.
    let admin = |path: &str| http.get(wingman.admin_url(path)).send();
    expect(
        "GET /health",
        200,
        admin("/health").await.unwrap().status().as_u16(),
    );
    expect(
        "GET /health/ready",
        200,
        admin("/health/ready").await.unwrap().status().as_u16(),
    );
    let page = admin("/observability").await.unwrap();
    expect("GET /observability", 200, page.status().as_u16());
    let metrics = admin("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("http_server_request_duration_seconds_bucket"),
        "{metrics}"
    );

    let wrong: Vec<_> = checks.iter().filter(|(_, want, got)| want != got).collect();
    assert!(
        wrong.is_empty(),
        "unexpected statuses (what, want, got): {wrong:?}\n{}",
        wingman.output()
    );

    // Spans: HTTP -> acquire + query; HTTP -> cache GET; HTTP -> chat -> POST.
    let spans = receiver
        .wait_for_spans(
            |s| {
                s.iter().any(|s| s.name == "POST /api/coach")
                    && s.iter().any(|s| s.name.starts_with("chat "))
                    && s.iter().any(|s| s.name == "GET /api/sessions/{token}")
            },
            WAIT,
        )
        .await;
    let (root, trace) = trace_of(&spans, "GET /api/users/{id}");
    let acquire = child(&trace, root, "acquire wingman");
    assert_eq!(acquire.kind, Kind::Internal);
    let query = child(&trace, root, "SELECT users");
    assert_eq!(query.kind, Kind::Client);
    assert_eq!(query.attr_str("db.system.name"), Some("postgresql"));

    let (root, trace) = trace_of(&spans, "GET /api/users/{id}/matches");
    child(&trace, root, "acquire wingman");
    child(&trace, root, "BEGIN");
    child(&trace, root, "SELECT matches users challenges");
    child(&trace, root, "COMMIT");

    let (root, trace) = trace_of(&spans, "POST /api/matches");
    child(&trace, root, "INSERT matches");
    child(&trace, root, "UPDATE profiles");

    let (root, trace) = trace_of(&spans, "GET /api/challenges/{id}");
    let cache_get = child(&trace, root, "GET");
    assert_eq!(cache_get.attr_str("db.system.name"), Some("redis"));
    assert_eq!(
        cache_get.attr_str("db.query.text"),
        Some(format!("GET {}challenges/?", wingman.key_prefix).as_str())
    );

    let coach = spans
        .iter()
        .find(|s| s.name == "POST /api/coach" && s.attr_str("wingspan.route.class") == Some("llm"))
        .expect("an llm-class coach span");
    let trace: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.trace_id == coach.trace_id)
        .collect();
    let chat = child(&trace, coach, "chat claude-sonnet-4-5");
    assert_eq!(chat.kind, Kind::Client);
    assert!(chat.attr_i64("gen_ai.usage.output_tokens").unwrap_or(0) > 0);
    assert!(trace
        .iter()
        .any(|s| s.is_child_of(chat) && s.kind == Kind::Client));

    // The session token is a credential: in no span.
    let (session_span, _) = trace_of(&spans, "GET /api/sessions/{token}");
    assert_eq!(
        session_span.attr_str("url.path"),
        Some("/api/sessions/REDACTED")
    );
    let leaked: Vec<_> = spans
        .iter()
        .filter(|s| format!("{:?}", s.attributes).contains(&token))
        .map(|s| s.name.clone())
        .collect();
    assert!(leaked.is_empty(), "token in spans {leaked:?}");

    // Logs: the handlers' events carry the request's trace.
    let (created, _) = trace_of(&spans, "POST /api/users");
    let logs = receiver
        .wait_for_logs(|l| l.iter().any(|l| l.body == "user created"), WAIT)
        .await;
    let log = logs
        .iter()
        .find(|l| l.body == "user created")
        .expect("present");
    assert_eq!(log.trace_id, created.trace_id);

    // Metrics: cache hits by cache name, LLM tokens.
    let name = format!("{}challenges", wingman.key_prefix);
    receiver
        .wait_for_metric(
            "wingspan.cache.requests",
            |p| {
                p.iter().any(|p| {
                    p.attributes
                        .get("wingspan.cache.name")
                        .map(|v| v.to_string())
                        == Some(name.clone())
                        && p.attributes
                            .get("wingspan.cache.result")
                            .map(|v| v.to_string())
                            == Some("hit".into())
                        && p.value >= 1.0
                })
            },
            WAIT,
        )
        .await;
    receiver
        .wait_for_metric(
            "gen_ai.client.token.usage",
            |p| p.iter().any(|p| p.count > 0),
            WAIT,
        )
        .await;

    // SIGTERM: a clean exit, and the output says nothing went wrong.
    let status = wingman.stop().await.expect("exits within 15 s of SIGTERM");
    assert!(status.success(), "{status}\n{}", wingman.output());
    assert!(
        !wingman.output().contains("panicked"),
        "{}",
        wingman.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_connection_per_request_serves_the_same_api() {
    let receiver = Receiver::start().await;
    let wingman = Wingman::builder()
        .otlp(&receiver)
        .var("DB_POOL_ENABLED", "false")
        .start()
        .await;
    let http = reqwest::Client::new();
    for path in [
        "/api/users/3",
        "/api/users/3/profile",
        "/api/users/3/matches",
        "/api/challenges/3",
    ] {
        let (s, body) = send(http.get(wingman.url(path))).await;
        assert_eq!(s, 200, "{path}: {body}\n{}", wingman.output());
    }
    // Each acquire opened a connection of its own (`db.client.connection.create_time`).
    let spans = receiver
        .wait_for_spans(
            |s| s.iter().filter(|s| s.name == "acquire wingman").count() >= 4,
            WAIT,
        )
        .await;
    let (root, trace) = trace_of(&spans, "GET /api/users/{id}/profile");
    child(&trace, root, "SELECT matches users profiles");
    receiver
        .wait_for_metric(
            "db.client.connection.create_time",
            |p| p.iter().map(|p| p.count).sum::<u64>() >= 4,
            WAIT,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_starting_together_migrate_and_seed_once() {
    let first = Wingman::builder().var("WINGMAN_SEED_USERS", "2000");
    let schema = first.schema_name().to_owned();
    let second = Wingman::builder()
        .schema(&schema)
        .var("WINGMAN_SEED_USERS", "2000");
    let (a, b) = tokio::join!(first.start(), second.start());
    let http = reqwest::Client::new();
    for w in [&a, &b] {
        let (s, _) = send(http.get(w.url("/api/users/2000"))).await;
        assert_eq!(s, 200, "{}", w.output());
    }
    // A third start finds the seed and skips it.
    let c = Wingman::builder()
        .schema(&schema)
        .var("WINGMAN_SEED_USERS", "2000")
        .start()
        .await;
    let (client, conn) =
        tokio_postgres::connect(&crate::support::database_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    let count = |table: &'static str| {
        let client = &client;
        let schema = schema.clone();
        async move {
            client
                .query_one(&format!("SELECT count(*) FROM {schema}.{table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(count("users").await, 2000);
    assert_eq!(count("matches").await, 20000);
    assert_eq!(count("challenges").await, 500);
    // `a` started on a fresh schema and owns it: dropped last, it removes it.
    drop((c, b));
    drop(a);
    let gone = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &[&schema],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(gone, 0, "the owner's drop removes the schema");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_setting_stops_start_up_naming_the_variable() {
    for (name, value, expected) in [
        (
            "WINGMAN_SCHEMA",
            "Bad-Schema",
            "a lower-case SQL identifier",
        ),
        ("WINGMAN_KEY_PREFIX", "has/slash", "1 to 64 characters"),
        (
            "WINGMAN_SEED_USERS",
            "lots",
            "a whole number from 100 to 1000000",
        ),
        (
            "WINGMAN_LLM_URL",
            "ftp://x",
            "an http:// or https:// base URL",
        ),
        ("APP_ADDR", "localhost", "a socket address"),
    ] {
        let err = Wingman::builder()
            .var(name, value)
            .try_start()
            .await
            .expect_err("a bad setting must stop start-up");
        let want = format!("invalid {name}={value:?}: expected {expected}");
        assert!(err.contains(&want), "{name}: want {want:?} in:\n{err}");
    }
}
