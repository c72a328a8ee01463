//! A user session stays inside its transaction, as its role, and reports a
//! transaction Postgres rolled back.

use serde_json::json;
use wingspan::db::{DbError, Pool, Queryable};

use super::{ensure_role, Db};

const ROLE: &str = "wingspan_test_authenticated";

async fn rls_pool(db: &Db) -> Pool {
    ensure_role(&db.admin, ROLE).await;
    db.admin
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA {s} TO {ROLE}; \
             CREATE TABLE {s}.t (x int); GRANT SELECT, INSERT ON {s}.t TO {ROLE}",
            s = db.schema
        ))
        .await
        .unwrap();
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
    let db = Db::new(&[]).await;
    let pool = rls_pool(&db).await;
    let s = pool
        .as_user(&json!({ "sub": "u1", "role": ROLE }))
        .await
        .unwrap();
    assert_eq!(current_user(&s).await, ROLE);
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
    assert_eq!(current_user(&c).await, "postgres");
    drop(c);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allowed_roles_are_taken_from_the_claims() {
    let db = Db::new(&[]).await;
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
    db.admin
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_after_a_failed_statement_is_reported() {
    let db = Db::new(&[]).await;
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
