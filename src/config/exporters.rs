//! `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`:
//! comma-separated lists, as the specification allows, and the Prometheus
//! exporter's `OTEL_EXPORTER_PROMETHEUS_HOST` / `_PORT`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs as _};

use super::{ConfigError, Env};

/// One value of an exporter list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExporterKind {
    /// `otlp`: OTLP to the configured endpoint.
    Otlp,
    /// `console`: printed to stdout, for debugging (not for production:
    /// every item is written as it is exported).
    Console,
    /// `prometheus` (metrics only, feature `prometheus`): the pull endpoint
    /// on `OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT`.
    Prometheus,
    /// `none`: not exported at all (metrics may still be served by the pull
    /// endpoint of `WINGSPAN_PROMETHEUS_ADDR`).
    None,
}

/// Where one signal goes: any of the exporters of its variable's list.
/// Empty is `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExporterSet {
    /// `otlp` is listed.
    pub otlp: bool,
    /// `console` is listed.
    pub console: bool,
    /// `prometheus` is listed (`OTEL_METRICS_EXPORTER` only).
    pub prometheus: bool,
}

impl ExporterSet {
    /// The default: OTLP alone.
    pub const OTLP: Self = Self {
        otlp: true,
        console: false,
        prometheus: false,
    };

    /// Nothing listed (`none`).
    pub fn is_empty(self) -> bool {
        !(self.otlp || self.console || self.prometheus)
    }

    /// Whether `kind` is listed; `None` is listed when nothing else is.
    pub fn contains(self, kind: ExporterKind) -> bool {
        match kind {
            ExporterKind::Otlp => self.otlp,
            ExporterKind::Console => self.console,
            ExporterKind::Prometheus => self.prometheus,
            ExporterKind::None => self.is_empty(),
        }
    }

    /// Reads a list such as `otlp,console`; unset is `otlp`. `none` stands
    /// alone: next to another value it would contradict it.
    /// `prometheus` is accepted where `allow_prometheus` says (metrics with
    /// the `prometheus` feature).
    pub(crate) fn read(
        env: &Env<'_>,
        name: &str,
        allow_prometheus: bool,
    ) -> Result<Self, ConfigError> {
        let Some(value) = env.get(name) else {
            return Ok(Self::OTLP);
        };
        let accepted = if allow_prometheus {
            "a comma-separated list of otlp, console, prometheus, or none alone"
        } else {
            "a comma-separated list of otlp and console, or none alone"
        };
        let invalid = || ConfigError::invalid(name, &value, accepted);
        // Unknown items are warnings and skipped (the specification's rule
        // for unrecognised values); in strict mode, errors.
        let mut set = Self::default();
        let mut none = false;
        let mut known = 0;
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.to_ascii_lowercase().as_str() {
                "otlp" => set.otlp = true,
                "console" => set.console = true,
                "prometheus" if allow_prometheus => set.prometheus = true,
                "none" => none = true,
                _ => {
                    env.fallback(invalid(), ())?;
                    continue;
                }
            }
            known += 1;
        }
        if none && !set.is_empty() {
            // A contradiction: the other items win.
            env.fallback(invalid(), ())?;
            none = false;
        }
        if known == 0 || (set.is_empty() && !none) {
            return Ok(Self::OTLP);
        }
        Ok(set)
    }
}

/// The Prometheus exporter's default port (its registered one).
pub const PROMETHEUS_DEFAULT_PORT: u16 = 9464;

/// Where `OTEL_METRICS_EXPORTER=prometheus` listens:
/// `OTEL_EXPORTER_PROMETHEUS_HOST` (an IP address or a host name resolved
/// once at start-up; defaults to `localhost`, i.e. `127.0.0.1`, loopback as
/// the admin rules expect) and `OTEL_EXPORTER_PROMETHEUS_PORT` (defaults to
/// 9464).
pub(crate) fn prometheus_addr(env: &Env<'_>) -> Result<SocketAddr, ConfigError> {
    const HOST: &str = "OTEL_EXPORTER_PROMETHEUS_HOST";
    let port = env
        .port("OTEL_EXPORTER_PROMETHEUS_PORT")?
        .unwrap_or(PROMETHEUS_DEFAULT_PORT);
    let Some(host) = env.get(HOST) else {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    };
    // `localhost` is loopback without asking the resolver, which might
    // answer ::1 first on one host and 127.0.0.1 on another.
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (host.as_str(), port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .map_or_else(
            || {
                env.fallback(
                    ConfigError::invalid(
                        HOST,
                        &host,
                        "an IP address, localhost, or a host name that resolves",
                    ),
                    SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                )
            },
            Ok,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<T>(vars: &[(&str, &str)], f: impl FnOnce(&Env<'_>) -> T) -> T {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let lookup = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        f(&Env::strict(&lookup))
    }

    fn set(value: &str, prometheus: bool) -> Result<ExporterSet, ConfigError> {
        with(&[("X", value)], |env| {
            ExporterSet::read(env, "X", prometheus)
        })
    }

    #[test]
    fn lists_parse_and_none_stands_alone() {
        assert_eq!(
            with(&[], |e| ExporterSet::read(e, "X", false)).unwrap(),
            ExporterSet::OTLP
        );
        let s = set("otlp, Console", false).unwrap();
        assert!(s.otlp && s.console && !s.prometheus);
        assert!(s.contains(ExporterKind::Console) && !s.contains(ExporterKind::None));
        let s = set("none", false).unwrap();
        assert!(s.is_empty() && s.contains(ExporterKind::None));
        let s = set("console,console", false).unwrap();
        assert!(s.console && !s.otlp);
        let e = set("otlp,none", false).unwrap_err();
        assert_eq!((e.variable.as_str(), e.value.as_str()), ("X", "otlp,none"));
        let e = set("zipkin", false).unwrap_err();
        assert!(e.expected.contains("otlp and console"), "{}", e.expected);
    }

    #[test]
    fn prometheus_only_where_allowed() {
        assert!(set("prometheus", true).unwrap().prometheus);
        let s = set("otlp,prometheus", true).unwrap();
        assert!(s.otlp && s.prometheus);
        let e = set("prometheus", false).unwrap_err();
        assert!(!e.expected.contains("prometheus"), "{}", e.expected);
    }

    #[test]
    fn prometheus_address_defaults_to_loopback_9464() {
        let addr = |vars: &[(&str, &str)]| with(vars, prometheus_addr);
        assert_eq!(addr(&[]).unwrap(), "127.0.0.1:9464".parse().unwrap());
        assert_eq!(
            addr(&[("OTEL_EXPORTER_PROMETHEUS_PORT", "9100")]).unwrap(),
            "127.0.0.1:9100".parse().unwrap()
        );
        assert_eq!(
            addr(&[("OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0")]).unwrap(),
            "0.0.0.0:9464".parse().unwrap()
        );
        assert_eq!(
            addr(&[("OTEL_EXPORTER_PROMETHEUS_HOST", "[::1]")]).unwrap(),
            "[::1]:9464".parse().unwrap()
        );
        let e = addr(&[("OTEL_EXPORTER_PROMETHEUS_PORT", "0")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_EXPORTER_PROMETHEUS_PORT");
        let e = addr(&[("OTEL_EXPORTER_PROMETHEUS_HOST", "no such host.invalid")]).unwrap_err();
        assert_eq!(e.variable, "OTEL_EXPORTER_PROMETHEUS_HOST");
    }
}
