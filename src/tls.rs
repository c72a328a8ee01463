//! rustls on the `ring` provider, named explicitly everywhere wingspan builds
//! a TLS client (the OTLP exporters, the database, the cache, the outgoing
//! HTTP client): with more than one provider compiled into an application
//! (here `ring`, and `aws-lc-rs` through a dependency's defaults), rustls'
//! implicit `ClientConfig::builder()` panics.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, ConfigBuilder, RootCertStore, WantsVerifier};

/// The `ring` provider.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client config builder on [`provider`] with the safe protocol versions,
/// for a caller that chooses its own verifier.
pub(crate) fn builder() -> Result<ConfigBuilder<ClientConfig, WantsVerifier>, rustls::Error> {
    ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()
}

/// The system's trust anchors; a certificate that does not parse is skipped
/// (as rustls-native-certs users do), and the others still verify servers.
pub(crate) fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots
}

/// A client config that verifies servers against `roots`, without client
/// certificates.
pub(crate) fn client_config(roots: RootCertStore) -> Result<ClientConfig, rustls::Error> {
    Ok(builder()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A client certificate chain and its private key, for mutual TLS.
pub(crate) type Identity = (
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
);

/// [`client_config`], presenting `identity` when the server asks for a
/// client certificate.
pub(crate) fn client_config_with_identity(
    roots: RootCertStore,
    identity: Option<Identity>,
) -> Result<ClientConfig, rustls::Error> {
    match identity {
        None => client_config(roots),
        Some((chain, key)) => builder()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key),
    }
}

/// Installs [`provider`] as the process default when the application has
/// installed none, for libraries that rely on the implicit default.
pub(crate) fn install_default() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_config_builds_without_a_process_default_provider() {
        assert!(super::client_config(super::system_roots()).is_ok());
    }
}
