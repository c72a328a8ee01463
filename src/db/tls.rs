//! TLS per `sslmode`, through rustls, as libpq does it.
//!
//! - `prefer` and `require` encrypt without verifying the server's
//!   certificate. rustls has no "encrypt but don't verify" mode, so they use
//!   a verifier that accepts any certificate while still checking the
//!   handshake signatures.
//! - `verify-ca` verifies the chain against the roots, not the host name.
//! - `verify-full` verifies the chain and the host name.
//!
//! The roots are the PEM file of `sslrootcert` (libpq's parameter), or the
//! system's when it is absent or `system`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::error::BuildError;
use crate::config::SslMode;

/// The connector for `mode`, or `None` for plain TCP.
pub(crate) fn connector(
    mode: SslMode,
    root_cert: Option<&str>,
) -> Result<Option<MakeRustlsConnect>, BuildError> {
    let provider = crate::tls::provider();
    let builder = crate::tls::builder().map_err(BuildError::Tls)?;
    let config = match mode {
        SslMode::Disable => return Ok(None),
        SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier {
                provider,
                roots: None,
            }))
            .with_no_client_auth(),
        SslMode::VerifyCa => {
            let roots = Arc::new(roots("verify-ca", root_cert)?);
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Verifier {
                    provider,
                    roots: Some(roots),
                }))
                .with_no_client_auth()
        }
        SslMode::VerifyFull => builder
            .with_root_certificates(roots("verify-full", root_cert)?)
            .with_no_client_auth(),
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// The trust anchors: `sslrootcert`'s PEM file, or the system's.
fn roots(mode: &'static str, root_cert: Option<&str>) -> Result<RootCertStore, BuildError> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) if path != "system" => {
            let bad = |reason: String| BuildError::RootCert {
                path: path.to_owned(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad("no usable certificate in it".into()));
            }
        }
        _ => {
            roots = crate::tls::system_roots();
            if roots.is_empty() {
                return Err(BuildError::NoSystemRoots { mode });
            }
        }
    }
    Ok(roots)
}

/// `require` (no `roots`: encryption without identity) and `verify-ca`
/// (the chain must lead to one of `roots`; the name is not checked).
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    roots: Option<Arc<RootCertStore>>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
