//! wingman's own settings (the `WINGMAN_*` variables and `APP_ADDR`),
//! validated like wingspan's: a bad value stops start-up with an error naming
//! the variable, the value and what is accepted. wingspan's variables
//! (`DATABASE_URL`, `DB_*`, `REDIS_*`, `OTEL_*`, `WINGSPAN_*`) are read and
//! validated by `wingspan::Config::from_env`.

use std::net::SocketAddr;
use std::time::Duration;

/// A setting that cannot be used, as `invalid NAME="value": expected ...`.
#[derive(Debug)]
pub struct SettingError {
    variable: &'static str,
    value: String,
    expected: &'static str,
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid {}={:?}: expected {}",
            self.variable, self.value, self.expected
        )
    }
}

impl std::error::Error for SettingError {}

/// Everything wingman reads besides wingspan's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `APP_ADDR`: where the API listens. Defaults to `127.0.0.1:8080`.
    pub app_addr: SocketAddr,
    /// `WINGMAN_SCHEMA`: the Postgres schema of wingman's tables. Defaults to `wingman`.
    pub schema: String,
    /// `WINGMAN_KEY_PREFIX`: prefix of every Redis key. Defaults to `wingman:`.
    pub key_prefix: String,
    /// `WINGMAN_SEED_USERS`: users seeded (profiles as many, matches ten
    /// times as many). Defaults to 5000.
    pub seed_users: i32,
    /// `WINGMAN_LLM_URL`: a Messages API base URL to use instead of the
    /// in-process fake. Defaults to none (the fake is started).
    pub llm_url: Option<String>,
    /// `WINGMAN_LLM_MEDIAN_MS` / `WINGMAN_LLM_P95_MS`: the in-process fake's
    /// log-normal latency. Defaults to 700 / 2500.
    pub llm_median: Duration,
    /// See [`Settings::llm_median`].
    pub llm_p95: Duration,
    /// `WINGMAN_LLM_OVERLOAD_EVERY`: every N-th coach call meets one 529
    /// (retried by the adapter), every 4N-th three in a row (the retries run
    /// out and the route degrades). 0 turns injection off. Defaults to 25.
    pub overload_every: u64,
    /// `WINGMAN_N_PLUS_ONE_ROUTE`: `true` adds
    /// `GET /api/users/{id}/matches-n-plus-one`, a deliberate N+1 (the
    /// matches, then each partner's profile one by one) that wingspan's
    /// N+1 detection flags. Defaults to false.
    pub n_plus_one_route: bool,
    /// `WINGMAN_SLOW_ROUTE`: `true` adds `GET /api/challenges/{id}/top-scores`,
    /// a deliberately slow statement (the best scores of a challenge, read
    /// from `matches`, which has no index on `challenge_id`: a sequential
    /// scan) whose plan wingspan captures when `DB_PLAN_CAPTURE=true`.
    /// Defaults to false.
    pub slow_route: bool,
    /// `WINGMAN_FAULT_EVERY`: every N-th API request answers 500 without
    /// running its handler. 0 turns injection off. Defaults to 0.
    pub fault_every: u64,
    /// `WINGMAN_DELAY_EVERY`: every N-th API request waits 400 ms first.
    /// 0 turns injection off. Defaults to 0.
    pub delay_every: u64,
}

/// A `true`/`false` setting (`1`/`0`; unset or empty is false).
fn flag(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<bool, SettingError> {
    match lookup(variable).as_deref() {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(SettingError {
            variable,
            value: other.to_owned(),
            expected: "true or false",
        }),
    }
}

/// The schema used when `WINGMAN_SCHEMA` is unset.
pub const DEFAULT_SCHEMA: &str = "wingman";
/// The Redis key prefix used when `WINGMAN_KEY_PREFIX` is unset.
pub const DEFAULT_KEY_PREFIX: &str = "wingman:";
/// The admin listener used when `WINGSPAN_ADMIN_ADDR` is unset. Not 9090
/// (Prometheus's own port) nor any port the Prometheus stack or OTel run on
/// by default (Pushgateway 9091, Alertmanager 9093/9094, node_exporter 9100,
/// the OTel Prometheus exporter 9464, OTLP 4317/4318), so wingman starts
/// beside a local Prometheus.
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:9188";

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup` (tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let app_addr = socket(&lookup, "APP_ADDR", "127.0.0.1:8080")?;
        let schema = text(&lookup, "WINGMAN_SCHEMA", DEFAULT_SCHEMA);
        if !is_identifier(&schema) {
            return Err(SettingError {
                variable: "WINGMAN_SCHEMA",
                value: schema,
                expected: "a lower-case SQL identifier: a-z or _ first, then a-z, 0-9, _; at most 63 bytes",
            });
        }
        let key_prefix = text(&lookup, "WINGMAN_KEY_PREFIX", DEFAULT_KEY_PREFIX);
        if !is_key_prefix(&key_prefix) {
            return Err(SettingError {
                variable: "WINGMAN_KEY_PREFIX",
                value: key_prefix,
                expected: "1 to 64 characters of a-z, A-Z, 0-9, ':', '_', '-', '.' (no '/': it ends the cache name)",
            });
        }
        let seed_users = number(
            &lookup,
            "WINGMAN_SEED_USERS",
            5000,
            100..=1_000_000,
            "a whole number from 100 to 1000000",
        )? as i32;
        let llm_url = match lookup("WINGMAN_LLM_URL").filter(|v| !v.is_empty()) {
            None => None,
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => Some(url),
            Some(url) => {
                return Err(SettingError {
                    variable: "WINGMAN_LLM_URL",
                    value: url,
                    expected: "an http:// or https:// base URL of a Messages API",
                })
            }
        };
        let median = number(
            &lookup,
            "WINGMAN_LLM_MEDIAN_MS",
            700,
            1..=600_000,
            "milliseconds, a whole number from 1 to 600000",
        )?;
        let p95 = number(
            &lookup,
            "WINGMAN_LLM_P95_MS",
            2500.max(median),
            1..=600_000,
            "milliseconds, a whole number from 1 to 600000",
        )?;
        if p95 < median {
            return Err(SettingError {
                variable: "WINGMAN_LLM_P95_MS",
                value: p95.to_string(),
                expected: "at least WINGMAN_LLM_MEDIAN_MS",
            });
        }
        let overload_every = number(
            &lookup,
            "WINGMAN_LLM_OVERLOAD_EVERY",
            25,
            0..=1_000_000,
            "a whole number from 0 (never) to 1000000",
        )?;
        let every = |name: &'static str| {
            number(
                &lookup,
                name,
                0,
                0..=1_000_000,
                "a whole number from 0 (never) to 1000000",
            )
        };
        let fault_every = every("WINGMAN_FAULT_EVERY")?;
        let delay_every = every("WINGMAN_DELAY_EVERY")?;
        let n_plus_one_route = flag(&lookup, "WINGMAN_N_PLUS_ONE_ROUTE")?;
        let slow_route = flag(&lookup, "WINGMAN_SLOW_ROUTE")?;
        Ok(Self {
            app_addr,
            n_plus_one_route,
            slow_route,
            schema,
            key_prefix,
            seed_users,
            llm_url,
            llm_median: Duration::from_millis(median),
            llm_p95: Duration::from_millis(p95),
            overload_every,
            fault_every,
            delay_every,
        })
    }
}

/// The admin listener: `WINGSPAN_ADMIN_ADDR` as wingspan parsed it, else
/// [`DEFAULT_ADMIN_ADDR`].
pub fn admin_addr(config: &wingspan::Config) -> SocketAddr {
    config.health.admin_addr.unwrap_or_else(|| {
        DEFAULT_ADMIN_ADDR
            .parse()
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 9188)))
    })
}

fn text(lookup: &impl Fn(&str) -> Option<String>, name: &str, default: &str) -> String {
    lookup(name)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn socket(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<SocketAddr, SettingError> {
    let value = text(lookup, name, default);
    value.parse().map_err(|_| SettingError {
        variable: name,
        value,
        expected: "a socket address such as 127.0.0.1:8080 (port 0 picks a free port)",
    })
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    expected: &'static str,
) -> Result<u64, SettingError> {
    let Some(value) = lookup(name).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    match value.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(SettingError {
            variable: name,
            value,
            expected,
        }),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && s.len() <= 63
}

fn is_key_prefix(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'))
}
