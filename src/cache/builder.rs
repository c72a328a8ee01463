//! [`CacheBuilder`]: from the Redis settings to a connected (or degraded)
//! pool.

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::interfaces::ClientLike as _;
use fred::socket2::TcpKeepalive;
use fred::types::config::{Config as FredConfig, Options, ReconnectPolicy, ServerConfig};
use fred::types::Builder;
use opentelemetry::{KeyValue, StringValue};

use super::error::BuildError;
use super::flight::Flights;
use super::instruments::Instruments;
use super::query::Naming;
use super::{info, tls};
use super::{Cache, CommandAttributes, Shared};
use crate::config::{ConfigError, RedisConfig};
use crate::names::{self, OTHER};
use crate::Telemetry;

/// Bounds on the `INFO` poll period: the metric export interval, but never
/// a poll per second or more, nor less than one a minute.
const INFO_MIN: Duration = Duration::from_secs(1);
const INFO_MAX: Duration = Duration::from_secs(60);

/// Builds a [`Cache`]; made by [`Cache::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is awaited"]
pub struct CacheBuilder {
    telemetry: Telemetry,
    config: RedisConfig,
    separator: char,
    max_names: usize,
    cache_names: Option<Vec<String>>,
    info_interval: Option<Duration>,
    info_metrics: bool,
    reconnect_min: Duration,
    reconnect_max: Duration,
    command_attributes: Option<super::hook::Hook>,
}

impl CacheBuilder {
    pub(super) fn new(telemetry: &Telemetry) -> Self {
        Self {
            telemetry: telemetry.clone(),
            config: telemetry.config().redis.clone(),
            separator: ':',
            max_names: 64,
            cache_names: None,
            info_interval: None,
            info_metrics: true,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(2),
            command_attributes: None,
        }
    }

    /// The Redis settings, in place of the ones the telemetry handle was
    /// configured with (`REDIS_*`, `WINGSPAN_REDIS_KEYS`); `build` checks them
    /// as the environment parser does. Defaults to
    /// `telemetry.config().redis`.
    pub fn config(mut self, config: RedisConfig) -> Self {
        self.config = config;
        self
    }

    /// The server to connect to, as `REDIS_URL` would give it
    /// (`redis://[:password@]host:port[/db]`, `rediss://` for TLS). Defaults
    /// to `REDIS_URL`; `build` checks it.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.config.url = crate::config::Secret::new(url);
        self
    }

    /// The character that ends a key's cache name (`users:42` → `users`).
    /// Defaults to `:`.
    pub fn name_separator(mut self, separator: char) -> Self {
        self.separator = separator;
        self
    }

    /// How many distinct cache names `wingspan.cache.requests` and the
    /// in-process view keep before counting new ones as `other`. Not used
    /// with [`cache_names`](Self::cache_names). Defaults to 64.
    pub fn max_cache_names(mut self, max: usize) -> Self {
        self.max_names = max;
        self
    }

    /// The only cache names: a key counts under its prefix (before the
    /// separator) when the prefix is one of `names`, and as `other` when it
    /// is not; a masked `db.query.text` shows listed prefixes only
    /// (`GET users:?`, else `GET ?`). Use it when a key may start with user
    /// data (`<email>:profile`, `<tenant>:...`): by default every prefix is a
    /// cache name, so such a key becomes a metric label and a row of
    /// `/health/detailed` (up to [`max_cache_names`](Self::max_cache_names)).
    /// `build` refuses an empty name, one holding the separator, and
    /// `other`. Defaults to every prefix.
    pub fn cache_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cache_names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// How often `INFO` is polled for the server metrics. Defaults to the
    /// metric export interval, kept between 1 s and 60 s.
    pub fn info_interval(mut self, interval: Duration) -> Self {
        self.info_interval = Some(interval);
        self
    }

    /// Whether to poll `INFO` and export the `redis.*` server metrics (turn
    /// off when the collector's redis receiver already scrapes the server).
    /// Defaults to true.
    pub fn info_metrics(mut self, enabled: bool) -> Self {
        self.info_metrics = enabled;
        self
    }

    /// The reconnect back-off: exponential from `min` to `max`, forever.
    /// Defaults to 100 ms to 2 s.
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_min = min;
        self.reconnect_max = max.max(min);
        self
    }

    /// A hook that adds the application's attributes to each command's
    /// span ([`CommandAttributes`]: at most
    /// [`MAX_HOOK_ATTRIBUTES`](super::MAX_HOOK_ATTRIBUTES) per command, span
    /// only, called only when the span records). Defaults to none.
    pub fn command_attributes(mut self, hook: impl CommandAttributes) -> Self {
        self.command_attributes = Some(super::hook::Hook(Arc::new(hook)));
        self
    }

    /// Builds the pool and starts connecting. Waits at most the connect
    /// timeout for a first connection; when Redis is unreachable the cache
    /// still builds and starts degraded (commands fail at once with
    /// [`CacheError::NotConnected`](super::CacheError::NotConnected)) while it
    /// reconnects in the background.
    ///
    /// Fails only on settings that cannot work ([`BuildError::Config`]: a
    /// malformed `REDIS_URL`, a pool of 0, a zero timeout) or a TLS set-up
    /// that cannot be made ([`BuildError::Tls`]).
    pub async fn build(self) -> Result<Cache, BuildError> {
        self.config.validate()?;
        tracing::event!(
            target: "wingspan::cache",
            tracing::Level::INFO,
            wingspan.cache.url = %self.config.redacted_url(),
            wingspan.cache.pool_size = self.config.pool_size,
            wingspan.cache.command_timeout = self.config.command_timeout.as_secs_f64(),
            "Redis cache {} ({} connections, command timeout {:?})",
            self.config.redacted_url(),
            self.config.pool_size,
            self.config.command_timeout,
        );
        let listed = self.listed_names()?;
        let (fred_config, server) = self.fred_config()?;
        let command_timeout = self.config.command_timeout;
        let connect_timeout = self.config.connect_timeout;
        let pool = self
            .fred_builder(fred_config)
            .build_pool(self.config.pool_size)
            .map_err(|e| {
                ConfigError::invalid(
                    "REDIS_POOL_SIZE",
                    &self.config.pool_size.to_string(),
                    &format!("a pool size fred accepts ({})", e.details()),
                )
            })?;
        // Dropping the handle detaches the connection tasks; they run until
        // `quit`.
        drop(pool.connect());
        if tokio::time::timeout(connect_timeout, pool.wait_for_connect())
            .await
            .map_or(true, |r| r.is_err())
        {
            tracing::event!(
                target: "wingspan::cache",
                tracing::Level::WARN,
                wingspan.cache.url = %self.config.redacted_url(),
                "redis is unreachable; the cache starts degraded and reconnects in the background"
            );
        }

        let options = Options {
            timeout: Some(command_timeout),
            fail_fast: true,
            ..Options::default()
        };
        let clients: Vec<_> = pool
            .clients()
            .iter()
            .map(|c| c.with_options(&options))
            .collect();

        let base_attributes = base_attributes(&server);
        let meter = self.telemetry.meter();
        let latest: info::Latest = Arc::new(Mutex::new(None));
        let info_task = if self.info_metrics {
            info::register(meter, &latest);
            let interval = self
                .info_interval
                .unwrap_or(self.telemetry.config().telemetry.metric_export_interval)
                .clamp(INFO_MIN, INFO_MAX);
            Some(tokio::spawn(info::poll(clients.clone(), latest.clone(), interval)).abort_handle())
        } else {
            None
        };

        let cache = Cache {
            shared: Arc::new(Shared {
                pool,
                clients,
                next: AtomicUsize::new(0),
                tracer: self.telemetry.tracer().clone(),
                recording: self.telemetry.recording(),
                base_attributes,
                key_display: self.config.key_display,
                instruments: Instruments::new(
                    meter,
                    self.max_names,
                    listed.as_ref(),
                    self.telemetry.stats().cloned(),
                ),
                naming: Naming::new(self.separator, listed),
                command_timeout,
                flights: Flights::default(),
                info_task,
                command_attributes: self.command_attributes.map(|h| h.0),
            }),
        };
        if let Some(stats) = self.telemetry.stats() {
            register_gauge(stats, &cache, &latest);
        }
        Ok(cache)
    }
}

/// The cache server's state for the in-process view: connected now, and the
/// memory of the last INFO poll. Weak, so the view keeps no cache alive.
fn register_gauge(stats: &crate::stats::Stats, cache: &Cache, latest: &info::Latest) {
    let shared = Arc::downgrade(&cache.shared);
    let latest = Arc::downgrade(latest);
    stats.set_cache_gauge(move || crate::stats::CacheGauge {
        connected: shared
            .upgrade()
            .is_some_and(|s| s.clients.iter().any(|c| c.is_connected())),
        memory_used_bytes: latest.upgrade().and_then(|l| {
            let guard = l.lock().unwrap_or_else(|p| p.into_inner());
            guard
                .as_ref()
                .and_then(|s| s.used_memory)
                .and_then(|m| u64::try_from(m).ok())
        }),
    });
}

impl CacheBuilder {
    /// The names of [`CacheBuilder::cache_names`], checked.
    fn listed_names(&self) -> Result<Option<HashSet<Box<str>>>, ConfigError> {
        let Some(names) = &self.cache_names else {
            return Ok(None);
        };
        let mut listed = HashSet::with_capacity(names.len());
        for name in names {
            if name.is_empty() || name.contains(self.separator) || name == OTHER {
                return Err(ConfigError::invalid(
                    "CacheBuilder::cache_names",
                    name,
                    &format!(
                        "non-empty key prefixes without the separator {:?}, other than \
                         `{OTHER}` (where every key without a listed prefix counts)",
                        self.separator
                    ),
                ));
            }
            listed.insert(name.as_str().into());
        }
        Ok(Some(listed))
    }
}

/// What the URL says about the server, for the span attributes.
struct Server {
    address: String,
    port: u16,
    namespace: String,
}

impl CacheBuilder {
    /// fred's settings from `REDIS_URL`, with wingspan's TLS connector for
    /// `rediss://`.
    fn fred_config(&self) -> Result<(FredConfig, Server), BuildError> {
        let (url, uses_tls) = tls::split_scheme(self.config.url.expose());
        let mut fred_config = FredConfig::from_url(&url).map_err(|e| {
            ConfigError::invalid(
                "REDIS_URL",
                &self.config.redacted_url(),
                &format!("a redis:// or rediss:// URL fred accepts ({})", e.details()),
            )
        })?;
        if uses_tls {
            fred_config.tls = Some(tls::connector()?.into());
        }
        // A cache must not stop the service from starting: connect in the
        // background with the reconnect policy instead.
        fred_config.fail_fast = false;
        let (address, port) = match &fred_config.server {
            ServerConfig::Centralized { server } => (server.host.to_string(), server.port),
            _ => (String::new(), 0),
        };
        let namespace = fred_config.database.unwrap_or(0).to_string();
        Ok((
            fred_config,
            Server {
                address,
                port,
                namespace,
            },
        ))
    }

    /// fred's builder: timeouts, TCP keepalive, unresponsive-connection
    /// check and the reconnect policy.
    fn fred_builder(&self, fred_config: FredConfig) -> Builder {
        let command_timeout = self.config.command_timeout;
        let connect_timeout = self.config.connect_timeout;
        let mut builder = Builder::from_config(fred_config);
        builder
            .with_performance_config(|p| {
                // fred's default is no timeout at all.
                p.default_command_timeout = command_timeout;
            })
            .with_connection_config(|c| {
                c.connection_timeout = connect_timeout;
                c.internal_command_timeout = connect_timeout;
                c.tcp.nodelay = Some(true);
                // Finds half-open connections (a server that vanished
                // without a FIN) that no command would notice.
                c.tcp.keepalive = Some(
                    TcpKeepalive::new()
                        .with_time(Duration::from_secs(30))
                        .with_interval(Duration::from_secs(10)),
                );
                // A connection whose replies stall is dropped and remade.
                c.unresponsive.max_timeout =
                    Some((command_timeout * 4).max(Duration::from_secs(2)));
                c.unresponsive.interval = Duration::from_secs(1);
            })
            .set_policy(ReconnectPolicy::new_exponential(
                0,
                millis_u32(self.reconnect_min),
                millis_u32(self.reconnect_max),
                2,
            ));
        builder
    }
}

/// The attributes of every span, built once. Shared strings: every span
/// clones these, and an `Arc` clone does not allocate.
fn base_attributes(server: &Server) -> Vec<KeyValue> {
    let shared = |s: &str| StringValue::from(Arc::<str>::from(s));
    let mut attributes = vec![
        KeyValue::new(names::DB_SYSTEM_NAME, names::DB_SYSTEM_NAME_REDIS),
        KeyValue::new(names::DB_NAMESPACE, shared(&server.namespace)),
    ];
    if !server.address.is_empty() {
        attributes.push(KeyValue::new(
            names::SERVER_ADDRESS,
            shared(&server.address),
        ));
        attributes.push(KeyValue::new(names::SERVER_PORT, i64::from(server.port)));
    }
    attributes
}

fn millis_u32(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}
