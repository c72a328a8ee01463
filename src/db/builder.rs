//! [`PoolBuilder`]: from the `DB_*` settings to a running [`Pool`].

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::Timeouts;
use deadpool::Runtime;
use opentelemetry::{KeyValue, StringValue};

use super::error::BuildError;
use super::instruments::{self, Instruments, POOL_NAME};
use super::leak::Registry;
use super::manager::{new_manager, DeadPool, PgManager};
use super::reaper;
use super::sanitize::StatementCache;
use super::shared::Shared;
use super::tls;
use super::{Pool, QueryAttributes};
use crate::config::{DbConfig, PlanCapture, SslMode};
use crate::names;
use crate::telemetry::Telemetry;

/// How many distinct statement texts a pool keeps sanitized. Defaults to 1024.
pub const DEFAULT_STATEMENT_CACHE: usize = 1024;

impl Pool {
    /// A builder with the `DB_*` settings of `telemetry.config().db`;
    /// [`PoolBuilder::config`] replaces them.
    pub fn builder(telemetry: &Telemetry) -> PoolBuilder {
        PoolBuilder::new(telemetry)
    }
}

/// Builds a [`Pool`]; every setting defaults to the `DB_*` value of the
/// telemetry handle's configuration.
#[must_use]
pub struct PoolBuilder {
    telemetry: Telemetry,
    config: DbConfig,
    name: Option<String>,
    application_name: Option<String>,
    statement_cache_capacity: usize,
    /// A URL given to [`PoolBuilder::url`] that is not one (redacted).
    bad_url: Option<String>,
    query_attributes: Option<Arc<dyn QueryAttributes>>,
}

impl std::fmt::Debug for PoolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("config", &self.config)
            .field("name", &self.name)
            .field("application_name", &self.application_name)
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .field("query_attributes", &self.query_attributes.is_some())
            .finish_non_exhaustive()
    }
}

impl PoolBuilder {
    fn new(telemetry: &Telemetry) -> Self {
        Self {
            config: telemetry.config().db.clone(),
            telemetry: telemetry.clone(),
            name: None,
            application_name: None,
            statement_cache_capacity: DEFAULT_STATEMENT_CACHE,
            bad_url: None,
            query_attributes: None,
        }
    }

    /// Replaces every `DB_*` setting at once (setters called before are
    /// overridden). Defaults to `telemetry.config().db`.
    pub fn config(mut self, config: DbConfig) -> Self {
        self.config = config;
        self
    }

    /// The database to connect to, as `DATABASE_URL` would give it
    /// (`postgres://user:password@host:port/db?sslmode=…`). Defaults to
    /// `DATABASE_URL`. An invalid URL fails [`build`](Self::build) with
    /// [`BuildError::Url`].
    pub fn url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.bad_url = match self.config.set_url(url.clone()) {
            Ok(()) => None,
            Err(_) => Some(crate::config::redact_url(&url)),
        };
        self
    }

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

    /// How long `get()` may take in all: waiting for a slot plus opening a
    /// connection. Defaults to `DB_CONNECTION_TIMEOUT`.
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

    /// The roles [`Pool::as_user`] may take from the claims; any other role
    /// is refused with [`DbError::RoleNotAllowed`](super::DbError::RoleNotAllowed).
    /// Defaults to `DB_RLS_ROLES` (`authenticated,anon`).
    pub fn rls_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.rls_roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// `true` lets [`Pool::as_user`] run although the login role can bypass
    /// row-level security (a superuser, `BYPASSRLS`, or a member of the
    /// owner of a table whose RLS is not forced); otherwise `as_user` fails
    /// with [`DbError::PrivilegedLogin`](super::DbError::PrivilegedLogin).
    /// The risk: a statement that got past the session's guard, or a
    /// database function, could switch to the login role and see every row.
    /// Defaults to `DB_RLS_ALLOW_PRIVILEGED_LOGIN` (false).
    pub fn rls_allow_privileged_login(mut self, allow: bool) -> Self {
        self.config.rls_allow_privileged_login = allow;
        self
    }

    /// Captures the generic plan of statements whose P95 crosses
    /// `capture.p95_threshold`, off the request path, and shows it beside
    /// the statement in `/health/detailed` (`PREPARE` under
    /// `plan_cache_mode = force_generic_plan`, then `EXPLAIN` without
    /// `ANALYZE`: nothing runs, no parameter value is used, literals are
    /// masked; PostgreSQL 12 or later). `None` turns it off:
    ///
    /// ```no_run
    /// # async fn run(telemetry: wingspan::Telemetry) -> Result<(), wingspan::db::BuildError> {
    /// use std::time::Duration;
    /// use wingspan::db::{PlanCapture, Pool};
    /// let pool = Pool::builder(&telemetry)
    ///     .capture_plans(PlanCapture::new().p95_threshold(Duration::from_millis(250)))
    ///     .build()
    ///     .await?;
    /// # drop(pool); Ok(()) }
    /// ```
    ///
    /// Defaults to `DB_PLAN_CAPTURE` (off) with `DB_PLAN_THRESHOLD_MS`,
    /// `DB_PLAN_INTERVAL` and `DB_PLAN_TIMEOUT_MS`.
    pub fn capture_plans(mut self, capture: impl Into<Option<PlanCapture>>) -> Self {
        self.config.plan_capture = capture.into();
        self
    }

    /// How many distinct statement texts keep their sanitized form cached.
    /// Defaults to 1024.
    pub fn statement_cache_capacity(mut self, n: usize) -> Self {
        self.statement_cache_capacity = n.max(1);
        self
    }

    /// A hook that adds the application's attributes to each call's span
    /// ([`QueryAttributes`]: at most
    /// [`MAX_HOOK_ATTRIBUTES`](super::MAX_HOOK_ATTRIBUTES) per call, span
    /// only, called only when the span records). Defaults to none.
    pub fn query_attributes(mut self, hook: impl QueryAttributes) -> Self {
        self.query_attributes = Some(Arc::new(hook));
        self
    }

    /// Builds the pool and opens the minimum number of connections; fails
    /// when the settings are invalid or the minimum cannot be opened.
    pub async fn build(self) -> Result<Pool, BuildError> {
        if let Some(url) = self.bad_url {
            return Err(BuildError::Url { url });
        }
        let mut cfg = self.config;
        if !cfg.pool_enabled {
            cfg.min_connections = 0;
        }
        validate(&cfg)?;
        let mut pg = parse_url(&cfg)?;
        let app = self
            .application_name
            .or_else(|| pg.get_application_name().map(str::to_owned))
            .unwrap_or_else(|| self.telemetry.config().telemetry.service_name.clone());
        configure(&mut pg, &cfg, &app);
        let server = ServerIdentity::of(&pg);
        let name = self.name.unwrap_or_else(|| server.pool_name());
        log_settings(&cfg, &name, self.telemetry.config().profile);

        let meter = self.telemetry.meter();
        let instruments = Instruments::new(meter, &name);
        let tls = tls::connector(cfg.ssl_mode, cfg.ssl_root_cert.as_deref())?;
        let manager: PgManager = new_manager(
            pg,
            tls,
            instruments.create_time.clone(),
            reaper::non_zero(cfg.max_lifetime),
        );
        let pool = DeadPool::builder(manager)
            .max_size(cfg.max_connections)
            .runtime(Runtime::Tokio1)
            // `Pool::get` bounds the whole acquire (wait, recycle, create)
            // by `acquire_timeout` with a timer armed only when the acquire
            // is pending (`instrument::deadline`). deadpool's own wait and
            // recycle timeouts built two tokio timers on every acquire,
            // ready or not (about 700 instructions, the process bench's
            // callgrind profile); recycling is `Fast`, a local check with
            // no I/O to bound. Opening a connection keeps its own bound.
            .timeouts(Timeouts {
                wait: None,
                create: Some(cfg.connect_timeout),
                recycle: None,
            })
            .build()
            .map_err(BuildError::Pool)?;
        if cfg.n_plus_one_threshold > 0 {
            crate::n_plus_one::enable();
        }
        let shared = Arc::new(Shared {
            pool,
            acquire_name: Cow::Owned(format!("acquire {name}")),
            acquire_attrs: [
                KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_POSTGRESQL),
                KeyValue::new(POOL_NAME, name.clone()),
            ],
            base_attrs: server.attributes(),
            pool_name: Arc::from(name.as_str()),
            n_plus_one_threshold: cfg.n_plus_one_threshold,
            plan_capture: cfg.plan_capture.is_some() && self.telemetry.stats().is_some(),
            name,
            tracer: self.telemetry.tracer().clone(),
            recording: self.telemetry.recording(),
            instruments,
            statements: StatementCache::new(self.statement_cache_capacity),
            leaks: Registry::default(),
            login_role_checked: AtomicBool::new(false),
            leak_detection: !cfg.leak_threshold.is_zero(),
            call_bound: call_bound(&cfg),
            cfg,
            pool_stats: self.telemetry.stats().map(|v| v.pool()),
            stats: self.telemetry.stats().cloned(),
            query_attributes: self.query_attributes,
        });
        let health = &self.telemetry.config().health;
        let floors = super::plan::Floors {
            window_minutes: health.window_minutes,
            min_calls: health.advice_min_calls,
            min_db_share: health.advice_min_db_share,
        };
        start(meter, shared, floors).await
    }
}

/// Registers the observed metrics, opens the minimum, starts the background
/// tasks.
async fn start(
    meter: &opentelemetry::metrics::Meter,
    shared: Arc<Shared>,
    floors: super::plan::Floors,
) -> Result<Pool, BuildError> {
    Instruments::observe(
        meter,
        &shared.name,
        shared.cfg.min_connections,
        shared.cfg.max_connections,
        instruments::downgrade(&shared),
    );
    if let Some(stats) = &shared.stats {
        // Weak: the view outlives no pool, and a dropped pool reports empty.
        let weak = Arc::downgrade(&shared);
        stats.set_pool_status(move || weak.upgrade().map(|s| s.status()).unwrap_or_default());
    }
    let min = shared.cfg.min_connections;
    shared
        .fill(min, true)
        .await
        .map_err(|e| BuildError::Connect {
            min,
            source: Box::new(e),
        })?;
    if shared.leak_detection {
        reaper::spawn_sweeper(Arc::downgrade(&shared), shared.cfg.leak_threshold);
    }
    if shared.cfg.pool_enabled {
        reaper::spawn_reaper(&shared);
    }
    if let Some(capture) = shared.cfg.plan_capture {
        super::plan::spawn(&shared, capture, floors);
    }
    Ok(Pool { shared })
}

/// The settings the pool runs with, once, at INFO: the defaults come from
/// the profile (`WINGSPAN_ENV`), so a pool sized by them says so. The URL's
/// password is redacted. The fields are `db.client.connection.pool.name` and
/// `wingspan.db.pool.*` (`crate::names::db`: tracing field names must be
/// literals). `event!` with the level, because `info!` cannot parse a dotted
/// first field after `target:`.
fn log_settings(cfg: &DbConfig, name: &str, profile: crate::config::Profile) {
    tracing::event!(
        target: "wingspan::db",
        tracing::Level::INFO,
        db.client.connection.pool.name = name,
        wingspan.db.pool.url = %cfg.redacted_url(),
        wingspan.db.pool.profile = %profile,
        wingspan.db.pool.min_connections = cfg.min_connections,
        wingspan.db.pool.max_connections = cfg.max_connections,
        wingspan.db.pool.acquire_timeout = cfg.acquire_timeout.as_secs_f64(),
        wingspan.db.pool.connect_timeout = cfg.connect_timeout.as_secs_f64(),
        wingspan.db.pool.statement_timeout = cfg.statement_timeout.as_secs_f64(),
        wingspan.db.pool.statement_cache = cfg.statement_cache,
        wingspan.db.pool.enabled = cfg.pool_enabled,
        "{}",
        settings_line(cfg, name, profile),
    );
}

/// The message of [`log_settings`]: readable on a console too.
fn settings_line(cfg: &DbConfig, name: &str, profile: crate::config::Profile) -> String {
    format!(
        "PostgreSQL pool {name} ({url}): {min}..{max} connections, acquire timeout {acq:?}, \
         statement timeout {st:?}, statement cache {cache}, plan capture {plans}; what the builder and \
         DB_* leave unset comes from the {profile} profile (WINGSPAN_ENV)",
        url = cfg.redacted_url(),
        min = cfg.min_connections,
        max = cfg.max_connections,
        acq = cfg.acquire_timeout,
        st = cfg.statement_timeout,
        cache = if cfg.statement_cache { "on" } else { "off" },
        plans = match cfg.plan_capture {
            None => "off".to_owned(),
            Some(p) => format!(
                "from P95 {:?}, one per {:?}, {:?} each",
                p.p95_threshold, p.min_interval, p.timeout
            ),
        },
    )
}

fn validate(cfg: &DbConfig) -> Result<(), BuildError> {
    if cfg.max_connections == 0 || cfg.min_connections > cfg.max_connections {
        return Err(BuildError::Limits {
            min: cfg.min_connections,
            max: cfg.max_connections,
        });
    }
    if cfg.rls_roles.is_empty() {
        return Err(BuildError::NoRoles);
    }
    if let Some(bad) = cfg.rls_roles.iter().find(|r| !DbConfig::is_role_name(r)) {
        return Err(BuildError::Role { role: bad.clone() });
    }
    Ok(())
}

/// The client-side bound on each call: with a server-side timeout, a little
/// longer, so the server's clean error wins.
fn call_bound(cfg: &DbConfig) -> Option<Duration> {
    reaper::non_zero(cfg.statement_timeout).map(|t| {
        if cfg.statement_cache {
            t + Duration::from_millis(500)
        } else {
            t
        }
    })
}

/// Connection settings wingspan imposes on the URL's.
fn configure(pg: &mut tokio_postgres::Config, cfg: &DbConfig, app: &str) {
    pg.application_name(app);
    pg.connect_timeout(cfg.connect_timeout);
    pg.keepalives(true);
    pg.keepalives_idle(Duration::from_secs(30));
    pg.keepalives_interval(Duration::from_secs(10));
    pg.keepalives_retries(3);
    pg.ssl_mode(match cfg.ssl_mode {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            tokio_postgres::config::SslMode::Require
        }
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
}

/// Where the pool connects: `server.address`, `server.port`, `db.namespace`.
struct ServerIdentity {
    address: String,
    port: u16,
    namespace: String,
}

impl ServerIdentity {
    fn of(pg: &tokio_postgres::Config) -> Self {
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
        Self {
            address,
            port,
            namespace,
        }
    }

    fn pool_name(&self) -> String {
        format!("{}:{}/{}", self.address, self.port, self.namespace)
    }

    fn attributes(self) -> Vec<KeyValue> {
        vec![
            KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_POSTGRESQL),
            KeyValue::new(
                names::DB_NAMESPACE,
                StringValue::from(Arc::<str>::from(self.namespace)),
            ),
            KeyValue::new(
                names::SERVER_ADDRESS,
                StringValue::from(Arc::<str>::from(self.address)),
            ),
            KeyValue::new(names::SERVER_PORT, i64::from(self.port)),
        ]
    }
}

/// The URL as tokio-postgres reads it, without the TLS parameters it does
/// not know (`sslmode=verify-ca`/`verify-full`, `sslrootcert`), which
/// wingspan applies through rustls.
fn parse_url(cfg: &DbConfig) -> Result<tokio_postgres::Config, BuildError> {
    let url = cfg.url.expose();
    let cleaned = match url.split_once('?') {
        Some((base, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| {
                    !kv.is_empty() && !kv.starts_with("sslmode=") && !kv.starts_with("sslrootcert=")
                })
                .collect();
            if kept.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        }
        None => url.to_owned(),
    };
    tokio_postgres::Config::from_str(&cleaned).map_err(|_| BuildError::Url {
        url: cfg.redacted_url(),
    })
}
