//! [`DbError`]: what the pool and its clients return.

use std::time::Duration;

use crate::names;

/// An error of the pool or of one database call.
///
/// `Display` never carries the server's message or DETAIL (they hold row
/// values): only the SQLSTATE and the constraint name. The full
/// `tokio_postgres::Error` stays reachable through [`DbError::source_error`]
/// for the application to inspect deliberately; it is deliberately *not* the
/// `std::error::Error::source`, and `Debug` leaves it out too, because error
/// reporters (anyhow's `{:#}`, tracing-opentelemetry's `error.chain`, a
/// panic's `{:?}`) print the whole chain, and tokio-postgres' `Display`
/// includes `DETAIL: Key (email)=(...)`.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// No connection became available within the acquire timeout
    /// (`DB_CONNECTION_TIMEOUT`). Map it to 503.
    #[error("no database connection available within {0:?}")]
    PoolTimeout(Duration),
    /// Opening a new connection failed.
    #[error("cannot open a database connection: {0}")]
    Connect(String),
    /// Opening a new connection took longer than `DB_CONNECT_TIMEOUT`
    /// ([`is_timeout`](Self::is_timeout) is true). Map it to 503.
    #[error("opening a database connection timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The pool was closed.
    #[error("the database pool is closed")]
    Closed,
    /// A call took longer than the client-side bound (`DB_STATEMENT_TIMEOUT`).
    #[error("database call exceeded {0:?}")]
    StatementTimeout(Duration),
    /// The server answered with an error.
    #[error("database error SQLSTATE {code}{}", constraint.as_deref().map(|c| format!(" (constraint {c})")).unwrap_or_default())]
    Server {
        /// The SQLSTATE code, e.g. `23505`.
        code: String,
        /// The violated constraint, when the server names one.
        constraint: Option<String>,
        /// The driver's error, with the server's message (not the `source`).
        driver: tokio_postgres::Error,
    },
    /// The connection broke, or the driver failed without a server error.
    #[error("database client error: {kind}")]
    Client {
        /// A short, value-free description (`closed`, `io`, `conversion`, …).
        kind: &'static str,
        /// The driver's error (not the `source`).
        driver: tokio_postgres::Error,
    },
    /// `query_one` found no row or several, `query_opt` several.
    #[error("expected {expected} row(s), got {got}")]
    RowCount {
        /// `"exactly one"` or `"at most one"`.
        expected: &'static str,
        /// How many came back.
        got: usize,
    },
    /// The claims given to `Pool::as_user` could not be serialized.
    #[error("claims are not serializable as JSON")]
    Claims,
    /// The claims' role is not one of the pool's RLS roles (`DB_RLS_ROLES`).
    /// The role itself is left out: it comes from the caller's token.
    #[error("the claims' role is not an allowed RLS role (DB_RLS_ROLES)")]
    RoleNotAllowed,
    /// `Pool::as_user` found the pool's login role able to bypass row-level
    /// security (a superuser, `BYPASSRLS`, or a member of the owner of a
    /// table whose RLS is not forced), and `DB_RLS_ALLOW_PRIVILEGED_LOGIN`
    /// is not `true`. Nothing ran as the user.
    #[error(
        "the pool's login role can bypass row-level security (superuser, BYPASSRLS, or owner of \
         a table whose RLS is not forced): as_user needs a login role like Supabase's \
         `authenticator` (NOINHERIT, granted the RLS roles, owning nothing), or \
         DB_RLS_ALLOW_PRIVILEGED_LOGIN=true to accept the risk"
    )]
    PrivilegedLogin,
    /// A `UserSession` refused a statement that would end its transaction or
    /// change the role or session state; nothing was sent.
    #[error("statement refused in a user session: {0}")]
    Refused(&'static str),
    /// `commit()` found the transaction failed earlier (or a call abandoned
    /// mid-flight), so it was rolled back, not committed.
    #[error("the transaction failed and was rolled back, not committed")]
    RolledBack,
    /// The pool could not be built.
    #[error(transparent)]
    Build(BuildError),
}

/// Why [`PoolBuilder::build`](super::PoolBuilder::build) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The minimum exceeds the maximum, or the maximum is zero.
    #[error(
        "DB_POOL_SIZE (min_connections) is {min} and DB_MAX_CONNECTIONS (max_connections) is {max}: \
         expected a maximum of at least 1 and a minimum of at most the maximum"
    )]
    Limits {
        /// The minimum asked for.
        min: usize,
        /// The maximum asked for.
        max: usize,
    },
    /// `DATABASE_URL` is not a URL tokio-postgres accepts (shown with its
    /// password redacted).
    #[error("DATABASE_URL {url} is not a valid PostgreSQL URL: expected postgres://user[:password]@host[:port]/db[?param=value&...]")]
    Url {
        /// The URL, password redacted.
        url: String,
    },
    /// An RLS role name that is not a plain identifier.
    #[error("DB_RLS_ROLES role {role:?} is invalid: expected 1 to 63 characters from a-z, A-Z, 0-9, `_`, `-`, `$`, not starting with a digit or `$`")]
    Role {
        /// The offending name.
        role: String,
    },
    /// An empty RLS role list.
    #[error("DB_RLS_ROLES is empty: expected a comma-separated list of role names")]
    NoRoles,
    /// `sslrootcert` could not be read or holds no certificate.
    #[error("DATABASE_URL sslrootcert={path}: {reason}; expected a readable PEM file of CA certificates, or `system`")]
    RootCert {
        /// The path from the URL.
        path: String,
        /// What went wrong (I/O or parse), without file contents.
        reason: String,
    },
    /// `verify-ca`/`verify-full` without `sslrootcert`, and no system roots.
    #[error("sslmode={mode} but no system root certificate could be loaded: give sslrootcert=<file> in DATABASE_URL")]
    NoSystemRoots {
        /// `verify-ca` or `verify-full`.
        mode: &'static str,
    },
    /// deadpool refused the pool's settings.
    #[error("the connection pool could not be created: {0}")]
    Pool(#[source] deadpool::managed::BuildError),
    /// rustls refused the TLS set-up.
    #[error("TLS set-up failed: {0}")]
    Tls(#[source] rustls::Error),
    /// The minimum number of connections could not be opened.
    #[error("cannot open the pool's minimum of {min} connection(s): {source}")]
    Connect {
        /// `min_connections`.
        min: usize,
        /// The first failure.
        source: Box<DbError>,
    },
}

/// The driver's error as wingspan's, so `?` works on calls made through
/// [`Client::raw`](super::Client::raw) in a function returning `DbError`.
impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::from_pg(e)
    }
}

impl From<BuildError> for DbError {
    fn from(e: BuildError) -> Self {
        Self::Build(e)
    }
}

impl std::fmt::Debug for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PoolTimeout(d) => f.debug_tuple("PoolTimeout").field(d).finish(),
            Self::Connect(m) => f.debug_tuple("Connect").field(m).finish(),
            Self::ConnectTimeout(d) => f.debug_tuple("ConnectTimeout").field(d).finish(),
            Self::Closed => f.write_str("Closed"),
            Self::StatementTimeout(d) => f.debug_tuple("StatementTimeout").field(d).finish(),
            Self::Server {
                code, constraint, ..
            } => f
                .debug_struct("Server")
                .field("code", code)
                .field("constraint", constraint)
                .finish_non_exhaustive(),
            Self::Client { kind, .. } => f
                .debug_struct("Client")
                .field("kind", kind)
                .finish_non_exhaustive(),
            Self::RowCount { expected, got } => f
                .debug_struct("RowCount")
                .field("expected", expected)
                .field("got", got)
                .finish(),
            Self::Claims => f.write_str("Claims"),
            Self::RoleNotAllowed => f.write_str("RoleNotAllowed"),
            Self::PrivilegedLogin => f.write_str("PrivilegedLogin"),
            Self::Refused(why) => f.debug_tuple("Refused").field(why).finish(),
            Self::RolledBack => f.write_str("RolledBack"),
            Self::Build(e) => f.debug_tuple("Build").field(e).finish(),
        }
    }
}

impl DbError {
    /// Whether the pool had no connection to give in time (none free, or
    /// opening one took too long); a handler maps it to 503.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::PoolTimeout(_) | Self::ConnectTimeout(_))
    }

    /// Whether the pool could not hand out a connection at all (none in
    /// time, opening one failed or timed out, the pool closed): what
    /// deadpool reports as a `PoolError`, which a service maps to 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::PoolTimeout(_) | Self::Connect(_) | Self::ConnectTimeout(_) | Self::Closed
        )
    }

    /// The SQLSTATE code of a server error (`db.response.status_code`).
    pub fn status_code(&self) -> Option<&str> {
        match self {
            Self::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The driver's error, if any. Its `Display` includes the server's
    /// message, which may contain row values: do not log it blindly.
    pub fn source_error(&self) -> Option<&tokio_postgres::Error> {
        match self {
            Self::Server { driver, .. } | Self::Client { driver, .. } => Some(driver),
            _ => None,
        }
    }

    /// The SQLSTATE of a server error, typed: compare it with
    /// `tokio_postgres::error::SqlState::UNIQUE_VIOLATION` and the like,
    /// as with the driver's `Error::code`.
    pub fn code(&self) -> Option<&tokio_postgres::error::SqlState> {
        self.source_error().and_then(tokio_postgres::Error::code)
    }

    /// The server's error (message, detail, constraint, …), as the driver's
    /// `Error::as_db_error`. Its message and detail may contain row values.
    pub fn as_db_error(&self) -> Option<&tokio_postgres::error::DbError> {
        self.source_error()
            .and_then(tokio_postgres::Error::as_db_error)
    }

    /// The driver's error, owned, for code that already handles
    /// `tokio_postgres::Error`; `None` for the pool's own errors (timeouts,
    /// row counts, sessions).
    pub fn into_inner(self) -> Option<tokio_postgres::Error> {
        match self {
            Self::Server { driver, .. } | Self::Client { driver, .. } => Some(driver),
            _ => None,
        }
    }

    /// `error.type`: the SQLSTATE for server errors, otherwise a short class.
    pub fn error_type(&self) -> &str {
        match self {
            Self::PoolTimeout(_) | Self::ConnectTimeout(_) | Self::StatementTimeout(_) => {
                names::ERROR_TIMEOUT
            }
            Self::Connect(_) => "connect",
            Self::Closed => "closed",
            Self::Server { code, .. } => code,
            Self::Client { kind, .. } => kind,
            Self::RowCount { .. } => "row_count",
            Self::Claims => "claims",
            Self::RoleNotAllowed => "role_not_allowed",
            Self::PrivilegedLogin => "privileged_login",
            Self::Refused(_) => "refused",
            Self::RolledBack => "rolled_back",
            Self::Build(_) => "config",
        }
    }

    pub(crate) fn from_pg(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            return Self::Server {
                code: db.code().code().to_owned(),
                constraint: db.constraint().map(str::to_owned),
                driver: e,
            };
        }
        let kind = if e.is_closed() {
            "closed"
        } else {
            // The `Debug` of the kind is private; classify by what is public.
            match e.code() {
                Some(_) => "server",
                None if std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) => {
                    "io"
                }
                None => "client",
            }
        };
        Self::Client { kind, driver: e }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_carry_no_driver_text() {
        let e = DbError::RowCount {
            expected: "exactly one",
            got: 2,
        };
        assert_eq!(
            format!("{e:?}"),
            r#"RowCount { expected: "exactly one", got: 2 }"#
        );
        // The server variants are covered against a real server in tests/db.rs
        // (`secrets_…`); here: no error source chain for reporters to walk.
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn unavailable_is_the_pools_own_failure_to_give_a_connection() {
        let d = Duration::from_secs(1);
        for e in [
            DbError::PoolTimeout(d),
            DbError::Connect("refused".into()),
            DbError::ConnectTimeout(d),
            DbError::Closed,
        ] {
            assert!(e.is_unavailable(), "{e:?}");
        }
        assert!(!DbError::StatementTimeout(d).is_unavailable());
        assert!(!DbError::RolledBack.is_unavailable());
        assert!(DbError::ConnectTimeout(d).is_timeout());
        assert!(!DbError::Connect("refused".into()).is_timeout());
    }
}
