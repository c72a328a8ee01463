//! [`Pool`] and its builder: deadpool-postgres with wingspan's acquire span,
//! pool metrics, minimum size, reaper and leak sweeper.

use std::borrow::Cow;
use std::future::Future;
use std::panic::Location;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool::managed::{PoolError, TimeoutType, Timeouts};
use deadpool::Runtime;
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::trace::SdkTracer;

use super::client::Client;
use super::leak::{self, Registry};
use super::manager::{new_manager, DeadPool, PgManager};
use super::metrics::{self, PoolMetrics, PoolState, POOL_NAME};
use super::query::Meta;
use super::sanitize::Cache;
use super::{tls, DbError};
use crate::config::DbConfig;
use crate::telemetry::Telemetry;

/// How many distinct statement texts a pool keeps sanitized. Defaults to 1024.
pub const DEFAULT_STATEMENT_CACHE: usize = 1024;

/// The instrumented PostgreSQL pool. Cheap to clone; clones share the pool.
///
/// ```no_run
/// # async fn run(telemetry: wingspan::Telemetry) -> Result<(), wingspan::db::DbError> {
/// use wingspan::db::{Pool, Queryable};
/// let pool = Pool::builder(&telemetry, telemetry.config().db.clone()).build().await?;
/// let client = pool.get().await?;
/// let row = client.query_one("SELECT $1::int4 + 1", &[&41i32]).await?;
/// assert_eq!(row.get::<_, i32>(0), 42);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Pool {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.shared.name)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

/// What the pool holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open (idle + used).
    pub size: usize,
    /// Idle connections.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
    /// `DB_MAX_CONNECTIONS`.
    pub max: usize,
}

pub(crate) struct Shared {
    pub(crate) pool: DeadPool,
    pub(crate) name: String,
    pub(crate) cfg: DbConfig,
    pub(crate) tracer: SdkTracer,
    pub(crate) metrics: PoolMetrics,
    pub(crate) statements: Cache<Meta>,
    /// `db.system.name`, `db.namespace`, `server.address`, `server.port`.
    pub(crate) base_attrs: Vec<KeyValue>,
    pub(crate) leaks: Registry,
    pub(crate) leak_detection: bool,
    /// The client-side bound on each call.
    pub(crate) call_bound: Option<Duration>,
    acquire_name: Cow<'static, str>,
    acquire_attrs: [KeyValue; 2],
}

impl PoolState for Shared {
    fn counts(&self) -> (i64, i64, i64) {
        let s = self.pool.status();
        let idle = s.available as i64;
        (idle, s.size as i64 - idle, s.waiting as i64)
    }
}

impl Pool {
    /// A builder from the `DB_*` settings (usually `telemetry.config().db`).
    pub fn builder(telemetry: &Telemetry, config: DbConfig) -> PoolBuilder {
        PoolBuilder {
            telemetry: telemetry.clone(),
            config,
            name: None,
            application_name: None,
            statement_cache_capacity: DEFAULT_STATEMENT_CACHE,
        }
    }

    /// Borrows a connection, waiting at most `DB_CONNECTION_TIMEOUT`.
    ///
    /// A plain `fn` so `#[track_caller]` records the caller's location for
    /// leak reports; the acquire span's parent is the context current here.
    /// Fails with [`DbError::PoolTimeout`] when none is free in time.
    #[track_caller]
    pub fn get(&self) -> impl Future<Output = Result<Client, DbError>> + Send + 'static {
        let location = Location::caller();
        let shared = Arc::clone(&self.shared);
        let cx = Context::current();
        async move { Shared::acquire(shared, location, cx).await }
    }

    /// The pool's name (`db.client.connection.pool.name`).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The settings the pool runs with.
    pub fn config(&self) -> &DbConfig {
        &self.shared.cfg
    }

    /// What the pool holds right now.
    pub fn status(&self) -> PoolStatus {
        let s = self.shared.pool.status();
        PoolStatus {
            size: s.size,
            idle: s.available,
            waiting: s.waiting,
            max: s.max_size,
        }
    }

    /// Readiness: a connection answers `SELECT 1` within `DB_CONNECT_TIMEOUT`.
    /// Makes no span, so health probes do not flood traces.
    pub async fn ready(&self) -> Result<(), DbError> {
        self.ready_within(self.shared.cfg.connect_timeout).await
    }

    /// Readiness within `timeout`.
    pub async fn ready_within(&self, timeout: Duration) -> Result<(), DbError> {
        let check = async {
            let obj = self
                .shared
                .pool
                .get()
                .await
                .map_err(|e| self.shared.map_pool_error(e))?;
            let r = obj.client.simple_query("SELECT 1").await;
            if !self.shared.cfg.pool_enabled {
                drop(deadpool::managed::Object::take(obj));
            }
            r.map(|_| ()).map_err(DbError::from_pg)
        };
        tokio::time::timeout(timeout, check)
            .await
            .unwrap_or(Err(DbError::PoolTimeout(timeout)))
    }

    /// Closes the pool: waiting and future `get()`s fail with
    /// [`DbError::Closed`]; borrowed connections close when returned.
    pub fn close(&self) {
        self.shared.pool.close();
    }
}

impl Shared {
    async fn acquire(
        shared: Arc<Self>,
        location: &'static Location<'static>,
        cx: Context,
    ) -> Result<Client, DbError> {
        let s = shared.pool.status();
        let mut attrs = Vec::with_capacity(6);
        attrs.extend_from_slice(&shared.acquire_attrs);
        attrs.push(KeyValue::new("wingspan.pool.size", s.size as i64));
        attrs.push(KeyValue::new("wingspan.pool.available", s.available as i64));
        attrs.push(KeyValue::new("wingspan.pool.waiting", s.waiting as i64));
        let mut span = shared.tracer.build_with_context(
            shared
                .tracer
                .span_builder(shared.acquire_name.clone())
                .with_kind(SpanKind::Internal)
                .with_attributes(attrs),
            &cx,
        );
        let start = Instant::now();
        let got = shared.pool.get().await;
        shared
            .metrics
            .wait_time
            .record(start.elapsed().as_secs_f64());
        match got {
            Ok(obj) => {
                span.end();
                Ok(Client::new(obj, shared, location))
            }
            Err(e) => {
                let err = shared.map_pool_error(e);
                if err.is_timeout() {
                    shared.metrics.timeouts.add(1);
                }
                span.set_attribute(KeyValue::new("error.type", err.error_type().to_owned()));
                span.set_status(Status::error(err.error_type().to_owned()));
                span.end();
                Err(err)
            }
        }
    }

    fn map_pool_error(&self, e: PoolError<tokio_postgres::Error>) -> DbError {
        match e {
            PoolError::Timeout(TimeoutType::Wait) => DbError::PoolTimeout(self.cfg.acquire_timeout),
            PoolError::Timeout(TimeoutType::Create) => {
                DbError::Connect(format!("timed out after {:?}", self.cfg.connect_timeout))
            }
            PoolError::Timeout(TimeoutType::Recycle) => {
                DbError::Connect("recycling a connection timed out".into())
            }
            PoolError::Backend(e) => match DbError::from_pg(e) {
                e @ DbError::Server { .. } => e,
                DbError::Client { kind, .. } => DbError::Connect(kind.to_owned()),
                other => other,
            },
            PoolError::Closed => DbError::Closed,
            PoolError::NoRuntimeSpecified => DbError::Config("no runtime".into()),
            PoolError::PostCreateHook(_) => DbError::Connect("post-create hook".into()),
        }
    }

    /// Opens connections until the pool holds `min`, by borrowing the
    /// missing ones at once (deadpool has no minimum size of its own).
    ///
    /// At start-up (`wait`) each borrow may wait the acquire timeout. The
    /// reaper's refill must never queue behind the application's requests
    /// in deadpool's FIFO, nor take connections they are about to get back:
    /// it borrows only the deficit, and only while a slot is free right now.
    pub(crate) async fn fill(&self, min: usize, wait: bool) -> Result<(), DbError> {
        let deficit = min.saturating_sub(self.pool.status().size);
        if deficit == 0 {
            return Ok(());
        }
        let timeouts = Timeouts {
            wait: Some(if wait {
                self.cfg.acquire_timeout
            } else {
                Duration::ZERO
            }),
            create: Some(self.cfg.connect_timeout),
            recycle: Some(self.cfg.connect_timeout),
        };
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..deficit {
            let pool = self.pool.clone();
            let bound = self.cfg.connect_timeout + self.cfg.acquire_timeout;
            set.spawn(
                async move { tokio::time::timeout(bound, pool.timeout_get(&timeouts)).await },
            );
        }
        let mut held = Vec::with_capacity(deficit);
        let mut first_err = None;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(Ok(obj))) => held.push(obj),
                Ok(Ok(Err(e))) => {
                    first_err.get_or_insert(self.map_pool_error(e));
                }
                Ok(Err(_)) => {
                    first_err.get_or_insert(DbError::PoolTimeout(self.cfg.acquire_timeout));
                }
                Err(_) => {}
            }
        }
        drop(held);
        match first_err {
            Some(e) if self.pool.status().size < min => Err(e),
            _ => Ok(()),
        }
    }

    /// Closes connections idle past `DB_IDLE_TIMEOUT` (from their return)
    /// while above the minimum, and any past `DB_MAX_LIFETIME`; then refills.
    async fn reap(&self) {
        let min = self.cfg.min_connections;
        let idle_timeout = non_zero(self.cfg.idle_timeout);
        let max_lifetime = non_zero(self.cfg.max_lifetime);
        let size = self.pool.status().size;
        let mut removable = size.saturating_sub(min);
        self.pool.retain(|conn, _| {
            if max_lifetime.is_some_and(|m| conn.created.elapsed() >= m) {
                return false;
            }
            if removable > 0 && idle_timeout.is_some_and(|t| conn.returned.elapsed() >= t) {
                removable -= 1;
                return false;
            }
            true
        });
        if !self.pool.is_closed() {
            let _ = self.fill(min, false).await;
        }
    }
}

fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// Builds a [`Pool`]; every setting defaults to the `DB_*` value it was given.
#[must_use]
pub struct PoolBuilder {
    telemetry: Telemetry,
    config: DbConfig,
    name: Option<String>,
    application_name: Option<String>,
    statement_cache_capacity: usize,
}

impl PoolBuilder {
    /// `db.client.connection.pool.name` and the acquire span's name
    /// (`acquire {name}`). Defaults to `{server.address}:{server.port}/{db.namespace}`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The `application_name` each connection reports to the server (seen in
    /// `pg_stat_activity`). Defaults to the URL's `application_name`, else the
    /// service name.
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = Some(name.into());
        self
    }

    /// Connections opened at start and kept open. Defaults to `DB_POOL_SIZE`.
    pub fn min_connections(mut self, n: usize) -> Self {
        self.config.min_connections = n;
        self
    }

    /// The most connections open at once. Defaults to `DB_MAX_CONNECTIONS`.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n;
        self
    }

    /// How long `get()` waits. Defaults to `DB_CONNECTION_TIMEOUT`.
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.config.acquire_timeout = d;
        self
    }

    /// How long opening one connection may take. Defaults to `DB_CONNECT_TIMEOUT`.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// Idle time after which connections above the minimum close; zero
    /// disables. Defaults to `DB_IDLE_TIMEOUT`.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.config.idle_timeout = d;
        self
    }

    /// The longest any connection lives; zero disables. Defaults to `DB_MAX_LIFETIME`.
    pub fn max_lifetime(mut self, d: Duration) -> Self {
        self.config.max_lifetime = d;
        self
    }

    /// Server `statement_timeout` and client-side bound per call; zero
    /// disables. Defaults to `DB_STATEMENT_TIMEOUT`.
    pub fn statement_timeout(mut self, d: Duration) -> Self {
        self.config.statement_timeout = d;
        self
    }

    /// `false` for transaction-mode poolers: no named prepared statements,
    /// no startup `options`. Defaults to `DB_STATEMENT_CACHE`.
    pub fn statement_cache(mut self, on: bool) -> Self {
        self.config.statement_cache = on;
        self
    }

    /// `false` opens a new connection per `get()`. Defaults to `DB_POOL_ENABLED`.
    pub fn pool_enabled(mut self, on: bool) -> Self {
        self.config.pool_enabled = on;
        self
    }

    /// How long a connection may be held before it is reported; zero
    /// disables. Defaults to `DB_LEAK_THRESHOLD`.
    pub fn leak_threshold(mut self, d: Duration) -> Self {
        self.config.leak_threshold = d;
        self
    }

    /// How many distinct statement texts keep their sanitized form cached.
    /// Defaults to 1024.
    pub fn statement_cache_capacity(mut self, n: usize) -> Self {
        self.statement_cache_capacity = n.max(1);
        self
    }

    /// Builds the pool and opens the minimum number of connections; fails
    /// when they cannot be opened.
    pub async fn build(self) -> Result<Pool, DbError> {
        let mut cfg = self.config;
        if !cfg.pool_enabled {
            cfg.min_connections = 0;
        }
        if cfg.max_connections == 0 || cfg.min_connections > cfg.max_connections {
            return Err(DbError::Config(format!(
                "min_connections ({}) must be at most max_connections ({}), which must be positive",
                cfg.min_connections, cfg.max_connections
            )));
        }
        let mut pg = parse_url(&cfg)?;
        let app = self
            .application_name
            .or_else(|| pg.get_application_name().map(str::to_owned))
            .unwrap_or_else(|| self.telemetry.config().telemetry.service_name.clone());
        pg.application_name(&app);
        pg.connect_timeout(cfg.connect_timeout);
        pg.keepalives(true);
        pg.keepalives_idle(Duration::from_secs(30));
        pg.keepalives_interval(Duration::from_secs(10));
        pg.keepalives_retries(3);
        pg.ssl_mode(match cfg.ssl_mode {
            crate::config::SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            crate::config::SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        // Transaction-mode poolers reject startup `options`; there the
        // client-side bound is the only one.
        if cfg.statement_cache && !cfg.statement_timeout.is_zero() {
            let ms = cfg.statement_timeout.as_millis();
            let opts = match pg.get_options() {
                Some(o) if !o.is_empty() => format!("{o} -c statement_timeout={ms}"),
                _ => format!("-c statement_timeout={ms}"),
            };
            pg.options(opts);
        }
        let (address, port) = match (pg.get_hosts().first(), pg.get_ports().first()) {
            (Some(tokio_postgres::config::Host::Tcp(h)), p) => {
                (h.clone(), p.copied().unwrap_or(5432))
            }
            #[cfg(unix)]
            (Some(tokio_postgres::config::Host::Unix(p)), port) => {
                (p.display().to_string(), port.copied().unwrap_or(5432))
            }
            _ => ("localhost".to_owned(), 5432),
        };
        let namespace = pg
            .get_dbname()
            .or_else(|| pg.get_user())
            .unwrap_or("postgres")
            .to_owned();
        let name = self
            .name
            .unwrap_or_else(|| format!("{address}:{port}/{namespace}"));

        let meter = self.telemetry.meter();
        let metrics = PoolMetrics::new(meter, &name);
        let tls = tls::connector(cfg.ssl_mode)?;
        let manager: PgManager = new_manager(
            pg,
            tls,
            metrics.create_time.clone(),
            non_zero(cfg.max_lifetime),
        );
        let pool = DeadPool::builder(manager)
            .max_size(cfg.max_connections)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(cfg.acquire_timeout),
                create: Some(cfg.connect_timeout),
                recycle: Some(cfg.connect_timeout),
            })
            .build()
            .map_err(|e| DbError::Config(e.to_string()))?;

        let call_bound = non_zero(cfg.statement_timeout).map(|t| {
            // With a server-side timeout, let the server's clean error win.
            if cfg.statement_cache {
                t + Duration::from_millis(500)
            } else {
                t
            }
        });
        let pool_attr = KeyValue::new(POOL_NAME, name.clone());
        let shared = Arc::new(Shared {
            pool,
            acquire_name: Cow::Owned(format!("acquire {name}")),
            acquire_attrs: [KeyValue::new("db.system.name", "postgresql"), pool_attr],
            base_attrs: vec![
                KeyValue::new("db.system.name", "postgresql"),
                KeyValue::new(
                    "db.namespace",
                    StringValue::from(Arc::<str>::from(namespace)),
                ),
                KeyValue::new(
                    "server.address",
                    StringValue::from(Arc::<str>::from(address)),
                ),
                KeyValue::new("server.port", i64::from(port)),
            ],
            name,
            tracer: self.telemetry.tracer().clone(),
            metrics,
            statements: Cache::new(self.statement_cache_capacity),
            leaks: Registry::default(),
            leak_detection: !cfg.leak_threshold.is_zero(),
            call_bound,
            cfg,
        });
        PoolMetrics::observe(
            meter,
            &shared.name,
            shared.cfg.min_connections,
            shared.cfg.max_connections,
            metrics::downgrade(&shared),
        );
        shared.fill(shared.cfg.min_connections, true).await?;
        if shared.leak_detection {
            leak::spawn_sweeper(Arc::downgrade(&shared), shared.cfg.leak_threshold);
        }
        if shared.cfg.pool_enabled {
            spawn_reaper(&shared);
        }
        Ok(Pool { shared })
    }
}

fn spawn_reaper(shared: &Arc<Shared>) {
    let shortest = [shared.cfg.idle_timeout, shared.cfg.max_lifetime]
        .into_iter()
        .filter(|d| !d.is_zero())
        .min()
        .unwrap_or(Duration::from_secs(30));
    let period = (shortest / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    let weak = Arc::downgrade(shared);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(shared) = weak.upgrade() else { return };
            if shared.pool.is_closed() {
                return;
            }
            shared.reap().await;
        }
    });
}

/// The URL as tokio-postgres reads it, without `sslmode` (whose
/// `verify-full` it does not know; wingspan applies it through rustls).
fn parse_url(cfg: &DbConfig) -> Result<tokio_postgres::Config, DbError> {
    let url = cfg.url.expose();
    let cleaned = match url.split_once('?') {
        Some((base, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| !kv.starts_with("sslmode=") && !kv.is_empty())
                .collect();
            if kept.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        }
        None => url.to_owned(),
    };
    tokio_postgres::Config::from_str(&cleaned).map_err(|_| {
        DbError::Config(format!(
            "DATABASE_URL {} is not a valid PostgreSQL URL",
            cfg.redacted_url()
        ))
    })
}
