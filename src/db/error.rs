//! [`DbError`]: what the pool and its clients return.

use std::time::Duration;

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
    /// Opening a new connection failed or took longer than `DB_CONNECT_TIMEOUT`.
    #[error("cannot open a database connection: {0}")]
    Connect(String),
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
    /// The pool could not be built.
    #[error("invalid database pool configuration: {0}")]
    Config(String),
}

impl std::fmt::Debug for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PoolTimeout(d) => f.debug_tuple("PoolTimeout").field(d).finish(),
            Self::Connect(m) => f.debug_tuple("Connect").field(m).finish(),
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
            Self::Config(m) => f.debug_tuple("Config").field(m).finish(),
        }
    }
}

impl DbError {
    /// Whether the pool had no connection to give in time; a handler maps it to 503.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::PoolTimeout(_))
    }

    /// The SQLSTATE code of a server error.
    pub fn code(&self) -> Option<&str> {
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

    /// `error.type`: the SQLSTATE for server errors, otherwise a short class.
    pub fn error_type(&self) -> &str {
        match self {
            Self::PoolTimeout(_) | Self::StatementTimeout(_) => "timeout",
            Self::Connect(_) => "connect",
            Self::Closed => "closed",
            Self::Server { code, .. } => code,
            Self::Client { kind, .. } => kind,
            Self::RowCount { .. } => "row_count",
            Self::Claims => "claims",
            Self::Config(_) => "config",
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
}
