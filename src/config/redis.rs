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

/// Settings of [`crate::cache`].
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

impl RedisConfig {
    /// `REDIS_URL` with its password replaced by `***`, for messages.
    pub fn redacted_url(&self) -> String {
        redact(self.url.expose())
    }

    pub(crate) fn from_env(env: &Env<'_>, profile: Profile) -> Result<Self, ConfigError> {
        let url = env.string("REDIS_URL", "redis://127.0.0.1:6379");
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(ConfigError::invalid(
                "REDIS_URL",
                &redact(&url),
                "a redis:// or rediss:// URL",
            ));
        }
        let command_timeout =
            env.millis("REDIS_COMMAND_TIMEOUT", profile.pick(250, 500, 500), MAX_MS)?;
        let connect_timeout = env.millis("REDIS_CONNECT_TIMEOUT", 1000, MAX_MS)?;
        for (var, d) in [
            ("REDIS_COMMAND_TIMEOUT", command_timeout),
            ("REDIS_CONNECT_TIMEOUT", connect_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::invalid(
                    var,
                    "0",
                    &format!("a whole number of milliseconds from 1 to {MAX_MS}"),
                ));
            }
        }
        Ok(Self {
            url: Secret::new(url),
            pool_size: env.u64_in("REDIS_POOL_SIZE", profile.pick(2, 4, 8), 1, 256)? as usize,
            command_timeout,
            connect_timeout,
            key_display: env.choice(
                "WINGSPAN_REDIS_KEYS",
                KeyDisplay::Masked,
                &[("masked", KeyDisplay::Masked), ("full", KeyDisplay::Full)],
            )?,
        })
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
}
