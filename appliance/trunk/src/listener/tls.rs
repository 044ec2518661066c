//! The listener's TLS settings: TLS 1.2 and 1.3 only, HTTP/1.1, a certificate that can be
//! replaced while running (on SIGHUP) without dropping connections already open.

use std::sync::{Arc, PoisonError, RwLock};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The PEM text holds no certificate or no private key.
    #[error("trunk TLS {0} is missing or not PEM: give the certificate chain and its key in PEM")]
    Pem(&'static str),
    /// rustls refused the certificate and key.
    #[error(
        "trunk TLS certificate or key refused ({0}): check that the key matches the certificate"
    )]
    Refused(#[from] rustls::Error),
}

/// A server configuration from a PEM certificate chain and PEM private key.
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Pem("certificate"))?;
    if chain.is_empty() {
        return Err(TlsError::Pem("certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsError::Pem("key"))?;
    server_config_der(chain, key)
}

/// A server configuration from DER: TLS 1.3 and 1.2, no client certificates, HTTP/1.1.
pub fn server_config_der(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The TLS configuration new connections get; [`ServerTls::replace`] swaps it on reload.
#[derive(Clone, Debug)]
pub struct ServerTls(Arc<RwLock<Arc<ServerConfig>>>);

impl ServerTls {
    /// Starts with `config`.
    pub fn new(config: Arc<ServerConfig>) -> Self {
        Self(Arc::new(RwLock::new(config)))
    }

    /// Uses `config` for every connection accepted from now on.
    pub fn replace(&self, config: Arc<ServerConfig>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = config;
    }

    pub(crate) fn current(&self) -> Arc<ServerConfig> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
