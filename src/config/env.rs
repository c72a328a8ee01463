//! Typed reads of environment variables through a lookup function.
//!
//! Every parse failure becomes a [`ConfigError`] naming the variable, the
//! value found and what would have been accepted. For wingspan's own
//! variables (`WINGSPAN_*`, `DB_*`, `REDIS_*`, `RUST_LOG`, ...) it stops
//! start-up with a message an operator can act on. For the standard
//! `OTEL_*` variables the OpenTelemetry specification asks otherwise: "an
//! invalid or unrecognised value SHOULD produce a warning and be ignored",
//! so a telemetry typo never takes a service down. There the error is kept
//! as a warning ([`Env::take_warnings`]) and the default is used, unless
//! strict mode (`WINGSPAN_STRICT_CONFIG=true`, for CI) makes it an error
//! again.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::time::Duration;

use super::{percent_decode, ConfigError};

/// A view over the variables, through whatever lookup the caller supplied
/// (the process environment, a map in a test, a builder's overrides).
pub(crate) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Every error is an error, `OTEL_*` included.
    strict: Cell<bool>,
    /// The `OTEL_*` values ignored so far.
    warnings: RefCell<Vec<ConfigError>>,
}

/// Whether `name` is one of the specification's variables, whose invalid
/// values are warnings.
fn is_otel(name: &str) -> bool {
    name.starts_with("OTEL_")
}

impl<'a> Env<'a> {
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            strict: Cell::new(false),
            warnings: RefCell::new(Vec::new()),
        }
    }

    /// A view where every invalid value is an error (the modules' unit
    /// tests assert on the errors).
    #[cfg(test)]
    pub(crate) fn strict(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        let env = Self::new(lookup);
        env.set_strict(true);
        env
    }

    /// Makes invalid `OTEL_*` values errors, as wingspan's own are.
    pub(crate) fn set_strict(&self, strict: bool) {
        self.strict.set(strict);
    }

    /// `err` for a wingspan variable or in strict mode; for an `OTEL_*`
    /// variable, `default`, with `err` kept as a warning.
    pub(crate) fn fallback<T>(&self, err: ConfigError, default: T) -> Result<T, ConfigError> {
        if self.strict.get() || !is_otel(&err.variable) {
            return Err(err);
        }
        self.warnings.borrow_mut().push(err);
        Ok(default)
    }

    /// The `OTEL_*` values ignored, in the order they were read.
    pub(crate) fn take_warnings(&self) -> Vec<ConfigError> {
        self.warnings.take()
    }

    /// The trimmed value, or `None` when unset or empty: the OTel spec treats
    /// an empty variable as unset.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value exactly as set, blank included: for a secret where "set but
    /// blank" must be an error rather than "unset".
    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    pub(crate) fn string(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    pub(crate) fn bool(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        Ok(self.flag(name)?.unwrap_or(default))
    }

    /// A boolean, or `None` when unset (for settings whose default depends
    /// on another one).
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        // The specification's booleans are `true` and `false` alone (any
        // case); wingspan's own also take the usual spellings.
        let lower = v.to_ascii_lowercase();
        match (lower.as_str(), is_otel(name)) {
            ("true", _) => Ok(Some(true)),
            ("false", _) => Ok(Some(false)),
            ("1" | "yes" | "on", false) => Ok(Some(true)),
            ("0" | "no" | "off", false) => Ok(Some(false)),
            (_, true) => self.fallback(
                ConfigError::invalid(
                    name,
                    &v,
                    "true or false (the OpenTelemetry specification reads every other value as false)",
                ),
                None,
            ),
            (_, false) => Err(ConfigError::invalid(name, &v, "true or false")),
        }
    }

    /// A socket address such as `127.0.0.1:9000`, or `None` when unset.
    pub(crate) fn socket(&self, name: &str) -> Result<Option<SocketAddr>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.parse() {
            Ok(addr) => Ok(Some(addr)),
            Err(_) => self.fallback(
                ConfigError::invalid(name, &v, "a socket address such as 127.0.0.1:9000"),
                None,
            ),
        }
    }

    /// A TCP port from 1 to 65535, or `None` when unset.
    pub(crate) fn port(&self, name: &str) -> Result<Option<u16>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.parse::<u16>() {
            Ok(p) if p > 0 => Ok(Some(p)),
            _ => self.fallback(
                ConfigError::invalid(name, &v, "a port from 1 to 65535"),
                None,
            ),
        }
    }

    /// An unsigned integer within `min..=max`.
    pub(crate) fn u64_in(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => self.fallback(
                    ConfigError::invalid(name, &v, &format!("a whole number from {min} to {max}")),
                    default,
                ),
            },
        }
    }

    /// An unsigned integer within `min..=max`, or `None` when unset (or,
    /// for an `OTEL_*` variable, invalid: ignored with a warning), so a
    /// more general variable can fill in.
    pub(crate) fn u64_opt(
        &self,
        name: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => self.fallback(
                ConfigError::invalid(name, &v, &format!("a whole number from {min} to {max}")),
                None,
            ),
        }
    }

    /// A float within `min..=max`.
    pub(crate) fn f64_in(
        &self,
        name: &str,
        default: f64,
        min: f64,
        max: f64,
    ) -> Result<f64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= min && n <= max => Ok(n),
                _ => self.fallback(
                    ConfigError::invalid(name, &v, &format!("a number from {min} to {max}")),
                    default,
                ),
            },
        }
    }

    /// A duration given in whole seconds, `0..=max` (the pool's and the LLM
    /// client's settings).
    #[cfg_attr(not(any(feature = "postgres", feature = "llm")), allow(dead_code))]
    pub(crate) fn secs(&self, name: &str, default: u64, max: u64) -> Result<Duration, ConfigError> {
        self.u64_in(name, default, 0, max).map(Duration::from_secs)
    }

    /// A duration given in whole milliseconds, `0..=max`.
    pub(crate) fn millis(
        &self,
        name: &str,
        default: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.u64_in(name, default, 0, max)
            .map(Duration::from_millis)
    }

    /// Milliseconds from `min` to `max`, for delays where 0 would spin.
    pub(crate) fn millis_in(
        &self,
        name: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.u64_in(name, default, min, max)
            .map(Duration::from_millis)
    }

    /// One of a fixed set of lower-case words.
    pub(crate) fn choice<T: Copy>(
        &self,
        name: &str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(default);
        };
        let lower = v.to_ascii_lowercase();
        match choices.iter().find(|(word, _)| *word == lower) {
            Some((_, t)) => Ok(*t),
            None => {
                let accepted: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
                self.fallback(
                    ConfigError::invalid(name, &v, &format!("one of {}", accepted.join(", "))),
                    default,
                )
            }
        }
    }

    /// A comma-separated list of non-empty items.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `key1=value1,key2=value2` with percent-decoded values, as
    /// `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS` use.
    /// `secret` keeps the value out of the error message.
    /// An invalid `OTEL_*` list is discarded whole, as the specification
    /// says of `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) fn pairs(
        &self,
        name: &str,
        secret: bool,
    ) -> Result<Vec<(String, String)>, ConfigError> {
        self.pairs_strict(name, secret)
            .or_else(|e| self.fallback(e, Vec::new()))
    }

    fn pairs_strict(&self, name: &str, secret: bool) -> Result<Vec<(String, String)>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(Vec::new());
        };
        let shown = if secret { "<redacted>" } else { v.as_str() };
        let mut out = Vec::new();
        for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((k, val)) = item.split_once('=') else {
                return Err(ConfigError::invalid(
                    name,
                    shown,
                    "comma-separated key=value pairs",
                ));
            };
            let k = k.trim();
            if k.is_empty() {
                return Err(ConfigError::invalid(
                    name,
                    shown,
                    "comma-separated key=value pairs with non-empty keys",
                ));
            }
            let val = percent_decode(val.trim()).map_err(|_| {
                ConfigError::invalid(name, shown, "key=value pairs with valid percent-encoding")
            })?;
            out.push((k.to_owned(), val));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn empty_counts_as_unset() {
        let f = env_of(&[("A", "  ")]);
        assert_eq!(Env::new(&f).get("A"), None);
    }

    #[test]
    fn bad_number_names_variable_value_and_range() {
        let f = env_of(&[("DB_POOL_SIZE", "lots")]);
        let err = Env::new(&f)
            .u64_in("DB_POOL_SIZE", 5, 1, 100)
            .unwrap_err()
            .to_string();
        assert!(err.contains("DB_POOL_SIZE"), "{err}");
        assert!(err.contains("lots"), "{err}");
        assert!(err.contains("1 to 100"), "{err}");
    }

    #[test]
    fn pairs_decode_percent_and_hide_secrets() {
        let f = env_of(&[("H", "a=b%20c, d=e"), ("S", "token")]);
        let env = Env::new(&f);
        assert_eq!(
            env.pairs("H", false).unwrap(),
            vec![("a".into(), "b c".into()), ("d".into(), "e".into())]
        );
        let err = env.pairs("S", true).unwrap_err().to_string();
        assert!(!err.contains("token"), "{err}");
    }

    #[test]
    fn choice_lists_accepted_words() {
        let f = env_of(&[("P", "carrier-pigeon")]);
        let err = Env::new(&f)
            .choice("P", 1, &[("grpc", 1), ("http/protobuf", 2)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("grpc, http/protobuf"), "{err}");
    }
}
