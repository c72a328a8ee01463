//! Keeping the OTLP endpoints' passwords out of wingspan's own output.
//!
//! wingspan prints endpoints through `config::redact_url`; the exporters'
//! messages (a build error quoting the endpoint, an export failure) are
//! text wingspan did not write, so every password the endpoints hold is
//! replaced in them before they are logged or returned.

use std::fmt;

use crate::config::OtlpConfig;

/// What replaces a secret, as `redact_url` writes it.
const MASK: &str = "***";

/// Replaces the endpoints' passwords in any text. Cheap when there are none
/// (the common case): one check of an empty list.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    secrets: Vec<String>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrubber")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Scrubber {
    pub(crate) fn new(cfg: &OtlpConfig) -> Self {
        Self {
            secrets: cfg.endpoint_secrets(),
        }
    }

    /// `text` with every secret replaced by `***`.
    pub(crate) fn scrub(&self, text: impl Into<String>) -> String {
        let mut text = text.into();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), MASK);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn every_form_of_the_password_is_replaced() {
        let cfg = Config::from_lookup(|k| {
            (k == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "https://u:a%2Fb-c@collector".to_owned())
        })
        .unwrap();
        let s = Scrubber::new(&cfg.telemetry.otlp);
        assert_eq!(
            s.scrub("invalid endpoint 'https://u:a%2Fb-c@collector/v1/traces', password: Some(\"a/b-c\")"),
            "invalid endpoint 'https://u:***@collector/v1/traces', password: Some(\"***\")"
        );
        assert_eq!(format!("{s:?}"), "Scrubber { secrets: 2 }");
        let none = Scrubber::new(&Config::from_lookup(|_| None).unwrap().telemetry.otlp);
        assert_eq!(none.scrub("status 503"), "status 503");
    }
}
