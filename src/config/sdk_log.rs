//! `OTEL_LOG_LEVEL`: how much the SDK says about itself.

use super::{ConfigError, Env};

/// The level of the SDK's own diagnostics (`OTEL_LOG_LEVEL`): what the
/// `opentelemetry*` crates log about failed exports, dropped items or bad
/// instruments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdkLogLevel {
    /// `error`.
    Error,
    /// `warn`.
    Warn,
    /// `info`.
    Info,
    /// `debug`.
    Debug,
}

impl SdkLogLevel {
    /// The `tracing` level of the directive.
    pub fn as_str(self) -> &'static str {
        match self {
            SdkLogLevel::Error => "error",
            SdkLogLevel::Warn => "warn",
            SdkLogLevel::Info => "info",
            SdkLogLevel::Debug => "debug",
        }
    }

    /// `None` when unset or `none`: the SDK stays silent, as before
    /// `OTEL_LOG_LEVEL` was read (wingspan reports export failures and
    /// losses itself, see `Telemetry::loss_counts`).
    pub(crate) fn read(env: &Env<'_>) -> Result<Option<Self>, ConfigError> {
        env.choice(
            "OTEL_LOG_LEVEL",
            None,
            &[
                ("none", None),
                ("error", Some(SdkLogLevel::Error)),
                ("warn", Some(SdkLogLevel::Warn)),
                ("info", Some(SdkLogLevel::Info)),
                ("debug", Some(SdkLogLevel::Debug)),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: Option<&str>) -> Result<Option<SdkLogLevel>, ConfigError> {
        let v = v.map(str::to_owned);
        let lookup = move |k: &str| (k == "OTEL_LOG_LEVEL").then(|| v.clone()).flatten();
        SdkLogLevel::read(&Env::strict(&lookup))
    }

    #[test]
    fn levels_parse() {
        assert_eq!(read(None).unwrap(), None);
        assert_eq!(read(Some("none")).unwrap(), None);
        assert_eq!(read(Some("WARN")).unwrap(), Some(SdkLogLevel::Warn));
        assert_eq!(read(Some("debug")).unwrap(), Some(SdkLogLevel::Debug));
        let e = read(Some("verbose")).unwrap_err();
        assert_eq!(e.variable, "OTEL_LOG_LEVEL");
        assert!(
            e.expected.contains("error, warn, info, debug"),
            "{}",
            e.expected
        );
    }
}
