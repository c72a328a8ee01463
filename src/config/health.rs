//! The settings of `wingspan::health`, read from the environment with the
//! same rules as [`crate::Config`]: an empty variable counts as unset, and a
//! bad value is a [`ConfigError`] naming the variable, the value and what is
//! accepted.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use super::{AlertThresholds, ConfigError, Env};

/// The alert thresholds and the admin surface.
///
/// The four thresholds default to `alerts/thresholds.json`
/// ([`AlertThresholds::built_in`]), the file the alert rules are rendered
/// from.
#[derive(Clone, PartialEq)]
pub struct HealthConfig {
    /// `P95_LATENCY_THRESHOLD_MS`: the API's P95 (LLM routes excluded) above
    /// which the latency alert fires. Defaults to
    /// `api_latency_threshold_seconds` (300 ms).
    pub p95_latency_threshold_ms: f64,
    /// `DB_POOL_ALERT_THRESHOLD`: pool utilization (0 to 1) above which the
    /// pool alert fires. Defaults to `pool_utilization_threshold` (0.8).
    pub db_pool_alert_threshold: f64,
    /// `CACHE_HIT_RATE_THRESHOLD`: cache hit rate (0 to 1) below which the
    /// cache alert fires. Defaults to `cache_hit_ratio_threshold` (0.7).
    pub cache_hit_rate_threshold: f64,
    /// `ERROR_RATE_THRESHOLD`: share of 5xx answers (0 to 1) above which the
    /// error alert fires. Defaults to `error_ratio_threshold` (0.05).
    pub error_rate_threshold: f64,
    /// `WINGSPAN_ADMIN_ADDR`: a separate listener for the health router.
    /// Defaults to unset (the service mounts the router itself).
    pub admin_addr: Option<SocketAddr>,
    /// `WINGSPAN_ADMIN_TOKEN`: the bearer token `/health/detailed` and
    /// `/metrics` ask of every client (liveness, readiness and the static
    /// page never ask). At least [`AdminToken::MIN_LEN`] bytes; set but blank
    /// or shorter is an error, never "no token". Defaults to unset: then
    /// those routes answer only a loopback peer, unless
    /// [`admin_open`](Self::admin_open).
    pub admin_token: Option<AdminToken>,
    /// `WINGSPAN_ADMIN_OPEN`: serve `/health/detailed` and `/metrics` to any
    /// peer without a token (a warning at start names them). An error
    /// together with `WINGSPAN_ADMIN_TOKEN`. Defaults to false.
    pub admin_open: bool,
    /// `WINGSPAN_TRACE_URL`: link template for trace IDs, with `{trace_id}`
    /// (e.g. `http://jaeger:16686/trace/{trace_id}`). Defaults to unset.
    pub trace_url: Option<String>,
    /// `WINGSPAN_HEALTH_WINDOW_MINUTES`: the window of `/health/detailed`:
    /// 1, 5 or 15. Defaults to 5.
    pub window_minutes: u64,
    /// `WINGSPAN_HEALTH_CHECK_TIMEOUT_MS`: each readiness check's timeout.
    /// Defaults to 1000.
    pub check_timeout: Duration,
    /// `WINGSPAN_HEALTH_READY_CACHE_MS`: how long a readiness answer is
    /// reused. Defaults to 1000.
    pub ready_cache: Duration,
    /// `WINGSPAN_ADVICE_MIN_CALLS`: a slow statement is recommended for
    /// optimisation only when it ran at least this many times in the window,
    /// or took at least [`advice_min_db_share`](Self::advice_min_db_share)
    /// of the database time: a one-off (a migration's INSERT, an ANALYZE) is
    /// not worth an index. Defaults to 20.
    pub advice_min_calls: u64,
    /// `WINGSPAN_ADVICE_MIN_DB_SHARE`: the share of the window's database
    /// time (0 to 1) that makes a slow statement worth a recommendation
    /// with as few as two calls (one call is never a pattern). Defaults to
    /// 0.05.
    pub advice_min_db_share: f64,
    /// `WINGSPAN_STATS`: keep the in-process rolling window
    /// (`wingspan::stats`) that the HTTP layer, the pool, the cache and the
    /// LLM wrapper feed; off, they skip it at the cost of one branch.
    /// Defaults to true.
    pub stats: bool,
}

/// The admin bearer token; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// The shortest token accepted, in bytes. A bearer token is guessed one
    /// request at a time; 16 bytes of even a hex alphabet leave 2^64 guesses,
    /// out of reach online, while a short or human-chosen word is not
    /// (generate one with e.g. `openssl rand -hex 32`).
    pub const MIN_LEN: usize = 16;

    /// Checks and wraps a token, as `WINGSPAN_ADMIN_TOKEN`: surrounding
    /// whitespace is trimmed (a secret file's trailing newline); what is left
    /// must be at least [`MIN_LEN`](Self::MIN_LEN) bytes without whitespace
    /// or control characters. A blank token is an error, not "no token": an
    /// empty secret usually means one that failed to render, and must not
    /// turn authentication off. The error names `WINGSPAN_ADMIN_TOKEN` and
    /// never shows the value.
    pub fn new(token: impl Into<String>) -> Result<Self, ConfigError> {
        let token = token.into();
        let t = token.trim();
        let expected = if t.is_empty() {
            "a token (it is set but blank; unset it to go without one)"
        } else if t.len() < Self::MIN_LEN || t.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            "at least 16 bytes without spaces or control characters"
        } else {
            return Ok(Self(t.to_owned()));
        };
        Err(ConfigError::invalid(
            "WINGSPAN_ADMIN_TOKEN",
            "<redacted>",
            expected,
        ))
    }

    /// Whether `presented` is this token, in time that depends on the
    /// lengths only, never on where the two first differ (`subtle`).
    pub fn matches(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.as_bytes().ct_eq(presented).into()
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for HealthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthConfig")
            .field("p95_latency_threshold_ms", &self.p95_latency_threshold_ms)
            .field("db_pool_alert_threshold", &self.db_pool_alert_threshold)
            .field("cache_hit_rate_threshold", &self.cache_hit_rate_threshold)
            .field("error_rate_threshold", &self.error_rate_threshold)
            .field("admin_addr", &self.admin_addr)
            .field("admin_token", &self.admin_token)
            .field("admin_open", &self.admin_open)
            .field("trace_url", &self.trace_url)
            .field("window_minutes", &self.window_minutes)
            .field("check_timeout", &self.check_timeout)
            .field("ready_cache", &self.ready_cache)
            .field("advice_min_calls", &self.advice_min_calls)
            .field("advice_min_db_share", &self.advice_min_db_share)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self::from_lookup(|_| None).unwrap_or_else(|_| unreachable!("defaults are valid"))
    }
}

impl HealthConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a variable name to its value).
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        Self::read(&Env::new(&lookup))
    }

    pub(crate) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let defaults = AlertThresholds::built_in();
        let p95 = env.u64_in(
            "P95_LATENCY_THRESHOLD_MS",
            defaults.api_latency_threshold_ms(),
            1,
            3_600_000,
        )?;
        let window_minutes = env.u64_in("WINGSPAN_HEALTH_WINDOW_MINUTES", 5, 1, 15)?;
        if ![1, 5, 15].contains(&window_minutes) {
            return Err(ConfigError::invalid(
                "WINGSPAN_HEALTH_WINDOW_MINUTES",
                &window_minutes.to_string(),
                "1, 5 or 15",
            ));
        }
        let trace_url = env.get("WINGSPAN_TRACE_URL");
        if let Some(url) = &trace_url {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || !url.contains("{trace_id}") {
                return Err(ConfigError::invalid(
                    "WINGSPAN_TRACE_URL",
                    url,
                    "an http(s) URL containing {trace_id}",
                ));
            }
        }
        // Read raw: a set but blank token is an error, not "unset".
        let admin_token = env
            .raw("WINGSPAN_ADMIN_TOKEN")
            .map(AdminToken::new)
            .transpose()?;
        let admin_open = env.bool("WINGSPAN_ADMIN_OPEN", false)?;
        if admin_open && admin_token.is_some() {
            return Err(ConfigError::invalid(
                "WINGSPAN_ADMIN_OPEN",
                "true",
                "unset or false when WINGSPAN_ADMIN_TOKEN is set (the token would be asked of nobody)",
            ));
        }
        Ok(Self {
            p95_latency_threshold_ms: p95 as f64,
            db_pool_alert_threshold: env.f64_in(
                "DB_POOL_ALERT_THRESHOLD",
                defaults.pool_utilization_threshold,
                0.0,
                1.0,
            )?,
            cache_hit_rate_threshold: env.f64_in(
                "CACHE_HIT_RATE_THRESHOLD",
                defaults.cache_hit_ratio_threshold,
                0.0,
                1.0,
            )?,
            error_rate_threshold: env.f64_in(
                "ERROR_RATE_THRESHOLD",
                defaults.error_ratio_threshold,
                0.0,
                1.0,
            )?,
            admin_addr: env.socket("WINGSPAN_ADMIN_ADDR")?,
            admin_token,
            admin_open,
            trace_url,
            window_minutes,
            check_timeout: env.millis_in("WINGSPAN_HEALTH_CHECK_TIMEOUT_MS", 1000, 1, 60_000)?,
            ready_cache: env.millis("WINGSPAN_HEALTH_READY_CACHE_MS", 1000, 60_000)?,
            advice_min_calls: env.u64_in("WINGSPAN_ADVICE_MIN_CALLS", 20, 1, 1_000_000_000)?,
            advice_min_db_share: env.f64_in("WINGSPAN_ADVICE_MIN_DB_SHARE", 0.05, 0.0, 1.0)?,
            stats: env.bool("WINGSPAN_STATS", true)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_come_from_the_thresholds_file() {
        let c = HealthConfig::default();
        assert_eq!(c.p95_latency_threshold_ms, 300.0);
        assert_eq!(c.db_pool_alert_threshold, 0.8);
        assert_eq!(c.cache_hit_rate_threshold, 0.7);
        assert_eq!(c.error_rate_threshold, 0.05);
        assert_eq!(c.window_minutes, 5);
        assert_eq!(c.advice_min_calls, 20);
        assert_eq!(c.advice_min_db_share, 0.05);
    }

    #[test]
    fn advice_floors_are_settable_and_checked() {
        let c = HealthConfig::from_lookup(env(&[
            ("WINGSPAN_ADVICE_MIN_CALLS", "5"),
            ("WINGSPAN_ADVICE_MIN_DB_SHARE", "0.2"),
        ]))
        .unwrap();
        assert_eq!((c.advice_min_calls, c.advice_min_db_share), (5, 0.2));
        let e =
            HealthConfig::from_lookup(env(&[("WINGSPAN_ADVICE_MIN_DB_SHARE", "5%")])).unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_ADVICE_MIN_DB_SHARE");
        let e = HealthConfig::from_lookup(env(&[("WINGSPAN_ADVICE_MIN_CALLS", "0")])).unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_ADVICE_MIN_CALLS");
    }

    #[test]
    fn bad_values_name_variable_value_and_accepted() {
        let e = HealthConfig::from_lookup(env(&[("DB_POOL_ALERT_THRESHOLD", "80%")])).unwrap_err();
        assert_eq!(
            (e.variable.as_str(), e.value.as_str(), e.expected.as_str()),
            ("DB_POOL_ALERT_THRESHOLD", "80%", "a number from 0 to 1")
        );
        let e = HealthConfig::from_lookup(env(&[("P95_LATENCY_THRESHOLD_MS", "0")])).unwrap_err();
        assert_eq!(e.variable, "P95_LATENCY_THRESHOLD_MS");
        let e = HealthConfig::from_lookup(env(&[("WINGSPAN_TRACE_URL", "http://j/trace")]))
            .unwrap_err();
        assert!(e.expected.contains("{trace_id}"));
        let e =
            HealthConfig::from_lookup(env(&[("WINGSPAN_HEALTH_WINDOW_MINUTES", "7")])).unwrap_err();
        assert_eq!(e.expected, "1, 5 or 15");
        let e = HealthConfig::from_lookup(env(&[("WINGSPAN_ADMIN_TOKEN", "short secret")]))
            .unwrap_err();
        assert_eq!(e.value, "<redacted>");
        let c = HealthConfig::from_lookup(env(&[("WINGSPAN_ADMIN_TOKEN", "0123456789abcdef-xyz")]))
            .unwrap();
        assert_eq!(format!("{c:?}").matches("0123456789abcdef").count(), 0);
    }

    #[test]
    fn a_set_but_blank_or_short_token_is_an_error_not_no_token() {
        for blank in ["", "   ", "\t\n"] {
            let lookup = move |n: &str| (n == "WINGSPAN_ADMIN_TOKEN").then(|| blank.to_owned());
            let e = HealthConfig::from_lookup(lookup).unwrap_err();
            assert_eq!(
                (e.variable.as_str(), e.value.as_str()),
                ("WINGSPAN_ADMIN_TOKEN", "<redacted>"),
                "{blank:?}"
            );
        }
        assert!(AdminToken::new("").is_err());
        assert!(AdminToken::new("0123456789abcde").is_err());
        assert!(AdminToken::new("0123456789 abcdef").is_err());
        let t = AdminToken::new(" 0123456789abcdef\n").unwrap();
        assert!(t.matches(b"0123456789abcdef"));
        let c = HealthConfig::from_lookup(env(&[("WINGSPAN_ADMIN_OPEN", "true")])).unwrap();
        assert!(c.admin_open && c.admin_token.is_none());
        let e = HealthConfig::from_lookup(env(&[
            ("WINGSPAN_ADMIN_TOKEN", "0123456789abcdef"),
            ("WINGSPAN_ADMIN_OPEN", "yes"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_ADMIN_OPEN");
    }

    #[test]
    fn token_compare() {
        let t = AdminToken::new("0123456789abcdef").unwrap();
        assert!(t.matches(b"0123456789abcdef"));
        assert!(!t.matches(b"0123456789abcdeF"));
        assert!(!t.matches(b"0123456789abcde"));
        assert!(!t.matches(b"0123456789abcdef0"));
        assert!(!t.matches(b""));
    }
}
