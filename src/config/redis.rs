//! Settings of the Redis cache (`REDIS_*`, `WINGSPAN_REDIS_KEYS`).

use std::fmt;
use std::time::Duration;

use super::{ConfigError, Env, Profile, Secret};

/// How keys appear in `db.query.text` (`WINGSPAN_REDIS_KEYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDisplay {
    /// `SET challenges:? ?`: only the cache name before the first `:` is kept,
    /// because keys such as `session:<token>` carry secrets.
    Masked,
    /// The whole key.
    Full,
}

/// Settings of `wingspan::cache`.
#[derive(Clone)]
pub struct RedisConfig {
    /// `REDIS_URL`: `redis://` or `rediss://`. Defaults to `redis://127.0.0.1:6379`.
    /// The password is never shown by `Debug`.
    pub url: Secret,
    /// `REDIS_POOL_SIZE`: connections in the pool. Defaults to 2 / 4 / 8.
    pub pool_size: usize,
    /// `REDIS_COMMAND_TIMEOUT` (ms) per command. Defaults to 250 / 500 / 500.
    pub command_timeout: Duration,
    /// `REDIS_CONNECT_TIMEOUT` (ms). Defaults to 1000.
    pub connect_timeout: Duration,
    /// `WINGSPAN_REDIS_KEYS`: `masked` or `full`. Defaults to masked.
    pub key_display: KeyDisplay,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact(self.url.expose()))
            .field("pool_size", &self.pool_size)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("key_display", &self.key_display)
            .finish()
    }
}

pub(crate) use super::redact_url as redact;

const MAX_MS: u64 = 3600 * 1000;
const MAX_POOL: u64 = 256;

impl RedisConfig {
    /// `REDIS_URL` with its password replaced by `***`, for messages.
    pub fn redacted_url(&self) -> String {
        redact(self.url.expose())
    }

    pub(crate) fn from_env(env: &Env<'_>, profile: Profile) -> Result<Self, ConfigError> {
        let config = Self {
            url: Secret::new(env.string("REDIS_URL", "redis://127.0.0.1:6379")),
            pool_size: env.u64_in("REDIS_POOL_SIZE", profile.pick(2, 4, 8), 1, MAX_POOL)? as usize,
            command_timeout: env.millis(
                "REDIS_COMMAND_TIMEOUT",
                profile.pick(250, 500, 500),
                MAX_MS,
            )?,
            connect_timeout: env.millis("REDIS_CONNECT_TIMEOUT", 1000, MAX_MS)?,
            key_display: env.choice(
                "WINGSPAN_REDIS_KEYS",
                KeyDisplay::Masked,
                &[("masked", KeyDisplay::Masked), ("full", KeyDisplay::Full)],
            )?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks what the environment parser checks, for settings built or
    /// changed in code (the fields are public): the error names the
    /// variable the field stands for.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let url = self.url.expose();
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(ConfigError::invalid(
                "REDIS_URL",
                &redact(url),
                "a redis:// or rediss:// URL",
            ));
        }
        if !(1..=MAX_POOL as usize).contains(&self.pool_size) {
            return Err(ConfigError::invalid(
                "REDIS_POOL_SIZE",
                &self.pool_size.to_string(),
                &format!("a whole number from 1 to {MAX_POOL}"),
            ));
        }
        for (var, d) in [
            ("REDIS_COMMAND_TIMEOUT", self.command_timeout),
            ("REDIS_CONNECT_TIMEOUT", self.connect_timeout),
        ] {
            if d.is_zero() || d > Duration::from_millis(MAX_MS) {
                return Err(ConfigError::invalid(
                    var,
                    &d.as_millis().to_string(),
                    &format!("a whole number of milliseconds from 1 to {MAX_MS}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn defaults_and_redaction() {
        let c = Config::from_lookup(|k| {
            (k == "REDIS_URL").then(|| "rediss://default:t0ken@cache:6380".to_owned())
        })
        .unwrap()
        .redis;
        assert_eq!(c.pool_size, 2);
        assert_eq!(c.command_timeout, Duration::from_millis(250));
        let shown = format!("{c:?}");
        assert!(!shown.contains("t0ken"), "{shown}");
    }

    #[test]
    fn bad_key_display_is_named() {
        let e = Config::from_lookup(|k| (k == "WINGSPAN_REDIS_KEYS").then(|| "partial".to_owned()))
            .unwrap_err();
        assert_eq!(e.variable, "WINGSPAN_REDIS_KEYS");
        assert!(e.expected.contains("masked, full"));
    }

    #[test]
    fn settings_changed_in_code_are_checked_and_named() {
        let base = Config::from_lookup(|_| None).unwrap().redis;
        let mut c = base.clone();
        c.pool_size = 0;
        let e = c.validate().unwrap_err();
        assert_eq!(
            (e.variable.as_str(), e.value.as_str()),
            ("REDIS_POOL_SIZE", "0")
        );
        let mut c = base.clone();
        c.command_timeout = Duration::ZERO;
        assert_eq!(c.validate().unwrap_err().variable, "REDIS_COMMAND_TIMEOUT");
        let mut c = base;
        c.url = Secret::new("http://user:hunter2@cache:6379".to_owned());
        let e = c.validate().unwrap_err();
        assert_eq!(e.variable, "REDIS_URL");
        assert!(!e.value.contains("hunter2"), "{e}");
    }
}
