//! The reference control plane: the server side of the sync protocol, for the tests and the
//! demo. It is not shipped in the appliance's package.
//!
//! It speaks the same protocol over real QUIC and mutual TLS, signs enrollment requests with
//! its small CA, stores what it receives in SQLite applying each idempotency key once, and
//! pushes queued settings and commands. A connection is bound to the appliance id its
//! verified certificate names; a hello claiming another id is refused.

mod ca;
mod connection;
mod store;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use ca::{Authority, CaError, Issued};
pub use store::{Store, StoreError, StoredRecord};

use crate::tls::{self, Identity, TlsError};

/// Faults a test can switch on.
#[derive(Debug, Default)]
pub struct Faults {
    /// Store the next batch, then drop the connection instead of acknowledging it.
    pub drop_next_ack: AtomicBool,
}

/// What the connections share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) ca: Authority,
    pub(crate) faults: Arc<Faults>,
    pub(crate) certificate_validity_ms: i64,
}

/// What can go wrong starting the control plane.
#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The UDP socket could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The CA failed.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A running control plane.
#[derive(Debug)]
pub struct Running {
    endpoint: quinn::Endpoint,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, std::io::Error> {
        self.endpoint.local_addr()
    }

    /// Stops as a crash would: every connection is dropped mid-stream, without an
    /// acknowledgement for what it was sending. Returns once the UDP socket is released.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        self.endpoint.close(0u32.into(), b"stopped");
        self.endpoint.wait_idle().await;
    }

    /// Waits until the endpoint stops accepting.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Starts serving on `listen` with the server identity `server`, the CA `ca`, storing in
/// `store`. Certificates it issues at enrollment are valid `certificate_validity_ms`.
pub fn start(
    listen: SocketAddr,
    server: &Identity,
    ca: Authority,
    store: Arc<Store>,
    faults: Arc<Faults>,
    certificate_validity_ms: i64,
) -> Result<Running, ControlPlaneError> {
    let roots = tls::certificates_from_pem(&ca.certificate_pem())?;
    let config = tls::control_plane_server(&roots, server)?;
    let endpoint =
        quinn::Endpoint::server(config, listen).map_err(|e| ControlPlaneError::Bind(listen, e))?;
    let shared = Arc::new(Shared {
        store,
        ca,
        faults,
        certificate_validity_ms,
    });
    let accepting = endpoint.clone();
    let task = tokio::spawn(async move {
        // Connections live in this set, so aborting the task drops them all.
        let mut connections = tokio::task::JoinSet::new();
        while let Some(incoming) = accepting.accept().await {
            connections.spawn(connection::serve(incoming, shared.clone()));
            while connections.try_join_next().is_some() {}
        }
    });
    Ok(Running { endpoint, task })
}

/// The files of a control plane's directory.
pub struct Directory;

impl Directory {
    /// Makes a CA and a server certificate for `hosts` in `dir`, valid ten years from
    /// `now_ms`.
    pub fn init(dir: &Path, hosts: &[String], now_ms: i64) -> Result<(), ControlPlaneError> {
        const TEN_YEARS_MS: i64 = 10 * 365 * 24 * 3600 * 1000;
        let ca = Authority::generate("diala control plane CA", now_ms, now_ms + TEN_YEARS_MS)?;
        let (server, server_key) = ca.issue_server(hosts, now_ms, now_ms + TEN_YEARS_MS)?;
        write(&dir.join("ca.pem"), &ca.certificate_pem(), 0o644)?;
        write(&dir.join("ca.key"), &ca.key_pem(), 0o600)?;
        write(&dir.join("server.pem"), &server.certificate_pem, 0o644)?;
        write(&dir.join("server.key"), &server_key, 0o600)?;
        Ok(())
    }

    /// Reads the CA, the server identity and opens the store of `dir`.
    pub fn open(dir: &Path) -> Result<(Authority, Identity, Arc<Store>), ControlPlaneError> {
        let ca = Authority::from_pem(&read(&dir.join("ca.pem"))?, &read(&dir.join("ca.key"))?)?;
        let server = Identity::from_pem(
            &read(&dir.join("server.pem"))?,
            &read(&dir.join("server.key"))?,
        )?;
        let store = Arc::new(Store::open(&dir.join("store.db"))?);
        Ok((ca, server, store))
    }
}

fn read(path: &Path) -> Result<String, ControlPlaneError> {
    std::fs::read_to_string(path).map_err(|e| ControlPlaneError::Io(path.display().to_string(), e))
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), ControlPlaneError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e| ControlPlaneError::Io(path.display().to_string(), e);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}
