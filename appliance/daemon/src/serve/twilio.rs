//! The Twilio trunk in the running daemon: its accounts and TLS from the configuration and the
//! secrets, its HTTPS listener bound before root is dropped, its streams fed to the call
//! pipeline, and its certificate, key and tokens reloaded on SIGHUP.
//!
//! Auth tokens and the TLS private key come only from the secrets directory, read by the
//! secrets loader's checks (mode, owner, size). A reload that cannot read them keeps what runs:
//! new handshakes use a new certificate only once it loaded, and open calls are never touched.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diala_trunk::listener::{ServerTls, SharedTrunk, TlsError, TrunkMetrics, server_config};
use diala_trunk::twilio::signature::Algorithm;
use diala_trunk::twilio::{
    Account, Accounts, AuthToken, ReplayGuard, StreamMode, StreamTokens, TwilioTrunk, Verifier,
};
use rustls::ServerConfig;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::call::{Calls, twilio as call_twilio};
use crate::config::{self, Config, TwilioSection};
use crate::secrets::{self, SecretsError};

/// The secret holding the listener's PEM private key.
pub const TLS_KEY_SECRET: &str = "twilio-tls-key";
/// How long a stream token in a TwiML answer stays good: Twilio opens the stream at once.
const STREAM_TOKEN_LIFE: Duration = Duration::from_secs(60);
/// How long a seen signature is remembered, and how many are: well past Twilio's retries.
const REPLAY_WINDOW: Duration = Duration::from_secs(600);
const REPLAY_CAPACITY: usize = 100_000;
/// Stream updates waiting for the call pipeline; it takes them without waiting on calls.
const UPDATE_QUEUE: usize = 1024;

/// The secret holding `tenant`'s primary auth token.
pub fn token_secret(tenant: &str) -> String {
    format!("twilio-{tenant}-auth-token")
}

/// The secret holding `tenant`'s secondary auth token, present during a rotation.
pub fn secondary_token_secret(tenant: &str) -> String {
    format!("twilio-{tenant}-auth-token-secondary")
}

/// Why the Twilio trunk could not be set up or reloaded.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// A secret (token or key) is missing or unsafe.
    #[error(transparent)]
    Secret(#[from] SecretsError),
    /// The certificate file could not be read.
    #[error("cannot read twilio.certificate {path}: {source}")]
    Certificate {
        /// The certificate file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The certificate and key do not make a TLS configuration.
    #[error("twilio listener: {0}")]
    Tls(#[from] TlsError),
    /// The listener's address could not be bound.
    #[error("cannot listen on twilio.listen {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The TLS configuration from `twilio.certificate` and the key secret.
fn tls(
    config_path: &Path,
    section: &TwilioSection,
    dir: &Path,
) -> Result<Arc<ServerConfig>, TwilioError> {
    let path = section.certificate_path(config_path);
    let chain = std::fs::read(&path).map_err(|source| TwilioError::Certificate { path, source })?;
    let key = secrets::read_secret(&dir.join(TLS_KEY_SECRET))?;
    Ok(server_config(&chain, &key)?)
}

/// Every configured tenant's Twilio account, with its tokens from the secrets directory.
fn accounts(config: &Config, dir: &Path) -> Result<Accounts, TwilioError> {
    let mut accounts = Accounts::new();
    for tenant in &config.tenants {
        let Some(twilio) = &tenant.twilio else {
            continue;
        };
        let id = tenant.id.get_ref().as_str();
        let primary = AuthToken::new(trimmed(secrets::read_secret(&dir.join(token_secret(id)))?));
        let secondary_path = dir.join(secondary_token_secret(id));
        let secondary = match secondary_path.exists() {
            true => Some(AuthToken::new(trimmed(secrets::read_secret(
                &secondary_path,
            )?))),
            false => None,
        };
        // The configuration was validated, so every answer here is well formed.
        let mode = |answer, dial| config::stream_mode(answer, dial).ok();
        let numbers = twilio.numbers.iter().filter_map(|n| {
            let mode = mode(&n.answer, n.dial.as_ref())?;
            Some((n.number.get_ref().0.clone(), mode))
        });
        let account = Account {
            tenant: id.to_owned(),
            primary,
            secondary,
            algorithm: Algorithm::HmacSha1,
            mode: mode(&twilio.answer, twilio.dial.as_ref()).unwrap_or(StreamMode::Connect),
            numbers: numbers.collect(),
        };
        accounts.insert(twilio.account_sid.get_ref().0.clone(), account);
    }
    Ok(accounts)
}

/// A token file written with `echo` ends in a newline that is not part of the token.
fn trimmed(bytes: zeroize::Zeroizing<Vec<u8>>) -> Vec<u8> {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    bytes.get(..end).unwrap_or_default().to_vec()
}

/// The Twilio trunk, bound and ready to serve.
pub struct TwilioListener {
    listener: TcpListener,
    addr: SocketAddr,
    tls: ServerTls,
    trunk: SharedTrunk,
    metrics: Arc<TrunkMetrics>,
}

impl TwilioListener {
    /// Reads the trunk's secrets and certificate and binds its address; `None` without a
    /// `[twilio]` section.
    pub fn bind(config_path: &Path, config: &Config) -> Result<Option<Self>, TwilioError> {
        let Some(section) = &config.twilio else {
            return Ok(None);
        };
        let dir = secrets::configured_directory(config_path, config)?;
        let tls = ServerTls::new(tls(config_path, section, &dir)?);
        let verifier = Verifier::new(section.public_url.0.clone(), accounts(config, &dir)?);
        let trunk = TwilioTrunk::new(
            verifier,
            ReplayGuard::new(REPLAY_WINDOW, REPLAY_CAPACITY),
            StreamTokens::random(STREAM_TOKEN_LIFE),
        );
        let bind = |source| TwilioError::Bind {
            addr: section.listen,
            source,
        };
        let listener = TcpListener::bind(section.listen).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        Ok(Some(TwilioListener {
            listener,
            addr,
            tls,
            trunk: Arc::new(Mutex::new(trunk)),
            metrics: Arc::new(TrunkMetrics::default()),
        }))
    }

    /// The bound address (the real port when the configuration says 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The trunk's counters, for the metrics endpoint.
    pub fn metrics(&self) -> Arc<TrunkMetrics> {
        self.metrics.clone()
    }

    /// Serves until `stop`, feeding its streams to `calls`; returns what a reload needs.
    pub fn spawn(
        self,
        calls: Calls,
        tasks: &TaskTracker,
        stop: CancellationToken,
    ) -> std::io::Result<TwilioReload> {
        let listener = tokio::net::TcpListener::from_std(self.listener)?;
        let (updates, received) = mpsc::channel(UPDATE_QUEUE);
        let router =
            diala_trunk::listener::shared_router(self.trunk.clone(), self.metrics.clone(), updates);
        let stopped = stop.clone().cancelled_owned();
        tasks.spawn(diala_trunk::listener::serve(
            listener,
            self.tls.clone(),
            router,
            stopped,
        ));
        tasks.spawn(call_twilio::feed(calls, received, stop));
        Ok(TwilioReload {
            tls: self.tls,
            trunk: self.trunk,
        })
    }
}

/// What SIGHUP replaces in the running trunk.
pub struct TwilioReload {
    tls: ServerTls,
    trunk: SharedTrunk,
}

impl TwilioReload {
    /// Re-reads the certificate, key and tokens for `config`; on any error nothing changes.
    pub fn apply(&self, config_path: &Path, config: &Config) -> Result<(), TwilioError> {
        let Some(section) = &config.twilio else {
            return Ok(());
        };
        let dir = secrets::configured_directory(config_path, config)?;
        let tls = tls(config_path, section, &dir)?;
        let accounts = accounts(config, &dir)?;
        self.tls.replace(tls);
        self.trunk
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace_accounts(accounts);
        tracing::info!("twilio certificate, key and auth tokens reloaded");
        Ok(())
    }
}
