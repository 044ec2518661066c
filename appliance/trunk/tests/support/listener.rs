//! A Twilio listener on loopback with a test-made certificate, and a TLS client that trusts
//! only the certificate it is given.

use std::net::SocketAddr;
use std::sync::Arc;

use diala_trunk::listener::{ServerTls, StreamUpdate, TrunkMetrics, router, serve, server_config};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::trunk;

pub struct Cert {
    pub der: CertificateDer<'static>,
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn cert() -> Cert {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    Cert {
        der: made.cert.der().clone(),
        cert_pem: made.cert.pem(),
        key_pem: made.key_pair.serialize_pem(),
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub tls: ServerTls,
    pub metrics: Arc<TrunkMetrics>,
    pub updates: mpsc::Receiver<StreamUpdate>,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start(cert: &Cert) -> Server {
    let config = server_config(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    let tls = ServerTls::new(config);
    let metrics = Arc::new(TrunkMetrics::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let (updates_tx, updates) = mpsc::channel(64);
    let app = router(trunk(), metrics.clone(), updates_tx);
    let task = tokio::spawn(serve(listener, tls.clone(), app, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        tls,
        metrics,
        updates,
        stop: Some(stop),
        task,
    }
}

/// A TLS connection to `addr` trusting only `trusted`.
pub async fn connect(addr: SocketAddr, trusted: &CertificateDer<'static>) -> TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}

/// Sends one raw HTTP/1.1 request over TLS; returns the raw response.
pub async fn request(addr: SocketAddr, trusted: &CertificateDer<'static>, raw: &str) -> String {
    let mut tls = connect(addr, trusted).await;
    tls.write_all(raw.as_bytes()).await.unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    response
}
