//! Redis cache names: client-side hit accounting, and the server's `INFO`
//! figures under the OpenTelemetry Collector redis receiver's names.

/// `db.system.name` of every Redis span and measurement.
pub const DB_SYSTEM_NAME_REDIS: &str = "redis";

/// `true`/`false` on read commands. Span only.
pub const WINGSPAN_CACHE_HIT: &str = "wingspan.cache.hit";
/// The key prefix before the first `:` (bounded: past the cap, `other`).
pub const WINGSPAN_CACHE_NAME: &str = "wingspan.cache.name";
/// `hit`, `miss` or `error`.
pub const WINGSPAN_CACHE_RESULT: &str = "wingspan.cache.result";
/// Counter `{request}`: reads by cache name and result.
pub const WINGSPAN_CACHE_REQUESTS: &str = "wingspan.cache.requests";

/// The cache's settings line (one INFO log record per cache built, and the
/// unreachable warning): its `REDIS_URL` with the password redacted. Log
/// record only.
pub const WINGSPAN_CACHE_URL: &str = "wingspan.cache.url";
/// The settings line: `REDIS_POOL_SIZE`. Log record only.
pub const WINGSPAN_CACHE_POOL_SIZE: &str = "wingspan.cache.pool_size";
/// The settings line: the command timeout in seconds. Log record only.
pub const WINGSPAN_CACHE_COMMAND_TIMEOUT: &str = "wingspan.cache.command_timeout";

/// Gauge `By`: `used_memory`.
pub const REDIS_MEMORY_USED: &str = "redis.memory.used";
/// Up-down sum `{client}`: `connected_clients`.
pub const REDIS_CLIENTS_CONNECTED: &str = "redis.clients.connected";
/// Gauge `{key}` per `db.namespace`: keys in the keyspace.
pub const REDIS_DB_KEYS: &str = "redis.db.keys";
/// Gauge `{key}` per `db.namespace`: keys with an expiry.
pub const REDIS_DB_EXPIRES: &str = "redis.db.expires";
/// Gauge `ms` per `db.namespace`: average TTL.
pub const REDIS_DB_AVG_TTL: &str = "redis.db.avg_ttl";
/// Monotonic sum `{hit}`: `keyspace_hits`.
pub const REDIS_KEYSPACE_HITS: &str = "redis.keyspace.hits";
/// Monotonic sum `{miss}`: `keyspace_misses`.
pub const REDIS_KEYSPACE_MISSES: &str = "redis.keyspace.misses";
/// Monotonic sum `{event}`: `expired_keys`.
pub const REDIS_KEYS_EXPIRED: &str = "redis.keys.expired";
/// Monotonic sum `{key}`: `evicted_keys`.
pub const REDIS_KEYS_EVICTED: &str = "redis.keys.evicted";
/// The keyspace's database index on `redis.db.*` (`"0"`, ...): the
/// conventions' `db.namespace` (for Redis, the database index). The redis
/// receiver calls it a bare `db`, which collides with the conventions' `db.*`
/// namespace; the collector configurations (otel-collector/) rename the
/// receiver's to this one.
pub const REDIS_DB: &str = super::db::DB_NAMESPACE;
