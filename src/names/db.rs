//! Database client and connection-pool names (Postgres and Redis share the
//! client ones).

pub use opentelemetry_semantic_conventions::attribute::{
    DB_CLIENT_CONNECTION_POOL_NAME, DB_CLIENT_CONNECTION_STATE, DB_COLLECTION_NAME, DB_NAMESPACE,
    DB_OPERATION_BATCH_SIZE, DB_OPERATION_NAME, DB_QUERY_SUMMARY, DB_QUERY_TEXT,
    DB_RESPONSE_RETURNED_ROWS, DB_RESPONSE_STATUS_CODE, DB_SYSTEM_NAME,
};
pub use opentelemetry_semantic_conventions::metric::{
    DB_CLIENT_CONNECTION_COUNT, DB_CLIENT_CONNECTION_CREATE_TIME, DB_CLIENT_CONNECTION_IDLE_MIN,
    DB_CLIENT_CONNECTION_MAX, DB_CLIENT_CONNECTION_PENDING_REQUESTS, DB_CLIENT_CONNECTION_TIMEOUTS,
    DB_CLIENT_CONNECTION_USE_TIME, DB_CLIENT_CONNECTION_WAIT_TIME, DB_CLIENT_OPERATION_DURATION,
};

/// The constraint a failed statement violated (the server's message and
/// DETAIL, which hold row values, are never recorded). Span only.
pub const WINGSPAN_DB_CONSTRAINT: &str = "wingspan.db.constraint";
/// The caller's name for a group of pool and cache calls
/// (`wingspan::db::operation`), cut to 128 bytes. Span only: never a
/// metric attribute.
pub const WINGSPAN_OPERATION_NAME: &str = "wingspan.operation.name";
/// Open connections at acquire time. Acquire span only.
pub const WINGSPAN_POOL_SIZE: &str = "wingspan.pool.size";
/// Idle connections at acquire time. Acquire span only.
pub const WINGSPAN_POOL_AVAILABLE: &str = "wingspan.pool.available";
/// Callers waiting at acquire time. Acquire span only.
pub const WINGSPAN_POOL_WAITING: &str = "wingspan.pool.waiting";
/// Counter `{connection}`: connections held past `DB_LEAK_THRESHOLD`, with
/// `code.file.path` and `code.line.number` of the `pool.get()` call.
pub const WINGSPAN_DB_CONNECTION_LEAKS: &str = "wingspan.db.connection.leaks";
/// The pool's settings line (one INFO log record per pool built): its
/// `DATABASE_URL` with the password redacted. Log record only.
pub const WINGSPAN_DB_POOL_URL: &str = "wingspan.db.pool.url";
/// The settings line: the profile (`WINGSPAN_ENV`) the unset settings came
/// from. Log record only.
pub const WINGSPAN_DB_POOL_PROFILE: &str = "wingspan.db.pool.profile";
/// The settings line: the connections kept open (`DB_POOL_SIZE`). Log record only.
pub const WINGSPAN_DB_POOL_MIN_CONNECTIONS: &str = "wingspan.db.pool.min_connections";
/// The settings line: the most connections (`DB_MAX_CONNECTIONS`). Log record only.
pub const WINGSPAN_DB_POOL_MAX_CONNECTIONS: &str = "wingspan.db.pool.max_connections";
/// The settings line: the acquire timeout in seconds. Log record only.
pub const WINGSPAN_DB_POOL_ACQUIRE_TIMEOUT: &str = "wingspan.db.pool.acquire_timeout";
/// The settings line: the connect timeout in seconds. Log record only.
pub const WINGSPAN_DB_POOL_CONNECT_TIMEOUT: &str = "wingspan.db.pool.connect_timeout";
/// The settings line: the statement timeout in seconds. Log record only.
pub const WINGSPAN_DB_POOL_STATEMENT_TIMEOUT: &str = "wingspan.db.pool.statement_timeout";
/// The settings line: whether prepared statements are cached (`DB_STATEMENT_CACHE`). Log record only.
pub const WINGSPAN_DB_POOL_STATEMENT_CACHE: &str = "wingspan.db.pool.statement_cache";
/// The settings line: whether connections are pooled (`DB_POOL_ENABLED`). Log record only.
pub const WINGSPAN_DB_POOL_ENABLED: &str = "wingspan.db.pool.enabled";
/// Counter `{occurrence}`, and the server span event of the same name: a
/// request ran one `db.query.summary` more than `DB_N_PLUS_ONE_THRESHOLD`
/// times in a row (an N+1). The counter is by `http.route` and
/// `db.query.summary`; the event carries `db.query.summary`,
/// `wingspan.db.n_plus_one.count` and `db.client.connection.pool.name`.
pub const WINGSPAN_DB_N_PLUS_ONE: &str = "wingspan.db.n_plus_one";
/// The longest run of the statement in the request. Event
/// `wingspan.db.n_plus_one` only.
pub const WINGSPAN_DB_N_PLUS_ONE_COUNT: &str = "wingspan.db.n_plus_one.count";
/// `db.system.name` of PostgreSQL (a value, not a key).
pub const DB_SYSTEM_POSTGRESQL: &str = "postgresql";
