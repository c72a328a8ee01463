//! The wingman example as a real process (the built binary) against real
//! Postgres, Redis and the OTLP receiver: each part of the API answers with
//! its status codes and exports its trace (HTTP → acquire → query, cache,
//! LLM), the admin listener serves, every process exits cleanly on SIGTERM,
//! settings are validated and concurrent start-ups on one schema agree.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{self, Kind, Receiver, SpanRecord, Wingman, WingmanBuilder};

/// One wingman exporting to a receiver of its own, and a client.
struct Service {
    receiver: Receiver,
    wingman: Wingman,
    http: reqwest::Client,
}

impl Service {
    /// A wingman with the test's settings on top of `configure`'s.
    async fn start(configure: impl FnOnce(WingmanBuilder) -> WingmanBuilder) -> Service {
        let receiver = Receiver::start().await;
        let wingman = configure(Wingman::builder().otlp(&receiver)).start().await;
        Service {
            receiver,
            wingman,
            http: support::http_client(),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap_or_else(|e| panic!("wingman answers: {e}\n{}", self.wingman.output()));
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.wingman.url(path))).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(self.wingman.url(path)).json(&body))
            .await
    }

    /// The status of each `(what, request)`, asserted together against
    /// `want`: one failure lists every wrong answer, with wingman's output.
    async fn statuses(&self, cases: Vec<(&str, Call, u16)>) {
        let mut wrong = Vec::new();
        for (what, call, want) in cases {
            let got = match call {
                Call::Get(path) => self.get(&path).await.0,
                Call::Post(path, body) => self.post(&path, body).await.0,
            };
            if got != want {
                wrong.push((what, want, got));
            }
        }
        assert!(
            wrong.is_empty(),
            "unexpected statuses (what, want, got): {wrong:?}\n{}",
            self.wingman.output()
        );
    }

    /// The first SERVER span named `name`, once it arrived, and the spans
    /// of its trace so far.
    async fn trace_of(&self, name: &str) -> (SpanRecord, Vec<SpanRecord>) {
        let root = self
            .receiver
            .wait_for_span(|s| s.name == name && s.kind == Kind::Server)
            .await;
        let trace = self.trace(&root);
        (root, trace)
    }

    /// The spans of `root`'s trace received so far.
    fn trace(&self, root: &SpanRecord) -> Vec<SpanRecord> {
        self.receiver
            .spans()
            .into_iter()
            .filter(|s| s.trace_id == root.trace_id)
            .collect()
    }

    /// SIGTERM: a clean exit, and the output says nothing went wrong.
    async fn stop(mut self) {
        let status = self
            .wingman
            .stop()
            .await
            .expect("exits within 15 s of SIGTERM");
        let output = self.wingman.output();
        assert!(status.success(), "{status}\n{output}");
        assert!(!output.contains("panicked"), "{output}");
    }
}

/// A request of a status check.
enum Call {
    Get(String),
    Post(String, Value),
}

fn get(path: impl Into<String>) -> Call {
    Call::Get(path.into())
}

fn post(path: impl Into<String>, body: Value) -> Call {
    Call::Post(path.into(), body)
}

/// The child of `parent` named `name` in `trace`.
fn child<'a>(trace: &'a [SpanRecord], parent: &SpanRecord, name: &str) -> &'a SpanRecord {
    trace
        .iter()
        .find(|s| s.name == name && s.is_child_of(parent))
        .unwrap_or_else(|| {
            let names: Vec<_> = trace.iter().map(|s| (&s.name, &s.parent_span_id)).collect();
            panic!("no child {name:?} of {:?}; trace: {names:?}", parent.name)
        })
}

/// Users and profiles answer with their statuses; a read traces HTTP →
/// acquire → query; a handler's log record carries its request's trace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_profiles_answer_and_trace_through_the_pool() {
    let s = Service::start(|b| b).await;
    let (status, user) = s.get("/api/users/1").await;
    assert_eq!((status, &user["id"]), (200, &json!(1)), "{user}");
    let (status, profile) = s.get("/api/users/1/profile").await;
    assert_eq!(status, 200, "{profile}");
    assert!(
        profile["matches_played"].as_i64().unwrap_or(0) > 0,
        "{profile}"
    );
    let email = format!("{}@example.test", s.wingman.schema);
    let (status, created) = s
        .post("/api/users", json!({"name": "Ada", "email": email}))
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["id"].as_i64().unwrap_or(0) > 1000, "{created}");
    s.statuses(vec![
        ("GET unknown user", get("/api/users/99999999"), 404),
        ("GET user abc", get("/api/users/abc"), 400),
        ("GET user 0", get("/api/users/0"), 400),
        (
            "GET unknown profile",
            get("/api/users/99999999/profile"),
            404,
        ),
        (
            "POST user, email taken",
            post("/api/users", json!({"name": "Ada", "email": email})),
            409,
        ),
        (
            "POST user, bad body",
            post("/api/users", json!({"name": 3})),
            400,
        ),
        ("GET unknown route", get("/nope"), 404),
    ])
    .await;

    let (root, trace) = s.trace_of("GET /api/users/{id}").await;
    assert_eq!(child(&trace, &root, "acquire wingman").kind, Kind::Internal);
    let query = child(&trace, &root, "SELECT users");
    assert_eq!(query.kind, Kind::Client);
    assert_eq!(query.attr_str("db.system.name"), Some("postgresql"));

    let (created, _) = s.trace_of("POST /api/users").await;
    let log = s.receiver.wait_for_log(|l| l.body == "user created").await;
    assert_eq!(log.trace_id, created.trace_id);
    s.stop().await;
}

/// Matches answer with their statuses; the list is read as the user in a
/// transaction, and a new match is one transaction of an insert and an
/// update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_answer_and_trace_their_transactions() {
    let s = Service::start(|b| b).await;
    let (status, matches) = s.get("/api/users/1/matches").await;
    assert_eq!(status, 200, "{matches}");
    assert!(
        matches["matches"].as_array().is_some_and(|l| !l.is_empty()),
        "{matches}"
    );
    let (status, m) = s
        .post(
            "/api/matches",
            json!({"user_id": 1, "partner_id": 2, "challenge_id": 3, "score": 80}),
        )
        .await;
    assert_eq!((status, &m["elo_change"]), (201, &json!(6)), "{m}");
    s.statuses(vec![
        (
            "GET matches, unknown user",
            get("/api/users/99999999/matches"),
            404,
        ),
        (
            "POST match, unknown challenge",
            post(
                "/api/matches",
                json!({"user_id": 1, "partner_id": 2, "challenge_id": 999999, "score": 1}),
            ),
            404,
        ),
        (
            "POST match against oneself",
            post(
                "/api/matches",
                json!({"user_id": 1, "partner_id": 1, "challenge_id": 1, "score": 1}),
            ),
            400,
        ),
    ])
    .await;

    let (root, trace) = s.trace_of("GET /api/users/{id}/matches").await;
    for name in [
        "acquire wingman",
        "BEGIN",
        "SELECT matches users challenges",
        "COMMIT",
    ] {
        child(&trace, &root, name);
    }
    for name in ["SELECT matches users challenges", "COMMIT"] {
        let span = child(&trace, &root, name);
        assert!(!span.has_attr("wingspan.operation.name"), "{span:?}");
    }
    let (root, trace) = s.trace_of("POST /api/matches").await;
    // The flow runs as one operation: each of its statements names it.
    for name in ["BEGIN", "INSERT matches", "UPDATE profiles", "COMMIT"] {
        let span = child(&trace, &root, name);
        assert_eq!(
            span.attr_str("wingspan.operation.name"),
            Some("record match"),
            "{span:?}"
        );
    }
    s.stop().await;
}

/// A challenge is read through the cache: a miss loads it from Postgres and
/// writes it back, later reads hit Redis, counted per cache name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_are_read_through_the_cache() {
    let s = Service::start(|b| b).await;
    let (status, c) = s.get("/api/challenges/7").await;
    assert_eq!((status, &c["id"]), (200, &json!(7)), "{c}");
    let key = format!("{}challenges/7", s.wingman.key_prefix);
    let deadline = Instant::now() + support::WAIT;
    while support::wingman::redis(&["EXISTS", &key]).await
        != Some(wingspan::cache::Value::Integer(1))
    {
        assert!(Instant::now() < deadline, "{key} never written back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The flight stays registered a moment after the SET lands (a caller then
    // takes the shared value without a GET): read until a GET hits.
    let hit_text = format!("GET {}challenges/?", s.wingman.key_prefix);
    let is_hit = |s: &SpanRecord| {
        s.attr_str("db.query.text") == Some(hit_text.as_str())
            && s.attr_bool("wingspan.cache.hit") == Some(true)
    };
    while !s.receiver.spans().iter().any(is_hit) {
        assert!(Instant::now() < deadline, "no cache hit on {key}");
        let (status, c) = s.get("/api/challenges/7").await;
        assert_eq!((status, &c["id"]), (200, &json!(7)), "{c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, hard) = s.get("/api/challenges?difficulty=hard").await;
    assert_eq!(status, 200, "{hard}");
    assert!(
        hard["challenges"].as_array().is_some_and(|l| !l.is_empty()),
        "{hard}"
    );
    s.statuses(vec![
        ("GET unknown challenge", get("/api/challenges/999999"), 404),
        ("GET challenge x", get("/api/challenges/x"), 400),
        (
            "GET challenges, bad difficulty",
            get("/api/challenges?difficulty=brutal"),
            400,
        ),
        ("GET challenges, none", get("/api/challenges"), 400),
    ])
    .await;

    let (root, trace) = s.trace_of("GET /api/challenges/{id}").await;
    let cache_get = child(&trace, &root, "GET");
    assert_eq!(cache_get.attr_str("db.system.name"), Some("redis"));
    assert_eq!(cache_get.attr_str("db.query.text"), Some(hit_text.as_str()));
    let name = format!("{}challenges", s.wingman.key_prefix);
    s.receiver
        .wait_for_point("wingspan.cache.requests", |p| {
            p.matches(&[
                ("wingspan.cache.name", &name),
                ("wingspan.cache.result", "hit"),
            ]) && p.value >= 1.0
        })
        .await;
    s.stop().await;
}

/// Sessions live in Redis; the token is a credential: the span's path says
/// REDACTED and no span carries it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_answer_and_their_token_reaches_no_span() {
    let s = Service::start(|b| b).await;
    let (status, session) = s.post("/api/sessions", json!({"user_id": 5})).await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(token.len(), 32, "{session}");
    let (status, read) = s.get(&format!("/api/sessions/{token}")).await;
    assert_eq!((status, &read["user_id"]), (200, &json!(5)), "{read}");
    s.statuses(vec![
        (
            "GET unknown session",
            get(format!("/api/sessions/{}", "0".repeat(32))),
            404,
        ),
        ("GET session, bad token", get("/api/sessions/short"), 400),
        (
            "POST session, unknown user",
            post("/api/sessions", json!({"user_id": 99999999})),
            404,
        ),
    ])
    .await;

    let (span, _) = s.trace_of("GET /api/sessions/{token}").await;
    assert_eq!(span.attr_str("url.path"), Some("/api/sessions/REDACTED"));
    let leaked: Vec<_> = s
        .receiver
        .spans()
        .into_iter()
        .filter(|s| format!("{:?}", s.attributes).contains(&token))
        .map(|s| s.name)
        .collect();
    assert!(leaked.is_empty(), "token in spans {leaked:?}");
    s.stop().await;
}

/// The coach calls the (fake) Messages API under an LLM-class span: a 529
/// is retried three times, then the answer degrades; the chat span holds
/// the usage, with the HTTP attempts under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coach_retries_overloads_then_degrades_under_an_llm_span() {
    // Every coach call meets a 529: three are retried, the fourth degrades.
    let s = Service::start(|b| b.var("WINGMAN_LLM_OVERLOAD_EVERY", "1")).await;
    let mut degraded = Vec::new();
    for _ in 0..4 {
        let (status, advice) = s
            .post(
                "/api/coach",
                json!({"user_id": 9, "question": "How do I serve?"}),
            )
            .await;
        assert_eq!(status, 200, "{advice}");
        degraded.push(advice["degraded"].as_bool());
    }
    assert_eq!(
        degraded,
        [Some(false), Some(false), Some(false), Some(true)],
        "{}",
        s.wingman.output()
    );
    s.statuses(vec![
        (
            "POST coach, unknown user",
            post("/api/coach", json!({"user_id": 99999999, "question": "?"})),
            404,
        ),
        (
            "POST coach, empty question",
            post("/api/coach", json!({"user_id": 1, "question": " "})),
            400,
        ),
    ])
    .await;

    let coach = s
        .receiver
        .wait_for_span(|s| {
            s.name == "POST /api/coach" && s.attr_str("wingspan.route.class") == Some("llm")
        })
        .await;
    let chat = s
        .receiver
        .wait_for_span(|s| s.name == "chat claude-sonnet-4-5" && s.is_child_of(&coach))
        .await;
    assert_eq!(chat.kind, Kind::Client);
    assert!(chat.attr_i64("gen_ai.usage.output_tokens").unwrap_or(0) > 0);
    s.receiver
        .wait_for_span(|s| s.is_child_of(&chat) && s.kind == Kind::Client)
        .await;
    s.receiver
        .wait_for_point("gen_ai.client.token.usage", |p| p.count > 0)
        .await;
    s.stop().await;
}

/// The admin listener serves liveness, readiness (Postgres and Redis up),
/// the page and, with the pull endpoint on, `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_serves_health_the_page_and_metrics() {
    let s = Service::start(|b| b.var("WINGSPAN_PROMETHEUS", "true")).await;
    assert_eq!(s.get("/api/users/1").await.0, 200);
    let admin = |path: &str| s.http.get(s.wingman.admin_url(path)).send();
    for path in ["/health", "/health/ready", "/observability"] {
        let res = admin(path).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let metrics = admin("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("http_server_request_duration_seconds_bucket"),
        "{metrics}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_connection_per_request_serves_the_same_api() {
    let s = Service::start(|b| b.var("DB_POOL_ENABLED", "false")).await;
    for path in [
        "/api/users/3",
        "/api/users/3/profile",
        "/api/users/3/matches",
        "/api/challenges/3",
    ] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, 200, "{path}: {body}\n{}", s.wingman.output());
    }
    let (root, trace) = s.trace_of("GET /api/users/{id}/profile").await;
    // The conventions' summary: the subquery's SELECT is an operation of its own.
    child(&trace, &root, "SELECT SELECT matches users profiles");
    // Each acquire opened a connection of its own (`db.client.connection.create_time`).
    s.receiver
        .wait_for_metric(
            "db.client.connection.create_time",
            |p| p.iter().map(|p| p.count).sum::<u64>() >= 4,
            support::WAIT,
        )
        .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_starting_together_migrate_and_seed_once() {
    let first = Wingman::builder().var("WINGMAN_SEED_USERS", "2000");
    let schema = first.schema_name().to_owned();
    let second = Wingman::builder()
        .schema(&schema)
        .var("WINGMAN_SEED_USERS", "2000");
    let (a, b) = tokio::join!(first.start(), second.start());
    let http = support::http_client();
    for w in [&a, &b] {
        let res = http.get(w.url("/api/users/2000")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{}", w.output());
    }
    // A third start finds the seed and skips it.
    let c = Wingman::builder()
        .schema(&schema)
        .var("WINGMAN_SEED_USERS", "2000")
        .start()
        .await;
    let (client, conn) = tokio_postgres::connect(&support::database_url(), tokio_postgres::NoTls)
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

/// SIGTERM ends a connection that has sent nothing yet (as a client's
/// spare pooled connection is) at once: it does not hold the drain (it
/// did, for the header read timeout, while `serve` awaited a connection's
/// first bytes before it listened for the stop).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_does_not_wait_for_a_connection_that_sent_nothing() {
    let mut wingman = Wingman::builder().start().await;
    let _silent = tokio::net::TcpStream::connect(wingman.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let status = wingman.stop().await.expect("exits within 15 s");
    assert!(status.success(), "{}", wingman.output());
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "SIGTERM took {:?}: the drain waited for a connection that sent nothing\n{}",
        t.elapsed(),
        wingman.output()
    );
}

/// `WINGMAN_N_PLUS_ONE_ROUTE=true`: the deliberate N+1 route gets one
/// `wingspan.db.n_plus_one` event on its server span and a counter point by
/// route and summary; every other API route, run first, gets neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_n_plus_one_route_is_flagged_and_the_other_routes_are_not() {
    const NAME: &str = "wingspan.db.n_plus_one";
    const ROUTE: &str = "/api/users/{id}/matches-n-plus-one";
    let s = Service::start(|b| b.var("WINGMAN_N_PLUS_ONE_ROUTE", "true")).await;
    let (status, session) = s.post("/api/sessions", json!({"user_id": 5})).await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap_or_default().to_owned();
    let email = format!("{}@example.test", s.wingman.schema);
    s.statuses(vec![
        ("GET user", get("/api/users/1"), 200),
        ("GET profile", get("/api/users/1/profile"), 200),
        ("GET matches", get("/api/users/1/matches"), 200),
        (
            "GET challenges",
            get("/api/challenges?difficulty=hard"),
            200,
        ),
        ("GET challenge", get("/api/challenges/7"), 200),
        ("GET session", get(format!("/api/sessions/{token}")), 200),
        (
            "POST user",
            post("/api/users", json!({"name": "Ada", "email": email})),
            201,
        ),
        (
            "POST match",
            post(
                "/api/matches",
                json!({"user_id": 1, "partner_id": 2, "challenge_id": 3, "score": 80}),
            ),
            201,
        ),
    ])
    .await;
    let (status, body) = s.get("/api/users/1/matches-n-plus-one").await;
    assert_eq!(status, 200, "{body}");
    let loaded = body["matches"].as_array().map_or(0, Vec::len) as i64;
    assert!(
        loaded > 5,
        "user 1 has more matches than the threshold: {body}"
    );

    let (root, _) = s.trace_of(&format!("GET {ROUTE}")).await;
    let flagged: Vec<_> = root.events.iter().filter(|e| e.name == NAME).collect();
    assert_eq!(flagged.len(), 1, "{root:?}");
    let attr = |k: &str| flagged[0].attributes.get(k).cloned();
    assert_eq!(
        attr("db.query.summary").and_then(|v| v.as_str().map(str::to_owned)),
        Some("SELECT users profiles".to_owned())
    );
    assert_eq!(
        attr("wingspan.db.n_plus_one.count").and_then(|v| v.as_i64()),
        Some(loaded)
    );
    let point = s
        .receiver
        .wait_for_point(NAME, |p| p.attr_str("http.route") == Some(ROUTE))
        .await;
    assert_eq!(
        point.attr_str("db.query.summary"),
        Some("SELECT users profiles")
    );

    // No false positives: every other server span (all exported before the
    // N+1 route's, which came last) has no event, and no other route counts.
    for name in [
        "GET /api/users/{id}",
        "GET /api/users/{id}/profile",
        "GET /api/users/{id}/matches",
        "GET /api/challenges",
        "GET /api/challenges/{id}",
        "GET /api/sessions/{token}",
        "POST /api/sessions",
        "POST /api/users",
        "POST /api/matches",
    ] {
        s.receiver
            .wait_for_span(|sp| sp.name == name && sp.kind == Kind::Server)
            .await;
    }
    let spans = s.receiver.spans();
    let noisy: Vec<_> = spans
        .iter()
        .filter(|sp| sp.kind == Kind::Server && sp.trace_id != root.trace_id)
        .filter(|sp| sp.events.iter().any(|e| e.name == NAME))
        .map(|sp| &sp.name)
        .collect();
    assert!(noisy.is_empty(), "flagged: {noisy:?}");
    let points = s.receiver.metric(NAME);
    assert!(
        points
            .iter()
            .all(|p| p.attr_str("http.route") == Some(ROUTE)),
        "{}",
        support::dump_metrics(&points)
    );

    // The admin listener's `/health/detailed` lists the route alone, with
    // the trace, and recommends the batch.
    let res = s
        .http
        .get(s.wingman.admin_url("/health/detailed"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    let rows = doc["n_plus_one"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["route"], format!("GET {ROUTE}"));
    assert_eq!(rows[0]["summary"], "SELECT users profiles");
    assert_eq!(rows[0]["traces"][0]["trace_id"], root.trace_id.as_str());
    assert!(doc["recommendations"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["kind"] == "n_plus_one")));
    s.stop().await;
}

/// `WINGMAN_SLOW_ROUTE=true` with `DB_PLAN_CAPTURE=true`: the deliberately
/// slow statement gets its plan beside it in the admin listener's
/// `/health/detailed`: a sequential scan of `matches`, filtered on
/// `challenge_id`, which has no index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slow_route_gets_its_plan_captured_and_served() {
    let s = Service::start(|b| {
        b.var("WINGMAN_SLOW_ROUTE", "true")
            .var("DB_PLAN_CAPTURE", "true")
            .var("DB_PLAN_THRESHOLD_MS", "0")
            .var("DB_PLAN_INTERVAL", "1")
            .var("WINGSPAN_ADVICE_MIN_CALLS", "3")
    })
    .await;
    for id in [3, 7, 11] {
        let (status, body) = s.get(&format!("/api/challenges/{id}/top-scores")).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["top_scores"].is_array(), "{body}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let row = loop {
        let doc: Value = s
            .http
            .get(s.wingman.admin_url("/health/detailed"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let found = doc["slow_queries"]["by_p95"]
            .as_array()
            .and_then(|rows| {
                rows.iter()
                    .find(|r| r["summary"] == "SELECT matches" && !r["plan"].is_null())
            })
            .cloned();
        if let Some(row) = found {
            break row;
        }
        assert!(
            Instant::now() < deadline,
            "no plan of SELECT matches: {doc}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let text = row["plan"]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("Seq Scan on") && text.contains("matches"),
        "{text}"
    );
    assert!(text.contains("challenge_id = $1"), "{text}");
    s.stop().await;
}
