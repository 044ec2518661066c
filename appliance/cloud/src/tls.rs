//! TLS for both ends of the sync connection: TLS 1.3 only, ring as the crypto provider.
//!
//! The appliance trusts exactly one CA, the control plane's, pinned at enrollment; no system
//! roots are ever loaded. It presents its own certificate on sync connections. The control
//! plane verifies client certificates against its CA and reads the appliance id from the
//! certificate's common name, which it wrote itself when it signed the request. This module
//! never logs or returns private key material.

use std::sync::Arc;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::protocol::{ALPN_ENROLL, ALPN_SYNC};

/// What can go wrong setting TLS up or reading a certificate.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file held no certificate or key of the expected kind.
    #[error("{0}: expected a PEM {1}; re-run enrollment or check the file")]
    Pem(String, &'static str),
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built from the CA.
    #[error("the CA certificate cannot verify clients: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// quinn refused the TLS configuration (it needs TLS 1.3).
    #[error("QUIC refused the TLS configuration: {0}")]
    Quic(String),
    /// A certificate did not parse as X.509.
    #[error("a certificate does not parse as X.509: {0}")]
    BadCertificate(String),
    /// A certificate had no common name to take the appliance id from.
    #[error("the certificate names no appliance (no common name)")]
    NoApplianceId,
}

/// A certificate chain and the private key that goes with its first certificate.
pub struct Identity {
    /// The certificate first, then any intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key, PKCS#8.
    pub key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("chain", &self.chain.len())
            .field("key", &"[redacted]")
            .finish()
    }
}

impl Identity {
    /// Reads a chain and a key from PEM text.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, TlsError> {
        let chain = certificates_from_pem(chain_pem)?;
        let key = rustls::pki_types::pem::PemObject::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| TlsError::Pem("private key".to_owned(), "PKCS#8 private key"))?;
        Ok(Identity { chain, key })
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// Every certificate in PEM text, in order.
pub fn certificates_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsError::Pem("certificate".to_owned(), "certificate"))?;
    if chain.is_empty() {
        return Err(TlsError::Pem("certificate".to_owned(), "certificate"));
    }
    Ok(chain)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca: &[CertificateDer<'static>]) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in ca {
        roots.add(cert.clone())?;
    }
    Ok(roots)
}

/// The appliance's sync client: presents `identity`, trusts only `ca`.
pub fn sync_client(
    ca: &[CertificateDer<'static>],
    identity: &Identity,
) -> Result<quinn::ClientConfig, TlsError> {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots(ca)?)
        .with_client_auth_cert(identity.chain.clone(), identity.key())?;
    tls.alpn_protocols = vec![ALPN_SYNC.to_vec()];
    quic_client(tls)
}

/// The appliance's enrollment client: no certificate of its own yet, trusts only `ca`.
pub fn enroll_client(ca: &[CertificateDer<'static>]) -> Result<quinn::ClientConfig, TlsError> {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots(ca)?)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN_ENROLL.to_vec()];
    quic_client(tls)
}

fn quic_client(tls: rustls::ClientConfig) -> Result<quinn::ClientConfig, TlsError> {
    let quic = QuicClientConfig::try_from(tls).map_err(|e| TlsError::Quic(e.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(quic));
    // An idle sync connection (nothing to send for a while) must not time out: keep-alives
    // well inside quinn's default 30 s idle timeout.
    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(std::time::Duration::from_secs(10)));
    config.transport_config(Arc::new(transport));
    Ok(config)
}

/// The control plane's server: presents `identity`, verifies client certificates against `ca`.
/// A client without a certificate completes the handshake only to enroll: the connection
/// handler refuses sync to any connection that has no verified certificate.
pub fn control_plane_server(
    ca: &[CertificateDer<'static>],
    identity: &Identity,
) -> Result<quinn::ServerConfig, TlsError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
        .allow_unauthenticated()
        .build()?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key())?;
    tls.alpn_protocols = vec![ALPN_SYNC.to_vec(), ALPN_ENROLL.to_vec()];
    let quic = QuicServerConfig::try_from(tls).map_err(|e| TlsError::Quic(e.to_string()))?;
    Ok(quinn::ServerConfig::with_crypto(Arc::new(quic)))
}

/// What the control plane reads from a verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The appliance id (the common name).
    pub appliance_id: String,
    /// The serial number, hex.
    pub serial: String,
    /// The end of validity, in milliseconds since the Unix epoch.
    pub not_after_ms: i64,
}

/// Reads the appliance id, serial and expiry of a certificate.
pub fn certificate_facts(der: &[u8]) -> Result<CertificateFacts, TlsError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| TlsError::BadCertificate(e.to_string()))?;
    let appliance_id = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .ok_or(TlsError::NoApplianceId)?
        .to_owned();
    let not_after_ms = cert.validity().not_after.timestamp().saturating_mul(1000);
    Ok(CertificateFacts {
        appliance_id,
        serial: cert.raw_serial_as_string().replace(':', ""),
        not_after_ms,
    })
}
