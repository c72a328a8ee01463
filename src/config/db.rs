//! Settings of the PostgreSQL pool (`DB_*`, `DATABASE_URL`).

use std::fmt;
use std::time::Duration;

use super::{ConfigError, Env, Profile, Secret};

/// `sslmode` of the database URL, honoured through rustls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, without certificate verification (as libpq).
    Prefer,
    /// TLS always, without certificate verification (as libpq without a root certificate).
    Require,
    /// TLS always, certificate chain verified against the roots
    /// (`sslrootcert`, else the system's), host name not checked (as libpq).
    VerifyCa,
    /// TLS always, certificate chain and host name verified.
    VerifyFull,
}

/// Capturing the generic plan of slow statements (`DB_PLAN_*`): which
/// statements qualify, how often a plan is taken, and how long one may take.
/// Off unless `DB_PLAN_CAPTURE=true` or `PoolBuilder::capture_plans`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanCapture {
    /// `DB_PLAN_THRESHOLD_MS`: a statement whose P95 over the health window
    /// reaches this is planned. Defaults to 100 ms.
    pub p95_threshold: Duration,
    /// `DB_PLAN_INTERVAL` (s): at most one plan per interval for the whole
    /// pool (the same statement is planned again after
    /// [`PlanCapture::RECAPTURE_AFTER`]). Defaults to 60 s.
    pub min_interval: Duration,
    /// `DB_PLAN_TIMEOUT_MS`: the server-side `statement_timeout` and
    /// `lock_timeout` of the capture, and its client-side bound. Defaults to
    /// 2000 ms.
    pub timeout: Duration,
}

impl PlanCapture {
    /// How long a statement's plan stands before it is taken again.
    pub const RECAPTURE_AFTER: Duration = Duration::from_secs(600);

    /// The defaults: 100 ms P95, one plan a minute, 2 s per plan.
    pub const fn new() -> Self {
        Self {
            p95_threshold: Duration::from_millis(100),
            min_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(2),
        }
    }

    /// The P95 from which a statement is planned. Defaults to 100 ms.
    #[must_use]
    pub const fn p95_threshold(mut self, d: Duration) -> Self {
        self.p95_threshold = d;
        self
    }

    /// The shortest time between two plans of the pool (at least 10 ms).
    /// Defaults to 60 s.
    #[must_use]
    pub const fn min_interval(mut self, d: Duration) -> Self {
        self.min_interval = d;
        self
    }

    /// How long one capture may take, server and client side. Defaults to 2 s.
    #[must_use]
    pub const fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
}

impl Default for PlanCapture {
    fn default() -> Self {
        Self::new()
    }
}

/// The roles `wingspan::db::Pool::as_user` accepts by default (Supabase's).
pub(crate) const DEFAULT_RLS_ROLES: &[&str] = &["authenticated", "anon"];

/// Settings of `wingspan::db`.
#[derive(Clone)]
pub struct DbConfig {
    /// `DATABASE_URL`. Defaults to `postgres://postgres@127.0.0.1:5432/postgres`.
    /// The password is never shown by `Debug`.
    pub url: Secret,
    /// `sslmode` from the URL. Defaults to prefer.
    pub ssl_mode: SslMode,
    /// `sslrootcert` from the URL: a PEM file of the CA certificates that
    /// `verify-ca` and `verify-full` trust (`system` for the system's).
    /// Defaults to none (the system's roots).
    pub ssl_root_cert: Option<String>,
    /// `DB_POOL_SIZE`: connections opened at start and kept open. Defaults to 5 / 10 / 20.
    pub min_connections: usize,
    /// `DB_MAX_CONNECTIONS`. Defaults to 10 / 20 / 50.
    pub max_connections: usize,
    /// `DB_CONNECTION_TIMEOUT` (s): how long a caller waits for a pooled
    /// connection. Defaults to 10 / 30 / 30.
    pub acquire_timeout: Duration,
    /// `DB_CONNECT_TIMEOUT` (s): opening one connection (TCP, TLS, auth). Defaults to 5.
    pub connect_timeout: Duration,
    /// `DB_IDLE_TIMEOUT` (s): idle connections above the minimum live this long. Defaults to 300.
    pub idle_timeout: Duration,
    /// `DB_MAX_LIFETIME` (s): any connection lives at most this long. Defaults to 1800.
    pub max_lifetime: Duration,
    /// `DB_STATEMENT_TIMEOUT` (s): server-side `statement_timeout` plus a
    /// client-side bound on each call; 0 = none. Defaults to 30.
    pub statement_timeout: Duration,
    /// `DB_STATEMENT_CACHE`: `on`, or `off` for transaction-mode poolers
    /// (Supavisor port 6543, pgbouncer). Defaults to on.
    pub statement_cache: bool,
    /// `DB_POOL_ENABLED`: `false` opens a new connection per acquire (the
    /// baseline and rollback switch). Defaults to true.
    pub pool_enabled: bool,
    /// `DB_LEAK_THRESHOLD` (s): a connection held longer is reported; 0 = off.
    /// Defaults to 30 / 60 / 60.
    pub leak_threshold: Duration,
    /// `DB_N_PLUS_ONE_THRESHOLD`: within one instrumented HTTP request, a
    /// statement summary run more than this many times in a row (no other
    /// statement in between) is reported as an N+1; 0 = off. Defaults to 5.
    pub n_plus_one_threshold: u32,
    /// `DB_PLAN_CAPTURE`: `true` captures the generic plan of statements
    /// whose P95 crosses `DB_PLAN_THRESHOLD_MS`, off the request path
    /// (`wingspan::db`'s plan capture); `None` = off. Defaults to off.
    pub plan_capture: Option<PlanCapture>,
    /// `DB_RLS_ROLES`: comma-separated roles `Pool::as_user` may take from
    /// the claims; any other is refused. Defaults to `authenticated,anon`.
    pub rls_roles: Vec<String>,
    /// `DB_RLS_ALLOW_PRIVILEGED_LOGIN`: `true` lets `Pool::as_user` run
    /// although the pool's login role can bypass row-level security (a
    /// superuser, `BYPASSRLS`, or a member of the owner of a table whose
    /// RLS is not forced). The risk: a statement that got past the
    /// session's guard, or a function the database defines, could switch to
    /// the login role and read or write every row. Defaults to false.
    pub rls_allow_privileged_login: bool,
}

impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &redact_url(self.url.expose()))
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .field("min_connections", &self.min_connections)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("statement_timeout", &self.statement_timeout)
            .field("statement_cache", &self.statement_cache)
            .field("pool_enabled", &self.pool_enabled)
            .field("leak_threshold", &self.leak_threshold)
            .field("n_plus_one_threshold", &self.n_plus_one_threshold)
            .field("plan_capture", &self.plan_capture)
            .field("rls_roles", &self.rls_roles)
            .field(
                "rls_allow_privileged_login",
                &self.rls_allow_privileged_login,
            )
            .finish()
    }
}

pub(crate) use super::redact_url;

impl DbConfig {
    /// `DATABASE_URL` with any password replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose())
    }

    /// Whether `name` is a plain role name: 1 to 63 bytes of ASCII letters,
    /// digits, `_`, `-` and `$`, starting with a letter or `_`.
    pub(crate) fn is_role_name(name: &str) -> bool {
        let b = name.as_bytes();
        (1..=63).contains(&b.len())
            && (b[0].is_ascii_alphabetic() || b[0] == b'_')
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'$'))
    }
}

const ROLES_ACCEPTED: &str =
    "comma-separated role names of 1 to 63 characters from a-z, A-Z, 0-9, `_`, `-`, `$`, each starting with a letter or `_`";

fn rls_roles(env: &Env<'_>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = env.get("DB_RLS_ROLES") else {
        return Ok(DEFAULT_RLS_ROLES.iter().map(|r| (*r).to_owned()).collect());
    };
    let roles: Vec<String> = raw.split(',').map(|r| r.trim().to_owned()).collect();
    if roles.iter().any(|r| !DbConfig::is_role_name(r)) {
        return Err(ConfigError::invalid("DB_RLS_ROLES", &raw, ROLES_ACCEPTED));
    }
    Ok(roles)
}

const MAX_SECS: u64 = 7 * 24 * 3600;

/// `DB_PLAN_CAPTURE` and, when on, `DB_PLAN_THRESHOLD_MS`,
/// `DB_PLAN_INTERVAL`, `DB_PLAN_TIMEOUT_MS` (read, and so checked, either way).
fn plan_capture(env: &Env<'_>) -> Result<Option<PlanCapture>, ConfigError> {
    let on = env.bool("DB_PLAN_CAPTURE", false)?;
    let d = PlanCapture::new();
    let capture = PlanCapture {
        p95_threshold: env.millis(
            "DB_PLAN_THRESHOLD_MS",
            d.p95_threshold.as_millis() as u64,
            3_600_000,
        )?,
        min_interval: Duration::from_secs(env.u64_in(
            "DB_PLAN_INTERVAL",
            d.min_interval.as_secs(),
            1,
            MAX_SECS,
        )?),
        timeout: env.millis_in(
            "DB_PLAN_TIMEOUT_MS",
            d.timeout.as_millis() as u64,
            1,
            600_000,
        )?,
    };
    Ok(on.then_some(capture))
}

impl DbConfig {
    pub(crate) fn from_env(env: &Env<'_>, profile: Profile) -> Result<Self, ConfigError> {
        let url = env.string(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        );
        let (ssl_mode, ssl_root_cert) = url_settings(&url)?;
        let max_connections =
            env.u64_in("DB_MAX_CONNECTIONS", profile.pick(10, 20, 50), 1, 10_000)? as usize;
        let min_connections = env.u64_in(
            "DB_POOL_SIZE",
            profile.pick(5, 10, 20).min(max_connections as u64),
            0,
            10_000,
        )? as usize;
        if min_connections > max_connections {
            return Err(ConfigError::invalid(
                "DB_POOL_SIZE",
                &min_connections.to_string(),
                &format!("at most DB_MAX_CONNECTIONS ({max_connections})"),
            ));
        }
        let acquire_timeout =
            env.secs("DB_CONNECTION_TIMEOUT", profile.pick(10, 30, 30), MAX_SECS)?;
        let connect_timeout = env.secs("DB_CONNECT_TIMEOUT", 5, MAX_SECS)?;
        for (var, d) in [
            ("DB_CONNECTION_TIMEOUT", acquire_timeout),
            ("DB_CONNECT_TIMEOUT", connect_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::invalid(
                    var,
                    "0",
                    &format!("a whole number of seconds from 1 to {MAX_SECS}"),
                ));
            }
        }
        Ok(Self {
            url: Secret::new(url),
            ssl_mode,
            ssl_root_cert,
            min_connections,
            max_connections,
            acquire_timeout,
            connect_timeout,
            idle_timeout: env.secs("DB_IDLE_TIMEOUT", 300, MAX_SECS)?,
            max_lifetime: env.secs("DB_MAX_LIFETIME", 1800, MAX_SECS)?,
            statement_timeout: env.secs("DB_STATEMENT_TIMEOUT", 30, MAX_SECS)?,
            statement_cache: env.choice(
                "DB_STATEMENT_CACHE",
                true,
                &[
                    ("on", true),
                    ("off", false),
                    ("true", true),
                    ("false", false),
                ],
            )?,
            pool_enabled: env.bool("DB_POOL_ENABLED", true)?,
            leak_threshold: env.secs("DB_LEAK_THRESHOLD", profile.pick(30, 60, 60), MAX_SECS)?,
            n_plus_one_threshold: env.u64_in("DB_N_PLUS_ONE_THRESHOLD", 5, 0, 1_000_000)? as u32,
            plan_capture: plan_capture(env)?,
            rls_roles: rls_roles(env)?,
            rls_allow_privileged_login: env.bool("DB_RLS_ALLOW_PRIVILEGED_LOGIN", false)?,
        })
    }
}

impl DbConfig {
    /// Replaces `DATABASE_URL` (and the `sslmode`, `sslrootcert` it carries).
    pub(crate) fn set_url(&mut self, url: String) -> Result<(), ConfigError> {
        let (ssl_mode, ssl_root_cert) = url_settings(&url)?;
        self.url = Secret::new(url);
        self.ssl_mode = ssl_mode;
        self.ssl_root_cert = ssl_root_cert;
        Ok(())
    }
}

/// The scheme checked, and the `sslmode` and `sslrootcert` of a database URL.
fn url_settings(url: &str) -> Result<(SslMode, Option<String>), ConfigError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ConfigError::invalid(
            "DATABASE_URL",
            &redact_url(url),
            "a postgres:// or postgresql:// URL",
        ));
    }
    let ssl_mode = match query_param(url, "sslmode").as_deref() {
        None | Some("prefer") | Some("allow") => SslMode::Prefer,
        Some("disable") => SslMode::Disable,
        Some("require") => SslMode::Require,
        Some("verify-ca") => SslMode::VerifyCa,
        Some("verify-full") => SslMode::VerifyFull,
        Some(other) => {
            return Err(ConfigError::invalid(
                "DATABASE_URL",
                &format!("sslmode={other}"),
                "sslmode one of disable, allow, prefer, require, verify-ca, verify-full",
            ))
        }
    };
    Ok((ssl_mode, query_param_raw(url, "sslrootcert")))
}

fn query_param(url: &str, key: &str) -> Option<String> {
    query_param_raw(url, key).map(|v| v.to_ascii_lowercase())
}

/// A query parameter as written.
fn query_param_raw(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn db(vars: &[(&str, &str)]) -> Result<DbConfig, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Config::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
            .map(|c| c.db)
    }

    #[test]
    fn profile_defaults() {
        let d = db(&[("WINGSPAN_ENV", "production")]).unwrap();
        assert_eq!((d.min_connections, d.max_connections), (20, 50));
        assert_eq!(d.acquire_timeout, Duration::from_secs(30));
        let d = db(&[]).unwrap();
        assert_eq!((d.min_connections, d.max_connections), (5, 10));
        assert_eq!(d.leak_threshold, Duration::from_secs(30));
    }

    #[test]
    fn password_never_shows() {
        let d = db(&[(
            "DATABASE_URL",
            "postgres://app:hunter2@db.example.com:6543/app?sslmode=require",
        )])
        .unwrap();
        let shown = format!("{d:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app:***@db.example.com:6543"), "{shown}");
        assert_eq!(d.ssl_mode, SslMode::Require);
    }

    #[test]
    fn bad_values_are_named() {
        let e = db(&[("DATABASE_URL", "mysql://root:pw@x/y")]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
        assert!(!e.value.contains("pw"), "{e}");
        let e = db(&[("DB_POOL_SIZE", "30"), ("DB_MAX_CONNECTIONS", "10")]).unwrap_err();
        assert_eq!(e.variable, "DB_POOL_SIZE");
        let e = db(&[("DATABASE_URL", "postgres://x/y?sslmode=sometimes")]).unwrap_err();
        assert!(e.expected.contains("verify-full"));
    }

    #[test]
    fn verify_ca_and_its_root_certificate() {
        let d = db(&[(
            "DATABASE_URL",
            "postgres://x@h/y?sslmode=verify-ca&sslrootcert=/tmp/ca.pem",
        )])
        .unwrap();
        assert_eq!(d.ssl_mode, SslMode::VerifyCa);
        assert_eq!(d.ssl_root_cert.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(db(&[]).unwrap().ssl_root_cert, None);
    }

    #[test]
    fn privileged_login_is_refused_unless_allowed() {
        assert!(!db(&[]).unwrap().rls_allow_privileged_login);
        let d = db(&[("DB_RLS_ALLOW_PRIVILEGED_LOGIN", "true")]).unwrap();
        assert!(d.rls_allow_privileged_login);
        let e = db(&[("DB_RLS_ALLOW_PRIVILEGED_LOGIN", "sure")]).unwrap_err();
        assert_eq!(e.variable, "DB_RLS_ALLOW_PRIVILEGED_LOGIN");
        assert_eq!(e.value, "sure");
        assert!(e.expected.contains("true or false"), "{e}");
    }

    #[test]
    fn plan_capture_is_off_by_default_and_its_settings_are_checked() {
        assert_eq!(db(&[]).unwrap().plan_capture, None);
        let d = db(&[
            ("DB_PLAN_CAPTURE", "true"),
            ("DB_PLAN_THRESHOLD_MS", "250"),
            ("DB_PLAN_INTERVAL", "5"),
        ])
        .unwrap();
        let c = d.plan_capture.unwrap();
        assert_eq!(c.p95_threshold, Duration::from_millis(250));
        assert_eq!(c.min_interval, Duration::from_secs(5));
        assert_eq!(c.timeout, Duration::from_secs(2));
        for (var, bad) in [
            ("DB_PLAN_CAPTURE", "yes please"),
            ("DB_PLAN_INTERVAL", "0"),
            ("DB_PLAN_TIMEOUT_MS", "0"),
            ("DB_PLAN_THRESHOLD_MS", "-1"),
        ] {
            let e = db(&[(var, bad)]).unwrap_err();
            assert_eq!((e.variable.as_str(), e.value.as_str()), (var, bad));
        }
    }

    #[test]
    fn rls_roles_default_and_are_validated() {
        assert_eq!(db(&[]).unwrap().rls_roles, ["authenticated", "anon"]);
        let d = db(&[("DB_RLS_ROLES", "authenticated, service_role")]).unwrap();
        assert_eq!(d.rls_roles, ["authenticated", "service_role"]);
        for bad in ["authenticated,", "a b", "x;DROP", "1abc", &"r".repeat(64)] {
            let e = db(&[("DB_RLS_ROLES", bad)]).unwrap_err();
            assert_eq!(e.variable, "DB_RLS_ROLES", "{bad}");
            assert!(e.expected.contains("role names"), "{e}");
        }
    }
}
