//! rustls on the `ring` provider, named explicitly: with more than one
//! provider compiled into an application, rustls' implicit default panics.

use super::HttpError;

pub(super) fn config() -> Result<rustls::ClientConfig, HttpError> {
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped: plain http needs none.
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Build(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
