//! A user session stays inside its transaction, as its role and with its
//! claims, whatever the statement; its login role has nothing to escape to;
//! and a transaction Postgres rolled back is reported.
//!
//! The pools log in as a dedicated authenticator role, as Supabase's
//! `authenticator`: LOGIN, NOINHERIT, not a superuser, no BYPASSRLS, owning
//! nothing, granted the session roles.

mod corpus;

use serde_json::json;
use wingspan::db::{DbError, Pool, Queryable};

use super::Db;
use crate::support;

/// The session role the claims name.
pub(super) const ROLE: &str = "wingspan_test_authenticated";
/// The other session role the authenticator is granted.
const OTHER: &str = "wingspan_test_anon";
/// The login role of the RLS pools.
pub(super) const AUTHENTICATOR: &str = "wingspan_test_authenticator";
/// Only for servers that do not trust local logins (the test server does).
const AUTHENTICATOR_PASSWORD: &str = "wingspan-test-authenticator";

/// Creates the session roles and the authenticator (idempotent; roles are
/// cluster-wide and tests run in parallel, so one creator at a time) and
/// (re)sets the authenticator's attributes.
pub(super) async fn ensure_authenticator(admin: &tokio_postgres::Client) {
    let create = |role: &str, attrs: &str| {
        format!(
            "DO $$ BEGIN CREATE ROLE {role} {attrs}; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"
        )
    };
    let sql = format!(
        "BEGIN; SELECT pg_advisory_xact_lock(hashtext('wingspan_test_roles')); {} {} {} \
         ALTER ROLE {AUTHENTICATOR} LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEROLE \
           NOCREATEDB PASSWORD '{AUTHENTICATOR_PASSWORD}'; \
         GRANT {ROLE}, {OTHER} TO {AUTHENTICATOR}; COMMIT",
        create(ROLE, "NOLOGIN"),
        create(OTHER, "NOLOGIN"),
        create(AUTHENTICATOR, "LOGIN NOINHERIT"),
    );
    admin.batch_execute(&sql).await.unwrap();
}

/// `DATABASE_URL` logging in as the authenticator, or
/// `WINGSPAN_TEST_AUTHENTICATOR_URL` (for a pooler that fixes the login:
/// `make test-pgbouncer` gives it a database alias logging in as the
/// authenticator).
pub(super) fn authenticator_url() -> String {
    std::env::var("WINGSPAN_TEST_AUTHENTICATOR_URL").unwrap_or_else(|_| url_as(AUTHENTICATOR))
}

/// `DATABASE_URL` logging in as `user` (with the test roles' password).
fn url_as(user: &str) -> String {
    let url = support::database_url();
    let (scheme, rest) = url.split_once("://").expect("DATABASE_URL has a scheme");
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(host_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{user}:{AUTHENTICATOR_PASSWORD}@{host}{tail}")
}

/// A test world whose pools log in as the authenticator (the admin
/// connection stays the superuser of `DATABASE_URL`).
pub(super) async fn authenticator_db(extra: &[(&str, &str)]) -> Db {
    let url = authenticator_url();
    let mut vars = vec![("DATABASE_URL", url.as_str())];
    vars.extend_from_slice(extra);
    let db = Db::new(&vars).await;
    ensure_authenticator(&db.admin).await;
    db
}

/// The schema's table `t` and procedure `noop(text)`, usable by [`ROLE`].
async fn schema_objects(db: &Db) {
    db.admin
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA {s} TO {ROLE}; \
             CREATE TABLE {s}.t (x int); GRANT SELECT, INSERT, UPDATE, DELETE ON {s}.t TO {ROLE}; \
             CREATE PROCEDURE {s}.noop(text) LANGUAGE sql AS $$ SELECT 1 $$; \
             GRANT EXECUTE ON PROCEDURE {s}.noop(text) TO {ROLE}",
            s = db.schema
        ))
        .await
        .unwrap();
}

async fn rls_pool(db: &Db) -> Pool {
    schema_objects(db).await;
    db.builder()
        .min_connections(1)
        .max_connections(1)
        .rls_roles([ROLE])
        .build()
        .await
        .unwrap()
}

async fn current_user(s: &impl Queryable) -> String {
    s.query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_session_refuses_to_leave_its_transaction_or_role() {
    let db = authenticator_db(&[]).await;
    let pool = rls_pool(&db).await;
    let s = pool
        .as_user(&json!({ "sub": "u1", "role": ROLE }))
        .await
        .unwrap();
    assert_eq!(current_user(&s).await, ROLE);
    let as_login = format!("SET LOCAL \"ROLE\" TO {AUTHENTICATOR}");
    let spaced = format!("SeT/**/LoCaL/**/\"rOlE\"/**/=/**/{AUTHENTICATOR}");
    for sql in [
        "COMMIT",
        "SELECT 1; COMMIT",
        "ROLLBACK",
        "END",
        "ABORT",
        "BEGIN",
        "START TRANSACTION",
        "SET ROLE NONE",
        "SET LOCAL ROLE postgres",
        "RESET ROLE",
        "SET SESSION AUTHORIZATION DEFAULT",
        "SELECT set_config('role', 'none', true)",
        "SET search_path = public",
        "DO $$ BEGIN PERFORM set_config('role', 'none', true); END $$",
        // Found accepted before the guard read names as Postgres does.
        "SET LOCAL \"ROLE\" TO postgres",
        "SET LOCAL \"Role\" = postgres",
        "SET LOCAL SESSION AUTHORIZATION postgres",
        "SET LOCAL SESSION AUTHORIZATION DEFAULT",
        "SET LOCAL \"SESSION_AUTHORIZATION\" = postgres",
        "SET LOCAL \"REQUEST\".\"JWT.CLAIMS\" = '{\"sub\":\"evil\"}'",
        &as_login,
        &spaced,
    ] {
        let err = s.batch_execute(sql).await.unwrap_err();
        assert!(matches!(err, DbError::Refused(_)), "{sql}: {err:?}");
        assert_eq!(err.error_type(), "refused");
        assert_eq!(current_user(&s).await, ROLE, "after {sql}");
    }
    // Through the other entry points as well.
    assert!(matches!(
        s.execute("COMMIT", &[]).await.unwrap_err(),
        DbError::Refused(_)
    ));
    assert!(matches!(
        s.prepare_cached("RESET ROLE").await.unwrap_err(),
        DbError::Refused(_)
    ));
    // What stays inside the transaction runs.
    s.batch_execute("SAVEPOINT a; SET LOCAL statement_timeout = 5000; ROLLBACK TO SAVEPOINT a")
        .await
        .unwrap();
    assert_eq!(current_user(&s).await, ROLE);
    s.commit().await.unwrap();

    // The next borrower of the one connection starts as the login role.
    let c = pool.get().await.unwrap();
    assert_eq!(current_user(&c).await, AUTHENTICATOR);
    drop(c);
    db.drop_schema().await;
}

/// current_user, session_user, the claims, and the settings the guard
/// reads SQL by.
const IDENTITY: &str = "SELECT current_user::text, session_user::text, \
     coalesce(current_setting('request.jwt.claims', true), ''), \
     coalesce(current_setting('request.jwt.claim.sub', true), ''), \
     current_setting('standard_conforming_strings'), current_setting('client_encoding')";

type Identity = [String; 6];

async fn identity(s: &impl Queryable) -> Result<Identity, DbError> {
    let row = s.query_one(IDENTITY, &[]).await?;
    Ok(std::array::from_fn(|i| row.get(i)))
}

/// The same text, run on a plain connection as the login role in a
/// transaction set up as `as_user` sets its own (and with the statements
/// for `EXECUTE` prepared, in the same transaction so a transaction pooler
/// keeps them on its server connection): the identity afterwards when it
/// ran, `None` when it failed (its transaction is then aborted and nothing
/// it did remains). Leaves the connection as it found it.
async fn unguarded(raw: &tokio_postgres::Client, set_up: &str, sql: &str) -> Option<Identity> {
    raw.batch_execute(set_up).await.unwrap();
    let after = match raw.batch_execute(sql).await {
        Ok(()) => {
            let rows = raw.simple_query(IDENTITY).await.unwrap();
            let row = rows
                .iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
                    _ => None,
                })
                .unwrap();
            Some(std::array::from_fn(|i| {
                row.get(i).unwrap_or_default().to_owned()
            }))
        }
        Err(_) => None,
    };
    raw.batch_execute("ROLLBACK").await.unwrap();
    raw.batch_execute("DISCARD ALL").await.unwrap();
    after
}

/// Statements prepared on both connections, for `EXECUTE`.
const PREPARED: &str = "DEALLOCATE ALL; \
     PREPARE wsx_role(text) AS SELECT set_config('role', $1, true); \
     PREPARE wsx_claims(text) AS SELECT set_config('request.jwt.claims', $1, true)";

/// The differential test: each statement of the corpus runs unguarded (to
/// learn what it does) and through `as_user` (each in a session of its own
/// on the pool's one connection). A statement that the guard lets through
/// must leave the role, the session user, the claims and the reading
/// settings as they were, as Postgres reports them right after it ran in
/// the same transaction; a statement that changes any of them unguarded
/// must be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_lets_through_no_statement_of_the_corpus_that_changes_the_identity() {
    let db = authenticator_db(&[]).await;
    let pool = rls_pool(&db).await;
    let corpus = corpus::statements(&corpus::Names {
        login: AUTHENTICATOR,
        other: OTHER,
        schema: &db.schema,
    });
    println!("RLS guard corpus: {} statements", corpus.len());
    assert!(corpus.len() >= 600, "corpus of {}", corpus.len());

    let claims = json!({ "sub": "user-a", "role": ROLE });
    let json = claims.to_string();
    let expected: Identity = [
        ROLE.into(),
        AUTHENTICATOR.into(),
        json.clone(),
        "user-a".into(),
        "on".into(),
        "UTF8".into(),
    ];
    let set_up = format!(
        "BEGIN; {PREPARED}; SELECT set_config('request.jwt.claims', '{json}', true), \
         set_config('request.jwt.claim.sub', 'user-a', true), set_config('role', '{ROLE}', true)"
    );
    let (raw, conn) = tokio_postgres::connect(&authenticator_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    {
        // On the pool's connection too, for the sessions' `EXECUTE` to find
        // (not `DEALLOCATE ALL`: wingspan's statement cache lives there).
        // Best effort: through a transaction pooler a server connection may
        // hold them from an earlier run, and the guard refuses `EXECUTE`
        // whatever it would run.
        let c = pool.get().await.unwrap();
        let raw = c.raw().unwrap();
        let _ = raw
            .batch_execute(&PREPARED.replace("DEALLOCATE ALL;", ""))
            .await;
    }

    let (mut changing, mut refused, mut ran, mut failed) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for sql in &corpus {
        let unguarded = unguarded(&raw, &set_up, sql).await;
        let changes = unguarded.as_ref().is_some_and(|after| *after != expected);
        changing += usize::from(changes);

        let s = pool.as_user(&claims).await.unwrap();
        match identity(&s).await {
            Ok(before) if before == expected => {}
            other => wrong.push(format!("{sql:?}: the session started as {other:?}")),
        }
        match s.batch_execute(sql).await {
            Err(DbError::Refused(_)) => refused += 1,
            Ok(()) => {
                ran += 1;
                match identity(&s).await {
                    Ok(after) if after == expected => {}
                    after => wrong.push(format!("{sql:?} was let through and left {after:?}")),
                }
                if changes {
                    wrong.push(format!(
                        "{sql:?} was let through; unguarded it left {unguarded:?}"
                    ));
                }
            }
            Err(e) => {
                failed += 1;
                if changes {
                    wrong.push(format!(
                        "{sql:?} was let through (failed with {e:?}); unguarded it left {unguarded:?}"
                    ));
                }
            }
        }
        let _ = s.rollback().await;
    }
    println!(
        "RLS guard corpus: {} statements; {changing} change the identity when run unguarded; \
         the guard refused {refused} and let {} through ({ran} ran, {failed} failed on the server)",
        corpus.len(),
        ran + failed
    );
    assert!(
        wrong.is_empty(),
        "{} of {} statements:\n{}",
        wrong.len(),
        corpus.len(),
        wrong.join("\n")
    );
    // The corpus bites: most of it escapes without the guard, and what a
    // user session runs gets through.
    assert!(
        changing >= 400,
        "only {changing} statements change anything"
    );
    assert!(ran >= 30, "only {ran} statements ran");

    // The one connection comes back as the login role, with no claims.
    let c = pool.get().await.unwrap();
    let row = c
        .query_one(
            "SELECT current_user::text, coalesce(current_setting('request.jwt.claims', true), '')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), AUTHENTICATOR);
    assert_eq!(row.get::<_, String>(1), "");
    drop(c);
    db.drop_schema().await;
}

/// The first column of the first row, with the simple protocol (no named
/// statement to collide with another client's behind a transaction pooler).
async fn value(raw: &tokio_postgres::Client, sql: &str) -> Result<String, tokio_postgres::Error> {
    let rows = raw.simple_query(sql).await?;
    Ok(rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .unwrap_or_default())
}

/// What a statement that got past the guard could reach: the login role
/// (any session may `SET ROLE` to its session user) and the roles it is
/// granted. With an authenticator set up as Supabase's, that is nothing
/// the session roles cannot already do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_role_has_nothing_to_escape_to() {
    let db = authenticator_db(&[]).await;
    schema_objects(&db).await;
    let t = format!("{}.t", db.schema);
    db.admin
        .batch_execute(&format!("INSERT INTO {t} VALUES (1)"))
        .await
        .unwrap();
    let attributes = format!(
        "SELECT count(*) FROM pg_roles WHERE rolname = '{AUTHENTICATOR}' \
         AND NOT rolsuper AND NOT rolbypassrls AND NOT rolinherit AND rolcanlogin"
    );
    assert_eq!(count(&db, &attributes).await, 1);

    let (raw, conn) = tokio_postgres::connect(&authenticator_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let select = format!("SELECT count(*) FROM {t}");
    // As the session role it reads the table…
    raw.batch_execute(&format!("BEGIN; SET LOCAL ROLE {ROLE}"))
        .await
        .unwrap();
    assert_eq!(value(&raw, &select).await.unwrap(), "1");
    // …but each way back to the login role, as a statement that slipped
    // past the guard would take it, reaches a role that reads nothing.
    for escape in [
        "SET LOCAL SESSION AUTHORIZATION DEFAULT".to_owned(),
        format!("SET LOCAL \"ROLE\" TO {AUTHENTICATOR}"),
        format!("SeT/**/LoCaL/**/\"rOlE\"/**/=/**/{AUTHENTICATOR}"),
        "RESET ROLE".to_owned(),
    ] {
        raw.batch_execute(&format!("SAVEPOINT e; {escape}"))
            .await
            .unwrap();
        let who = value(&raw, "SELECT current_user").await.unwrap();
        assert_eq!(who, AUTHENTICATOR, "{escape}");
        let err = value(&raw, &select).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{escape}: {err}"
        );
        raw.batch_execute("ROLLBACK TO SAVEPOINT e").await.unwrap();
    }
    // And it cannot become anyone it was not granted.
    for escape in [
        "SET LOCAL ROLE postgres",
        "SET LOCAL SESSION AUTHORIZATION postgres",
    ] {
        raw.batch_execute(&format!("SAVEPOINT e; {escape}"))
            .await
            .map(|_| ())
            .expect_err(escape);
        raw.batch_execute("ROLLBACK TO SAVEPOINT e").await.unwrap();
    }
    raw.batch_execute("ROLLBACK").await.unwrap();
    db.drop_schema().await;
}

/// The `DB_*` settings of `extra` over the test's (one telemetry per test
/// process, so other settings come this way).
fn db_config(db: &Db, extra: &[(&str, &str)]) -> wingspan::config::DbConfig {
    support::config(&db.receiver, support::Protocol::Grpc, extra).db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_role_that_can_bypass_rls_is_refused_unless_allowed() {
    // A superuser login (DATABASE_URL's postgres).
    let db = Db::new(&[]).await;
    ensure_authenticator(&db.admin).await;
    let claims = json!({ "sub": "u1", "role": ROLE });
    let pool = db
        .builder()
        .min_connections(0)
        .rls_roles([ROLE])
        .build()
        .await
        .unwrap();
    let err = pool.as_user(&claims).await.unwrap_err();
    assert!(matches!(err, DbError::PrivilegedLogin), "{err:?}");
    assert_eq!(err.error_type(), "privileged_login");
    assert!(
        err.to_string()
            .contains("DB_RLS_ALLOW_PRIVILEGED_LOGIN=true"),
        "{err}"
    );

    // Opting out, by the builder or by DB_RLS_ALLOW_PRIVILEGED_LOGIN.
    let allowed = db
        .builder()
        .min_connections(0)
        .rls_roles([ROLE])
        .rls_allow_privileged_login(true)
        .build()
        .await
        .unwrap();
    let s = allowed.as_user(&claims).await.unwrap();
    assert_eq!(current_user(&s).await, ROLE);
    s.rollback().await.unwrap();
    let by_env = db_config(&db, &[("DB_RLS_ALLOW_PRIVILEGED_LOGIN", "true")]);
    let pool = db
        .builder()
        .config(by_env)
        .min_connections(0)
        .rls_roles([ROLE])
        .build()
        .await
        .unwrap();
    assert!(pool.config().rls_allow_privileged_login);
    let s = pool.as_user(&claims).await.unwrap();
    assert_eq!(current_user(&s).await, ROLE);
    s.rollback().await.unwrap();
    db.drop_schema().await;
}

/// A login role that owns a table whose RLS is enabled but not forced
/// bypasses its policies: refused too, until the RLS is forced (a
/// privileged answer is not remembered). It logs in as a role of its own,
/// so not through a pooler that fixes the login (`make test-pgbouncer`
/// leaves it out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_role_owning_a_table_whose_rls_is_not_forced_is_refused() {
    let db = Db::new(&[]).await;
    ensure_authenticator(&db.admin).await;
    let claims = json!({ "sub": "u1", "role": ROLE });
    let owner = support::unique("wingspan_test_owner_login");
    db.admin
        .batch_execute(&format!(
            "CREATE ROLE {owner} LOGIN NOINHERIT PASSWORD '{AUTHENTICATOR_PASSWORD}'; \
             GRANT {ROLE} TO {owner}; GRANT USAGE, CREATE ON SCHEMA {s} TO {owner}; \
             CREATE TABLE {s}.owned (x int); ALTER TABLE {s}.owned OWNER TO {owner}; \
             ALTER TABLE {s}.owned ENABLE ROW LEVEL SECURITY",
            s = db.schema
        ))
        .await
        .unwrap();
    let url = url_as(&owner);
    let pool = db
        .builder()
        .config(db_config(&db, &[("DATABASE_URL", &url)]))
        .min_connections(0)
        .rls_roles([ROLE])
        .build()
        .await
        .unwrap();
    let err = pool.as_user(&claims).await.unwrap_err();
    assert!(matches!(err, DbError::PrivilegedLogin), "{err:?}");
    db.admin
        .batch_execute(&format!(
            "ALTER TABLE {}.owned FORCE ROW LEVEL SECURITY",
            db.schema
        ))
        .await
        .unwrap();
    let s = pool.as_user(&claims).await.unwrap();
    assert_eq!(current_user(&s).await, ROLE);
    s.rollback().await.unwrap();
    pool.close();
    drop(pool);
    let cleanup = format!(
        "DROP SCHEMA IF EXISTS {s} CASCADE; DROP OWNED BY {owner}; DROP ROLE {owner}",
        s = db.schema
    );
    db.admin.batch_execute(&cleanup).await.unwrap();
}

/// The login role is read at the first session, not at build: a pool
/// still builds while the database is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_builds_while_the_database_is_down_and_checks_its_login_at_the_first_session() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://{AUTHENTICATOR}@127.0.0.1:{port}/postgres");
    let receiver = support::Receiver::start().await;
    let telemetry = support::telemetry(
        &receiver,
        support::Protocol::Grpc,
        &[("DATABASE_URL", &url)],
    )
    .await;
    let pool = Pool::builder(&telemetry)
        .min_connections(0)
        .connect_timeout(std::time::Duration::from_secs(1))
        .rls_roles([ROLE])
        .build()
        .await
        .unwrap();
    let err = pool
        .as_user(&json!({ "sub": "u1", "role": ROLE }))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::Connect(_) | DbError::ConnectTimeout(_)),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_roles_are_taken_from_the_claims() {
    let db = authenticator_db(&[]).await;
    let pool = rls_pool(&db).await;
    for role in ["postgres", "pg_read_all_data", "anon"] {
        let err = pool
            .as_user(&json!({ "sub": "u1", "role": role }))
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::RoleNotAllowed), "{role}: {err:?}");
        assert!(!err.to_string().contains(role), "{err}");
    }
    // The default list is `authenticated, anon`.
    let default = db.builder().min_connections(0).build().await.unwrap();
    let err = default
        .as_user(&json!({ "sub": "u1", "role": ROLE }))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::RoleNotAllowed), "{err:?}");
    assert_eq!(default.config().rls_roles, ["authenticated", "anon"]);
    db.drop_schema().await;
}

async fn rows(db: &Db, table: &str) -> i64 {
    count(db, &format!("SELECT count(*) FROM {table}")).await
}

/// A count read by the admin connection, with the simple protocol (through
/// a transaction pooler, the admin's named statements would collide).
pub(super) async fn count(db: &Db, sql: &str) -> i64 {
    db.admin
        .simple_query(sql)
        .await
        .unwrap()
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0)?.parse().ok(),
            _ => None,
        })
        .expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_after_a_failed_statement_is_reported() {
    let db = authenticator_db(&[]).await;
    let pool = rls_pool(&db).await;
    let t = format!("{}.t", db.schema);
    let s = pool
        .as_user(&json!({ "sub": "u1", "role": ROLE }))
        .await
        .unwrap();
    s.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
        .await
        .unwrap();
    let err = s.query_one("SELECT 1 / 0", &[]).await.unwrap_err();
    assert_eq!(err.status_code(), Some("22012"));
    // Postgres has aborted the transaction: COMMIT would roll it back.
    let err = s.commit().await.unwrap_err();
    assert!(matches!(err, DbError::RolledBack), "{err:?}");
    assert_eq!(rows(&db, &t).await, 0);
    // A session whose statements all succeeded commits.
    let s = pool
        .as_user(&json!({ "sub": "u1", "role": ROLE }))
        .await
        .unwrap();
    s.execute(&format!("INSERT INTO {t} VALUES (2)"), &[])
        .await
        .unwrap();
    s.commit().await.unwrap();
    assert_eq!(rows(&db, &t).await, 1);
    db.drop_schema().await;
}
