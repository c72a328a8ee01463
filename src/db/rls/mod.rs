//! Supabase row-level security: run a transaction as an authenticated user.
//!
//! PostgREST's way: inside a transaction, `set_config(…, true)` sets the JWT
//! claims and the role, so both end with the transaction and the next
//! borrower of the connection sees neither. The role must be one of the
//! pool's RLS roles (`DB_RLS_ROLES`), and the session sends only the
//! statements its guard reads as staying inside the transaction, as that
//! role and with those claims (see `guard`).
//!
//! The guard is one layer; the login role is the other. A session can only
//! ever become its login role (`SET ROLE` to the session user needs no
//! privilege), so `as_user` refuses to run when that role could bypass
//! row-level security, unless `DB_RLS_ALLOW_PRIVILEGED_LOGIN` says so.

mod guard;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use opentelemetry::context::FutureExt as _;
use opentelemetry::Context;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::client::{Client, Queryable};
use super::statement::{AsQuery, Statement};
use super::DbError;
use super::Pool;

/// The role when the claims carry none.
pub const DEFAULT_ROLE: &str = "authenticated";

/// The claims, the role, and the two settings the guard reads SQL by (so
/// they hold whatever the server's or the role's defaults are).
const SET_CLAIMS: &str = "SELECT set_config('standard_conforming_strings', 'on', true), \
     set_config('client_encoding', 'UTF8', true), \
     set_config('request.jwt.claims', $1, true), \
     set_config('request.jwt.claim.sub', $2, true), set_config('role', $3, true)";

/// Whether the login role can bypass row-level security: a superuser, a
/// role with `BYPASSRLS`, or one that is (or can become) the owner of a
/// table whose RLS is enabled but not forced.
const LOGIN_ROLE_BYPASSES_RLS: &str = "SELECT r.rolsuper OR r.rolbypassrls OR EXISTS (\
     SELECT 1 FROM pg_catalog.pg_class c WHERE c.relrowsecurity AND NOT c.relforcerowsecurity \
     AND pg_catalog.pg_has_role(r.oid, c.relowner, 'MEMBER')) \
     FROM pg_catalog.pg_roles r WHERE r.rolname = session_user";

/// A transaction running as one user; every call is instrumented.
/// Dropped without [`commit`](Self::commit), it rolls back.
///
/// It sends only queries and DML (`SELECT`, `VALUES`, `TABLE`, `WITH`,
/// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `CALL`, `EXPLAIN` of these),
/// `SHOW`, savepoints and `ROLLBACK TO`, cursors without `WITH HOLD`,
/// `LOCK`, `NOTIFY`, `SET TRANSACTION`, `SET CONSTRAINTS`, and `SET LOCAL`
/// of settings other than `role`, `session_authorization`, `request.jwt…`,
/// `client_encoding` and `standard_conforming_strings` (names compared as
/// PostgreSQL compares them). Anything else — transaction control, DDL,
/// `DO`, `EXECUTE`, `PREPARE`, `COPY`, `RESET`, session-level `SET`, a
/// `set_config` that is not `set_config('<name>', value, true)` on an
/// unprotected name, functions that run SQL text, session advisory locks,
/// writes to `pg_settings`, `SELECT … INTO`, text it cannot read — is
/// refused with [`DbError::Refused`] and nothing is sent.
#[derive(Debug)]
pub struct UserSession {
    client: Option<Client>,
    /// A call failed on the server (so Postgres aborted the transaction) or
    /// was abandoned mid-flight: `commit` must not report success.
    failed: AtomicBool,
}

/// Marks the session failed unless the call completes without a server-side
/// failure ([`Outcome::done`]); a call dropped mid-flight stays failed.
struct Outcome<'a>(Option<&'a AtomicBool>);

impl Outcome<'_> {
    fn done<T>(mut self, r: Result<T, DbError>) -> Result<T, DbError> {
        let aborts = matches!(
            r,
            Err(DbError::Server { .. } | DbError::Client { .. } | DbError::StatementTimeout(_))
        );
        if !aborts {
            self.0 = None;
        }
        r
    }
}

impl Drop for Outcome<'_> {
    fn drop(&mut self) {
        if let Some(failed) = self.0 {
            failed.store(true, Ordering::Relaxed);
        }
    }
}

impl Pool {
    /// Borrows a connection and opens a transaction as the user of `claims`
    /// (a JWT payload): `request.jwt.claims` holds them as JSON,
    /// `request.jwt.claim.sub` their `sub`, and the role is their `role`
    /// (`authenticated` when absent), all transaction-local. A role outside
    /// the pool's RLS roles (`DB_RLS_ROLES`, [`PoolBuilder::rls_roles`](super::PoolBuilder::rls_roles))
    /// is refused with [`DbError::RoleNotAllowed`] before any connection is borrowed.
    ///
    /// At the first call (not at build, so a pool still builds while the
    /// database is down) it reads the login role from `pg_roles`: when it
    /// can bypass row-level security (a superuser, `BYPASSRLS`, a member of
    /// the owner of a table whose RLS is not forced), every call fails with
    /// [`DbError::PrivilegedLogin`] unless `DB_RLS_ALLOW_PRIVILEGED_LOGIN`
    /// ([`PoolBuilder::rls_allow_privileged_login`](super::PoolBuilder::rls_allow_privileged_login))
    /// is `true`. Log in as a role like Supabase's `authenticator`
    /// (NOINHERIT, granted the RLS roles, owning nothing, no table privileges).
    ///
    /// The claims travel as parameters, so they appear in no span.
    #[track_caller]
    pub fn as_user<C: serde::Serialize + ?Sized>(
        &self,
        claims: &C,
    ) -> impl Future<Output = Result<UserSession, DbError>> + Send + 'static {
        let claims = serde_json::to_value(claims).map_err(|_| DbError::Claims);
        let get = self.get();
        let cx = Context::current();
        let shared = Arc::clone(&self.shared);
        async move {
            let claims = claims?;
            let role = claims
                .get("role")
                .and_then(|r| r.as_str())
                .unwrap_or(DEFAULT_ROLE)
                .to_owned();
            if !shared.cfg.rls_roles.contains(&role) {
                return Err(DbError::RoleNotAllowed);
            }
            let sub = claims
                .get("sub")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_owned();
            let json = claims.to_string();
            let client = get.await?;
            if !shared.cfg.rls_allow_privileged_login
                && !shared.login_role_checked.load(Ordering::Relaxed)
            {
                let row = client.query_one(LOGIN_ROLE_BYPASSES_RLS, &[]).await?;
                // Anything but a clear `false` fails closed.
                if !matches!(row.try_get::<_, bool>(0), Ok(false)) {
                    return Err(DbError::PrivilegedLogin);
                }
                shared.login_role_checked.store(true, Ordering::Relaxed);
            }
            // Straight on the client: the session itself refuses both.
            let session = UserSession {
                client: Some(client),
                failed: AtomicBool::new(false),
            };
            let client = session.exec()?;
            client.batch_execute("BEGIN").await?;
            client.query(SET_CLAIMS, &[&json, &sub, &role]).await?;
            Ok(session)
        }
        .with_context(cx)
    }
}

impl UserSession {
    fn exec(&self) -> Result<&Client, DbError> {
        self.client.as_ref().ok_or(DbError::Closed)
    }

    /// The client for a call of `sql`, unless the session refuses it.
    /// A statement's text must be known to be checked: a driver statement's
    /// is not, so it is refused.
    fn checked_query<Q: AsQuery + ?Sized>(&self, query: &Q) -> Result<&Client, DbError> {
        match query.as_query().0.text() {
            Some(sql) => self.checked(sql),
            None => Err(DbError::Refused(
                "a driver statement (its text is unknown, so it cannot be checked)",
            )),
        }
    }

    fn checked(&self, sql: &str) -> Result<&Client, DbError> {
        guard::check(sql).map_err(DbError::Refused)?;
        self.exec()
    }

    /// Tracks one call from its first poll.
    fn outcome(&self) -> Outcome<'_> {
        Outcome(Some(&self.failed))
    }

    /// Commits (`COMMIT`, its own span). When a call failed on the server
    /// (Postgres then aborted the transaction and would answer `COMMIT` with
    /// a rollback) or was abandoned mid-flight, rolls back instead and
    /// returns [`DbError::RolledBack`].
    pub async fn commit(mut self) -> Result<(), DbError> {
        let client = self.client.take().ok_or(DbError::Closed)?;
        if self.failed.load(Ordering::Relaxed) {
            if client.batch_execute("ROLLBACK").await.is_err() {
                client.discard();
            }
            return Err(DbError::RolledBack);
        }
        client.batch_execute("COMMIT").await
    }

    /// Rolls back (`ROLLBACK`, its own span).
    pub async fn rollback(mut self) -> Result<(), DbError> {
        let client = self.client.take().ok_or(DbError::Closed)?;
        client.batch_execute("ROLLBACK").await
    }
}

impl Drop for UserSession {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        // The connection must not go back mid-transaction with the user's
        // role: roll back first, or close it if that cannot be done.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        client.discard();
                    }
                });
            }
            Err(_) => client.discard(),
        }
    }
}

impl Queryable for UserSession {
    fn query<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send {
        let c = self.checked_query(query);
        async move {
            let c = c?;
            self.outcome().done(c.query(query, params).await)
        }
    }

    fn query_one<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, DbError>> + Send {
        let c = self.checked_query(query);
        async move {
            let c = c?;
            self.outcome().done(c.query_one(query, params).await)
        }
    }

    fn query_opt<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Option<Row>, DbError>> + Send {
        let c = self.checked_query(query);
        async move {
            let c = c?;
            self.outcome().done(c.query_opt(query, params).await)
        }
    }

    fn execute<Q: AsQuery + ?Sized>(
        &self,
        query: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, DbError>> + Send {
        let c = self.checked_query(query);
        async move {
            let c = c?;
            self.outcome().done(c.execute(query, params).await)
        }
    }

    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, DbError>> + Send {
        let c = self.checked(sql);
        async move {
            let c = c?;
            self.outcome().done(c.query_typed(sql, params).await)
        }
    }

    fn batch_execute(&self, sql: &str) -> impl Future<Output = Result<(), DbError>> + Send {
        let c = self.checked(sql);
        async move {
            let c = c?;
            self.outcome().done(c.batch_execute(sql).await)
        }
    }

    fn prepare_cached(&self, sql: &str) -> impl Future<Output = Result<Statement, DbError>> + Send {
        let c = self.checked(sql);
        async move {
            let c = c?;
            self.outcome().done(c.prepare_cached(sql).await)
        }
    }
}
