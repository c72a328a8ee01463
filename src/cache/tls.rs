//! `rediss://` over rustls with an explicit crypto provider.
//!
//! fred builds its default rustls config with `ClientConfig::builder()`,
//! which panics when the dependency tree enables more than one rustls
//! provider (here `ring` for fred and `aws-lc-rs` through reqwest) and the
//! application installed no process default. So wingspan parses the URL as
//! `redis://` and adds its own connector, pinned to `ring`.

use fred::types::config::TlsConnector;

use super::error::BuildError;

const TLS_SCHEME: &str = "rediss://";

/// The URL with `rediss://` turned into `redis://`, and whether it was TLS.
pub(crate) fn split_scheme(url: &str) -> (String, bool) {
    match url.strip_prefix(TLS_SCHEME) {
        Some(rest) => (format!("redis://{rest}"), true),
        None => (url.to_owned(), false),
    }
}

/// A rustls connector on the `ring` provider, trusting the system roots.
pub(crate) fn connector() -> Result<TlsConnector, BuildError> {
    let config = crate::tls::client_config(crate::tls::system_roots()).map_err(BuildError::Tls)?;
    Ok(TlsConnector::from(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rediss_becomes_redis_plus_tls() {
        assert_eq!(
            split_scheme("rediss://u:p@h:6380/2"),
            ("redis://u:p@h:6380/2".to_owned(), true)
        );
        assert_eq!(split_scheme("redis://h"), ("redis://h".to_owned(), false));
    }

    #[test]
    fn connector_builds_without_a_process_default_provider() {
        assert!(matches!(connector(), Ok(TlsConnector::Rustls(_))));
    }
}
