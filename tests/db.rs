//! `wingspan::db` against the real Postgres at `DATABASE_URL`, exporting over
//! a real OTLP receiver. Each test works in its own schema and sets its own
//! `application_name`, so parallel runs never touch each other's objects or
//! backends. Tests that stop the server or need their own certificate run a
//! private cluster (`support::PrivatePostgres`); the submodules hold the acquire bound,
//! the reaper's refill, user sessions, `verify-ca` and the outage.

use std::time::{Duration, Instant};

use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::Context;
use wingspan::db::{BuildError, DbError, Pool, PoolBuilder, Queryable};

use crate::support::{self, find_point, Kind, Protocol, Receiver, Status};

mod acquire;
mod adopt;
mod hooks;
mod n_plus_one;
mod outage;
mod plans;
mod refill;
mod rls;
mod rows;
mod sanitize;
mod tls;
mod view;

const WAIT: Duration = Duration::from_secs(10);

/// One test's world: receiver, pipeline, a schema of its own and an admin
/// connection outside the pool.
struct Db {
    receiver: Receiver,
    telemetry: wingspan::Telemetry,
    schema: String,
    app: String,
    admin: tokio_postgres::Client,
}

impl Db {
    async fn new(extra: &[(&str, &str)]) -> Self {
        let receiver = Receiver::start().await;
        let telemetry = support::telemetry(&receiver, Protocol::Grpc, extra).await;
        let schema = support::unique("wsdb");
        let (admin, conn) =
            tokio_postgres::connect(&support::database_url(), tokio_postgres::NoTls)
                .await
                .expect("admin connection to DATABASE_URL");
        tokio::spawn(conn);
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        Self {
            receiver,
            telemetry,
            app: schema.clone(),
            schema,
            admin,
        }
    }

    fn builder(&self) -> PoolBuilder {
        Pool::builder(&self.telemetry)
            .application_name(&self.app)
            .name(&self.app)
    }

    async fn pool(&self) -> Pool {
        self.builder().build().await.expect("pool builds")
    }

    async fn flush(&self) {
        self.telemetry.force_flush().await.unwrap();
    }

    /// Backends of this test's pool, by `application_name`.
    async fn backends(&self) -> Vec<i32> {
        self.admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
                &[&self.app],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    async fn kill_backends(&self) -> u64 {
        self.admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&self.app],
            )
            .await
            .unwrap()
    }

    async fn drop_schema(self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhaustion_times_out_with_typed_error_and_counts_it() {
    let db = Db::new(&[
        ("DB_MAX_CONNECTIONS", "2"),
        ("DB_POOL_SIZE", "0"),
        ("DB_CONNECTION_TIMEOUT", "1"),
    ])
    .await;
    let pool = db.pool().await;
    let a = pool.get().await.unwrap();
    let b = pool.get().await.unwrap();
    let start = Instant::now();
    let err = pool.get().await.unwrap_err();
    let waited = start.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(matches!(err, DbError::PoolTimeout(d) if d == Duration::from_secs(1)));
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    drop((a, b));
    // The pool serves again once connections return.
    pool.get().await.unwrap();
    db.flush().await;

    let name = format!("acquire {}", db.app);
    let spans = db
        .receiver
        .wait_for_spans(|s| s.iter().filter(|s| s.name == name).count() >= 4, WAIT)
        .await;
    let failed: Vec<_> = spans
        .iter()
        .filter(|s| s.name == name && s.attr_str("error.type") == Some("timeout"))
        .collect();
    assert_eq!(failed.len(), 1, "{}", support::dump_spans(&spans));
    let span = failed[0];
    assert_eq!(span.kind, Kind::Internal);
    assert_eq!(span.status, Status::Error);
    assert_eq!(span.attr_str("db.system.name"), Some("postgresql"));
    assert_eq!(
        span.attr_str("db.client.connection.pool.name"),
        Some(db.app.as_str())
    );
    assert_eq!(span.attr_i64("wingspan.pool.size"), Some(2));
    assert_eq!(span.attr_i64("wingspan.pool.available"), Some(0));

    let pool_attr = [("db.client.connection.pool.name", db.app.as_str())];
    db.receiver
        .wait_for_point("db.client.connection.timeouts", |p| {
            p.matches(&pool_attr) && p.value == 1.0
        })
        .await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leak_is_reported_with_the_callers_location() {
    let db = Db::new(&[("DB_LEAK_THRESHOLD", "1"), ("DB_POOL_SIZE", "0")]).await;
    let pool = db.pool().await;
    let line = line!() + 1;
    let held = pool.get().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    // Still held: reported once, while held.
    let file = file!();
    let expect = format!("{file}:{line}");
    db.flush().await;
    let log = db.receiver.wait_for_log(|l| l.body.contains(&expect)).await;
    assert_eq!(log.severity_text, "WARN");
    drop(held);

    let line_s = line.to_string();
    let p = db
        .receiver
        .wait_for_point("wingspan.db.connection.leaks", |p| {
            p.matches(&[("code.line.number", &line_s), ("code.file.path", file)])
        })
        .await;
    assert_eq!(p.value, 1.0);
    // A connection returned in time is never reported.
    let quick = pool.get().await.unwrap();
    drop(quick);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        db.receiver
            .logs()
            .iter()
            .filter(|l| l.body.contains("leak threshold"))
            .count(),
        1
    );
    db.drop_schema().await;
}

/// Creates a role once, whoever gets there first (roles are cluster-wide and
/// tests run in parallel).
async fn ensure_role(admin: &tokio_postgres::Client, role: &str) {
    let sql = format!(
        "DO $$ BEGIN CREATE ROLE {role} NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    );
    admin.batch_execute(&sql).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rls_user_a_never_sees_user_b_rows_and_claims_never_leak() {
    // The pool logs in as the authenticator (rls.rs), as on Supabase.
    let db = rls::authenticator_db(&[("DB_MAX_CONNECTIONS", "1"), ("DB_POOL_SIZE", "1")]).await;
    let s = &db.schema;
    ensure_role(&db.admin, "wingspan_test_owner").await;
    db.admin
        .batch_execute(&format!(
            "CREATE FUNCTION {s}.uid() RETURNS text LANGUAGE sql STABLE AS \
               $f$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' $f$;
             CREATE TABLE {s}.notes (id serial PRIMARY KEY, owner text NOT NULL, body text NOT NULL);
             ALTER TABLE {s}.notes OWNER TO wingspan_test_owner;
             ALTER TABLE {s}.notes ENABLE ROW LEVEL SECURITY;
             CREATE POLICY own ON {s}.notes FOR ALL TO wingspan_test_authenticated
               USING (owner = {s}.uid()) WITH CHECK (owner = {s}.uid());
             GRANT USAGE ON SCHEMA {s} TO wingspan_test_authenticated;
             GRANT SELECT, INSERT ON {s}.notes TO wingspan_test_authenticated;
             GRANT USAGE ON SEQUENCE {s}.notes_id_seq TO wingspan_test_authenticated;
             GRANT EXECUTE ON FUNCTION {s}.uid() TO wingspan_test_authenticated;
             INSERT INTO {s}.notes (owner, body) VALUES ('user-a', 'a1'), ('user-a', 'a2'), ('user-b', 'b1');"
        ))
        .await
        .unwrap();
    let pool = db
        .builder()
        .rls_roles(["wingspan_test_authenticated"])
        .build()
        .await
        .unwrap();
    let claims = |sub: &str| serde_json::json!({ "sub": sub, "role": "wingspan_test_authenticated", "email": "x@example.com" });

    let a = pool.as_user(&claims("user-a")).await.unwrap();
    let who: String = a
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(who, "wingspan_test_authenticated");
    let bodies: Vec<String> = a
        .query(&format!("SELECT body FROM {s}.notes ORDER BY body"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(bodies, ["a1", "a2"]);
    // Writing as someone else is refused by the policy.
    let err = a
        .execute(
            &format!("INSERT INTO {s}.notes (owner, body) VALUES ($1, $2)"),
            &[&"user-b", &"forged"],
        )
        .await
        .unwrap_err();
    assert_eq!(err.status_code(), Some("42501"), "{err}");
    drop(a); // rolled back (the failed statement aborted the transaction)

    let b = pool.as_user(&claims("user-b")).await.unwrap();
    let n: i64 = b
        .query_one(&format!("SELECT count(*) FROM {s}.notes"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    b.execute(
        &format!("INSERT INTO {s}.notes (owner, body) VALUES ($1, $2)"),
        &[&"user-b", &"b2"],
    )
    .await
    .unwrap();
    b.commit().await.unwrap();

    // One connection: the next borrower gets the same backend, without the
    // claims or the role.
    let c = pool.get().await.unwrap();
    let row = c
        .query_one(
            "SELECT current_user::text, coalesce(current_setting('request.jwt.claims', true), '')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), rls::AUTHENTICATOR);
    assert_eq!(row.get::<_, String>(1), "");
    drop(c);
    let all = rls::count(&db, &format!("SELECT count(*) FROM {s}.notes")).await;
    assert_eq!(all, 4, "b2 was committed");

    // A session dropped mid-way rolls back before the connection is reused.
    let a = pool.as_user(&claims("user-a")).await.unwrap();
    a.execute(
        &format!("INSERT INTO {s}.notes (owner, body) VALUES ($1, $2)"),
        &[&"user-a", &"never"],
    )
    .await
    .unwrap();
    drop(a);
    let c = pool.get().await.unwrap();
    let row = c
        .query_one(
            "SELECT current_user::text, coalesce(current_setting('request.jwt.claims', true), '')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), rls::AUTHENTICATOR);
    assert_eq!(row.get::<_, String>(1), "");
    drop(c);
    let never = rls::count(
        &db,
        &format!("SELECT count(*) FROM {s}.notes WHERE body = 'never'"),
    )
    .await;
    assert_eq!(never, 0);
    db.flush().await;
    // The claims are parameters: no span carries them.
    let spans = db.receiver.wait_for_spans(|s| s.len() >= 6, WAIT).await;
    assert!(!support::dump_spans(&spans).contains("x@example.com"));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_heals_after_its_backends_are_killed() {
    let db = Db::new(&[("DB_POOL_SIZE", "2"), ("DB_MAX_CONNECTIONS", "4")]).await;
    let pool = db.pool().await;
    assert_eq!(db.backends().await.len(), 2, "the minimum is open at start");
    let before = db.backends().await;
    let held = pool.get().await.unwrap();
    held.query_one("SELECT 1", &[]).await.unwrap();

    assert!(db.kill_backends().await >= 2);
    // The call on a connection killed under it fails once...
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(held.query_one("SELECT 1", &[]).await.is_err());
    drop(held);

    // ...and requests succeed again within seconds, with no restart.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut failures = 0;
    loop {
        let r = async {
            let c = pool.get().await?;
            c.query_one("SELECT 1", &[]).await
        }
        .await;
        match r {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("pool did not heal: {e}"),
        }
    }
    assert!(failures <= 1, "{failures} failures after the kill");
    for _ in 0..5 {
        let c = pool.get().await.unwrap();
        c.query_one("SELECT 1", &[]).await.unwrap();
    }
    let after = db.backends().await;
    assert!(
        after.iter().all(|p| !before.contains(p)),
        "{before:?} {after:?}"
    );
    pool.ready().await.unwrap();
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_no_span_log_or_metric() {
    const MARK: &str = "Sekr3tMarker";
    let db = Db::new(&[]).await;
    let s = &db.schema;
    db.admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.users (email text CONSTRAINT users_email_key UNIQUE)"
        ))
        .await
        .unwrap();
    let pool = db.pool().await;
    let c = pool.get().await.unwrap();
    let row = c
        .query_one(&format!("SELECT '{MARK}' || 'x', 424242{}", 7), &[])
        .await
        .unwrap();
    assert!(row.get::<_, String>(0).starts_with(MARK));
    let insert = format!("INSERT INTO {s}.users (email) VALUES ('{MARK}@example.com')");
    c.execute(&insert, &[]).await.unwrap();
    // The duplicate's DETAIL carries the value: only SQLSTATE + constraint go out.
    let err = c.execute(&insert, &[]).await.unwrap_err();
    assert_eq!(err.status_code(), Some("23505"));
    assert!(!err.to_string().contains(MARK), "{err}");
    assert!(err.to_string().contains("users_email_key"), "{err}");
    // Error reporters print Debug and walk the source chain.
    assert!(!format!("{err:?}").contains(MARK), "{err:?}");
    let mut chain: Option<&dyn std::error::Error> = std::error::Error::source(&err);
    while let Some(e) = chain {
        assert!(!e.to_string().contains(MARK), "source chain leaks: {e}");
        chain = e.source();
    }
    // The driver's text stays reachable on purpose.
    assert!(err
        .source_error()
        .is_some_and(|d| d.as_db_error().is_some()));
    tracing::warn!("database error: {err}");
    drop(c);
    db.flush().await;

    let failed = db
        .receiver
        .wait_for_span(|s| s.attr_str("db.response.status_code") == Some("23505"))
        .await;
    assert_eq!(failed.name, format!("INSERT {s}.users"));
    assert_eq!(failed.attr_str("error.type"), Some("23505"));
    assert_eq!(
        failed.attr_str("wingspan.db.constraint"),
        Some("users_email_key")
    );
    assert_eq!(failed.status, Status::Error);
    db.receiver.wait_for_log(|l| l.body.contains("23505")).await;
    db.receiver
        .wait_for_metric("db.client.operation.duration", |p| p.len() >= 2, WAIT)
        .await;
    let dump = format!(
        "{}\n{}\n{}",
        support::dump_spans(&db.receiver.spans()),
        support::dump_metrics(&db.receiver.metrics()),
        support::dump_logs(&db.receiver.logs())
    );
    assert!(!dump.contains(MARK), "{dump}");
    assert!(!dump.contains("4242427"), "{dump}");
    assert!(!dump.contains("example.com"), "{dump}");
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_carry_semconv_attributes_and_nest_under_the_current_span() {
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let s = &db.schema;
    db.admin
        .batch_execute(&format!(
            "CREATE TABLE {s}.users (id int PRIMARY KEY, name text);
             CREATE TABLE {s}.profiles (user_id int, bio text);
             INSERT INTO {s}.users VALUES (1, 'ada'), (2, 'bob'), (3, 'cy');"
        ))
        .await
        .unwrap();
    let pool = db.pool().await;
    let tracer = db.telemetry.tracer();
    let parent = tracer.start("handler");
    let cx = Context::current_with_span(parent);
    let parent_id = cx.span().span_context().span_id().to_string();
    {
        let _guard = cx.clone().attach();
        let mut c = pool.get().await.unwrap();
        let rows = c
            .query(
                &format!("SELECT name FROM {s}.users WHERE id IN (1, 2, 3) AND name <> 'zed'"),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        c.query(
            &format!("SELECT u.name FROM {s}.users u JOIN {s}.profiles p ON p.user_id = u.id WHERE u.id = $1"),
            &[&1i32],
        )
        .await
        .unwrap();
        let st = c
            .prepare_cached(&format!("SELECT name FROM {s}.users WHERE id = $1"))
            .await
            .unwrap();
        assert_eq!(st.summary(), format!("SELECT {s}.users"));
        let row = c.query_opt(&st, &[&2i32]).await.unwrap();
        assert!(row.is_some());
        assert!(c
            .query(&format!("SELECT * FROM {s}.missing"), &[])
            .await
            .is_err());
        let tx = c.transaction().await.unwrap();
        tx.execute(
            &format!("UPDATE {s}.users SET name = $1 WHERE id = $2"),
            &[&"al", &1i32],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    cx.span().end();
    db.flush().await;

    let handler = db.receiver.wait_for_span(|sp| sp.name == "handler").await;
    assert_eq!(handler.span_id, parent_id);
    let acquire = db
        .receiver
        .wait_for_span(|sp| sp.name == format!("acquire {}", db.app))
        .await;
    assert!(acquire.is_child_of(&handler));
    assert_eq!(acquire.attr_i64("wingspan.pool.size"), Some(1));

    let select = db
        .receiver
        .wait_for_span(|sp| {
            sp.name == format!("SELECT {s}.users")
                && sp.attr_i64("db.response.returned_rows") == Some(3)
        })
        .await;
    assert_eq!(select.kind, Kind::Client);
    assert!(
        select.is_child_of(&handler),
        "query spans are children of the current span"
    );
    assert_eq!(select.attr_str("db.system.name"), Some("postgresql"));
    let pg = support::database_target();
    assert_eq!(select.attr_str("db.namespace"), Some(pg.namespace.as_str()));
    assert_eq!(select.attr_str("db.operation.name"), Some("SELECT"));
    assert_eq!(
        select.attr_str("db.collection.name"),
        Some(format!("{s}.users").as_str())
    );
    assert_eq!(select.attr_str("server.address"), Some(pg.host.as_str()));
    assert_eq!(select.attr_i64("server.port"), Some(i64::from(pg.port)));
    assert_eq!(
        select.attr_str("db.query.text"),
        Some(format!("SELECT name FROM {s}.users WHERE id IN (?) AND name <> ?").as_str())
    );
    assert_eq!(select.status, Status::Unset);

    let join = db
        .receiver
        .wait_for_span(|sp| sp.name == format!("SELECT {s}.users {s}.profiles"))
        .await;
    assert!(
        !join.has_attr("db.collection.name"),
        "two tables: no collection"
    );
    assert!(join
        .attr_str("db.query.text")
        .unwrap()
        .ends_with("u.id = $1"));

    let missing = db
        .receiver
        .wait_for_span(|sp| sp.attr_str("db.response.status_code") == Some("42P01"))
        .await;
    assert_eq!(missing.status, Status::Error);
    assert_eq!(missing.attr_str("error.type"), Some("42P01"));

    for name in ["BEGIN", "COMMIT"] {
        assert!(
            db.receiver
                .wait_for_span(|sp| sp.name == name)
                .await
                .is_child_of(&handler),
            "{name}"
        );
    }
    let update = db
        .receiver
        .wait_for_span(|sp| sp.name == format!("UPDATE {s}.users"))
        .await;
    assert!(update.is_child_of(&handler));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_metrics_report_counts_limits_and_times() {
    let db = Db::new(&[("DB_POOL_SIZE", "2"), ("DB_MAX_CONNECTIONS", "5")]).await;
    let pool = db.pool().await;
    let held = pool.get().await.unwrap();
    held.query_one("SELECT 1", &[]).await.unwrap();
    db.flush().await;
    let app = db.app.clone();
    let pool_attr = ("db.client.connection.pool.name", app.as_str());
    db.receiver
        .wait_for_point("db.client.connection.count", |p| {
            p.matches(&[pool_attr, ("db.client.connection.state", "used")]) && p.value == 1.0
        })
        .await;
    db.receiver
        .wait_for_point("db.client.operation.duration", |_| true)
        .await;
    // Every pool metric of that export.
    let points = db.receiver.metrics();
    let v = |name: &str, attrs: &[(&str, &str)]| {
        let mut a = vec![pool_attr];
        a.extend_from_slice(attrs);
        find_point(&points, name, &a).value
    };
    assert_eq!(
        v(
            "db.client.connection.count",
            &[("db.client.connection.state", "idle")]
        ),
        1.0
    );
    assert_eq!(v("db.client.connection.max", &[]), 5.0);
    assert_eq!(v("db.client.connection.idle.min", &[]), 2.0);
    assert_eq!(v("db.client.connection.pending_requests", &[]), 0.0);
    let create = find_point(&points, "db.client.connection.create_time", &[pool_attr]);
    assert_eq!(create.count, 2);
    assert_eq!(create.unit, "s");
    assert!(find_point(&points, "db.client.connection.wait_time", &[pool_attr]).count >= 1);
    let op = find_point(
        &points,
        "db.client.operation.duration",
        &[
            ("db.operation.name", "SELECT"),
            ("db.system.name", "postgresql"),
        ],
    );
    assert_eq!(op.count, 1);
    assert_eq!(op.bounds, wingspan::telemetry::buckets::DB_CLIENT_DURATION);
    drop(held);
    db.flush().await;
    db.receiver
        .wait_for_point("db.client.connection.use_time", |p| {
            p.matches(&[pool_attr]) && p.count >= 1
        })
        .await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_mode_opens_a_connection_per_acquire_bounded_by_max() {
    let db = Db::new(&[
        ("DB_POOL_ENABLED", "false"),
        ("DB_MAX_CONNECTIONS", "1"),
        ("DB_CONNECTION_TIMEOUT", "1"),
    ])
    .await;
    let pool = db.pool().await;
    assert_eq!(pool.status().size, 0, "nothing opened ahead");
    let c = pool.get().await.unwrap();
    let first: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        pool.get().await.unwrap_err().is_timeout(),
        "still bounded by max"
    );
    drop(c);
    let c = pool.get().await.unwrap();
    let second: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(first, second);
    c.query_one("SELECT 1", &[]).await.unwrap();
    drop(c);
    assert_eq!(pool.status().size, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !db.backends().await.is_empty() {
        assert!(Instant::now() < deadline, "closed on return");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    db.flush().await;
    db.receiver.wait_for_span(|s| s.name == "SELECT").await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_cache_off_uses_no_named_statements() {
    let db = Db::new(&[
        ("DB_STATEMENT_CACHE", "off"),
        ("DB_POOL_SIZE", "1"),
        ("DB_MAX_CONNECTIONS", "1"),
    ])
    .await;
    let s = &db.schema;
    db.admin
        .batch_execute(&format!("CREATE TABLE {s}.t (id int8, name text, ok bool)"))
        .await
        .unwrap();
    let pool = db.pool().await;
    let c = pool.get().await.unwrap();
    let n = c
        .execute(
            &format!("INSERT INTO {s}.t VALUES ($1, $2, $3)"),
            &[&1i64, &"a", &true],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let st = c
        .prepare_cached(&format!("SELECT name FROM {s}.t WHERE id = $1"))
        .await
        .unwrap();
    assert!(st.raw().is_none());
    let name: String = c.query_one(&st, &[&1i64]).await.unwrap().get(0);
    assert_eq!(name, "a");
    let opt = c
        .query_opt(
            &format!("SELECT name FROM {s}.t WHERE id = $1 AND ok = $2"),
            &[&2i64, &true],
        )
        .await
        .unwrap();
    assert!(opt.is_none());
    let prepared: i64 = c
        .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(prepared, 0, "only unnamed statements");
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaper_closes_idle_connections_down_to_the_minimum() {
    let db = Db::new(&[("DB_POOL_SIZE", "1"), ("DB_MAX_CONNECTIONS", "4")]).await;
    let pool = db
        .builder()
        .idle_timeout(Duration::from_millis(1000))
        .build()
        .await
        .unwrap();
    let held: Vec<_> = futures_join(&pool, 3).await;
    assert_eq!(pool.status().size, 3);
    // Held longer than the idle timeout: idle counts from return, not checkout.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(pool.status().size, 3, "just returned: not idle yet");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pool.status().size > 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pool.status().size, 1, "never below the minimum");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(pool.status().size, 1);
    assert_eq!(db.backends().await.len(), 1);
    db.drop_schema().await;
}

async fn futures_join(pool: &Pool, n: usize) -> Vec<wingspan::db::Client> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let p = pool.clone();
        set.spawn(async move { p.get().await.unwrap() });
    }
    let mut out = Vec::new();
    while let Some(c) = set.join_next().await {
        out.push(c.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_lifetime_replaces_old_connections() {
    let db = Db::new(&[("DB_POOL_SIZE", "2"), ("DB_MAX_CONNECTIONS", "2")]).await;
    let pool = db
        .builder()
        .max_lifetime(Duration::from_millis(500))
        .build()
        .await
        .unwrap();
    let before = db.backends().await;
    assert_eq!(before.len(), 2);
    // Replaced and refilled: poll, since a refill may be in flight at any instant.
    let deadline = Instant::now() + Duration::from_secs(5);
    let after = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = db.backends().await;
        if now.len() == 2 && now.iter().all(|p| !before.contains(p)) {
            break now;
        }
        assert!(Instant::now() < deadline, "{before:?} -> {now:?}");
    };
    assert_eq!(after.len(), 2, "refilled to the minimum");
    drop(pool);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_bounds_each_call_and_ready_reports_an_unreachable_server() {
    let db = Db::new(&[("DB_POOL_SIZE", "0")]).await;
    let pool = db
        .builder()
        .statement_timeout(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    let c = pool.get().await.unwrap();
    let start = Instant::now();
    let err = c.query("SELECT pg_sleep(5)", &[]).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(err.status_code(), Some("57014"), "{err}");
    drop(c);
    pool.ready().await.unwrap();

    let dead = support::DeadPort::new();
    let mut cfg = db.telemetry.config().db.clone();
    cfg.url = wingspan::config::Secret::new(format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        dead.port
    ));
    cfg.min_connections = 0;
    let down = Pool::builder(&db.telemetry)
        .config(cfg)
        .connect_timeout(Duration::from_secs(1))
        .build()
        .await
        .unwrap();
    let start = Instant::now();
    assert!(down.ready_within(Duration::from_secs(2)).await.is_err());
    assert!(start.elapsed() < Duration::from_secs(5));
    let err = down.get().await.unwrap_err();
    assert!(
        !err.is_timeout(),
        "a refused connection is not an exhausted pool: {err}"
    );
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_spans_parent_queries() {
    use tracing::Instrument as _;
    let db = Db::new(&[("DB_POOL_SIZE", "1")]).await;
    let pool = db.pool().await;
    async {
        let c = pool.get().await.unwrap();
        c.query_one("SELECT 1", &[]).await.unwrap();
    }
    .instrument(tracing::info_span!("load_profile"))
    .await;
    db.flush().await;
    let outer = db
        .receiver
        .wait_for_span(|s| s.name == "load_profile")
        .await;
    let select = db.receiver.wait_for_span(|s| s.name == "SELECT").await;
    assert!(
        select.is_child_of(&outer),
        "{}",
        support::dump_spans(&db.receiver.spans())
    );
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_follows_sslmode() {
    let db = Db::new(&[("DB_POOL_SIZE", "0")]).await;
    let ssl_on: String = db.admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    let base = support::database_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    let pool_for = |mode: &str| {
        let mut cfg = db.telemetry.config().db.clone();
        cfg.url = wingspan::config::Secret::new(format!("{base}{sep}sslmode={mode}"));
        cfg.ssl_mode = match mode {
            "disable" => wingspan::config::SslMode::Disable,
            "require" => wingspan::config::SslMode::Require,
            _ => wingspan::config::SslMode::VerifyFull,
        };
        Pool::builder(&db.telemetry)
            .config(cfg)
            .application_name(&db.app)
            .connect_timeout(Duration::from_secs(2))
            .build()
    };
    let encrypted = |pool: Pool| async move {
        let c = pool.get().await.unwrap();
        c.query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get::<_, bool>(0)
    };
    assert!(!encrypted(pool_for("disable").await.unwrap()).await);
    // `sslmode` read from DATABASE_URL alone.
    let cfg = wingspan::Config::builder()
        .var("DATABASE_URL", format!("{base}{sep}sslmode=disable"))
        .build()
        .unwrap();
    assert_eq!(cfg.db.ssl_mode, wingspan::config::SslMode::Disable);
    let plain = Pool::builder(&db.telemetry)
        .config(cfg.db)
        .min_connections(0)
        .application_name(&db.app)
        .build()
        .await
        .unwrap();
    assert!(!encrypted(plain).await);
    if ssl_on == "on" {
        assert!(encrypted(pool_for("require").await.unwrap()).await);
        // The local server's certificate is self-signed: verify-full refuses it
        // (or finds no system roots at all).
        match pool_for("verify-full").await {
            Ok(pool) => assert!(pool.get().await.is_err()),
            Err(e) => assert!(matches!(e, BuildError::NoSystemRoots { .. }), "{e}"),
        }
    }
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dropped_mid_flight_still_ends_its_span_and_records_its_duration() {
    let db = Db::new(&[("DB_POOL_SIZE", "1"), ("DB_MAX_CONNECTIONS", "1")]).await;
    let pool = db.pool().await;
    let c = pool.get().await.unwrap();
    // The caller gives up (a handler timeout, a client disconnect).
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        c.query("SELECT pg_sleep(2)", &[]),
    )
    .await;
    assert!(gave_up.is_err(), "pg_sleep(2) cannot finish in 100 ms");
    // The connection stays usable: tokio-postgres drops the late reply.
    let one: i32 = c.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    drop(c);
    db.flush().await;

    let canceled = db
        .receiver
        .wait_for_span(|s| s.attr_str("error.type") == Some("canceled"))
        .await;
    assert_eq!(canceled.name, "SELECT");
    assert_eq!(canceled.status, Status::Error);
    let point = db
        .receiver
        .wait_for_point("db.client.operation.duration", |p| {
            p.matches(&[("error.type", "canceled")])
        })
        .await;
    assert_eq!(point.count, 1);
    db.drop_schema().await;
}
