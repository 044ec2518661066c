//! The appliance's sync client: one task that keeps a connection to the control plane, sends
//! the outboxes in acknowledged batches, applies what the control plane pushes, and comes back
//! after every failure with backoff and jitter.
//!
//! Records leave the outbox only when a batch that carried them is acknowledged; everything in
//! flight on a lost connection is released and sent again on the next one, so delivery is
//! at-least-once and the idempotency keys make it exactly-once at the control plane. A revoked
//! or expired certificate, or a control plane that refuses this appliance, stops sync and
//! raises an alert instead of retrying forever. It never logs record content.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use diala_vault::{Clock, VaultError};
use tokio::sync::{mpsc, watch};

use crate::backoff::Backoff;
use crate::commands::{CommandHooks, result_of};
use crate::identity::SyncIdentity;
use crate::net::{DialError, dial};
use crate::outbound::Outbound;
use crate::protocol::{
    ApplianceMessage, Batch, ControlMessage, Decoded, FrameError, Health, Hello, PROTOCOL_VERSION,
    read_message, write_message,
};
use crate::status::{ConnectionState, SyncStatus};
use crate::tls::{self, TlsError};
use crate::window::{Claim, Window};

/// TLS alerts after which retrying cannot help: the certificate is revoked or expired.
const FATAL_TLS_ALERTS: [u8; 2] = [44, 45];
/// Command ids remembered, so a command re-sent after a lost result is not run twice.
const REMEMBERED_COMMANDS: usize = 1024;

/// How the client paces itself.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// The most records in a batch (the control plane may ask for fewer).
    pub max_batch: usize,
    /// The most unacknowledged batches (the control plane may ask for fewer).
    pub window: usize,
    /// How often an idle client looks for new records.
    pub poll: Duration,
    /// How often the client sends its health.
    pub health_every: Duration,
    /// The wait after a failure.
    pub backoff: Backoff,
    /// How long a connection attempt may take before it counts as failed.
    pub connect_timeout: Duration,
    /// The daemon's version, sent in the hello.
    pub software: String,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            max_batch: 256,
            window: 4,
            poll: Duration::from_secs(1),
            health_every: Duration::from_secs(60),
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(300)),
            connect_timeout: Duration::from_secs(10),
            software: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The control plane could not be reached or the handshake failed.
    #[error(transparent)]
    Dial(#[from] DialError),
    /// The connection failed after the handshake.
    #[error("the connection to the control plane was lost: {0}")]
    Lost(String),
    /// A frame could not be read or written.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// TLS could not be set up from the identity files.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Retrying cannot help: the sysadmin must act (re-enroll, or ask why the control plane
    /// refuses this appliance).
    #[error("sync stopped: {0}; re-enroll this appliance with `diala-edge enroll`")]
    Stopped(String),
}

/// The sync task's parts.
pub struct SyncClient {
    identity: SyncIdentity,
    outbound: Outbound,
    hooks: Arc<dyn CommandHooks>,
    settings: SyncSettings,
    clock: Arc<dyn Clock>,
    status: watch::Sender<SyncStatus>,
    done_commands: VecDeque<String>,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient").finish_non_exhaustive()
    }
}

impl SyncClient {
    /// A client for `identity`, sending `outbound`, applying pushes with `hooks`.
    pub fn new(
        identity: SyncIdentity,
        outbound: Outbound,
        hooks: Arc<dyn CommandHooks>,
        settings: SyncSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let status = SyncStatus {
            certificate_expires_ms: Some(identity.facts.not_after_ms),
            ..SyncStatus::default()
        };
        SyncClient {
            identity,
            outbound,
            hooks,
            settings,
            clock,
            status: watch::Sender::new(status),
            done_commands: VecDeque::new(),
        }
    }

    /// A view of the client's state, for `sync status` and metrics.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Runs until `shutdown` turns true or sync stops for good; returns why it stopped.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), SyncError> {
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let mut window = Window::new(self.settings.window);
            let result = self.session(&mut window, &mut shutdown).await;
            self.outbound.release(&window.drain())?;
            let error = match result {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if let SyncError::Stopped(reason) = &error {
                self.alert(reason);
                return Err(error);
            }
            let wait = self.settings.backoff.next_delay(rand::random());
            let retry_in_ms = wait.as_millis();
            tracing::warn!(error = %error, retry_in_ms, "control plane unreachable");
            self.update(|s| {
                s.state = ConnectionState::Offline;
                s.last_error = Some(error.to_string());
                s.reconnects += 1;
            });
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    fn alert(&self, reason: &str) {
        tracing::error!(
            alert = "sync-stopped",
            reason,
            "sync with the control plane stopped"
        );
        self.update(|s| {
            s.state = ConnectionState::Stopped;
            s.last_error = Some(reason.to_owned());
            s.alerts += 1;
        });
    }

    fn update(&self, change: impl FnOnce(&mut SyncStatus)) {
        self.status.send_modify(change);
    }

    async fn session(
        &mut self,
        window: &mut Window,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), SyncError> {
        if self.clock.now_ms() >= self.identity.facts.not_after_ms {
            return Err(SyncError::Stopped(
                "the client certificate has expired".to_owned(),
            ));
        }
        self.update(|s| s.state = ConnectionState::Connecting);
        let config = tls::sync_client(&self.identity.ca, &self.identity.identity)?;
        let attempt = dial(&self.identity.control_plane, config);
        let (endpoint, connection) = tokio::time::timeout(self.settings.connect_timeout, attempt)
            .await
            .map_err(|_| SyncError::Lost("no answer from the control plane".to_owned()))?
            .map_err(fatal_if_refused)?;
        let result = self.converse(&connection, window, shutdown).await;
        connection.close(0u32.into(), b"bye");
        drop(endpoint);
        result
    }

    async fn converse(
        &mut self,
        connection: &quinn::Connection,
        window: &mut Window,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), SyncError> {
        let lost = |e: &dyn std::fmt::Display| SyncError::Lost(e.to_string());
        let (mut send, recv) = connection.open_bi().await.map_err(|e| lost(&e))?;
        let hello = ApplianceMessage::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            appliance_id: self.identity.facts.appliance_id.clone(),
            software: self.settings.software.clone(),
        });
        write_message(&mut send, &hello).await?;
        let mut inbox = spawn_reader(recv);
        let welcome = match inbox.recv().await {
            Some(Ok(Decoded::Known(ControlMessage::Welcome(w)))) => w,
            Some(Ok(Decoded::Known(ControlMessage::Error(e)))) => {
                return Err(refusal(&e.code, &e.message));
            }
            Some(Err(e)) => return Err(e.into()),
            _ => {
                return Err(SyncError::Lost(
                    "no welcome from the control plane".to_owned(),
                ));
            }
        };
        let max_batch = self
            .settings
            .max_batch
            .min(welcome.max_batch as usize)
            .max(1);
        *window = Window::new(self.settings.window.min(welcome.window as usize));
        self.settings.backoff.reset();
        self.update(|s| {
            s.state = ConnectionState::Connected;
            s.last_error = None;
        });
        tracing::info!("connected to the control plane");
        self.send_health(&mut send).await?;
        let mut health = tokio::time::interval(self.settings.health_every);
        health.tick().await;

        loop {
            while window.has_room() {
                let batch = self.outbound.next_batch(max_batch)?;
                if batch.is_empty() {
                    break;
                }
                let (claims, records): (Vec<Claim>, Vec<_>) = batch.into_iter().unzip();
                let batch = window.open(claims);
                write_message(
                    &mut send,
                    &ApplianceMessage::Batch(Batch { batch, records }),
                )
                .await?;
            }
            let waiting_for_acks = !window.has_room() || window.in_flight() == 0;
            tokio::select! {
                message = inbox.recv() => match message {
                    Some(Ok(message)) => self.handle(message, window, &mut send).await?,
                    Some(Err(e)) => return Err(e.into()),
                    None => {
                        let closed = "the control plane closed the stream".to_owned();
                        return Err(SyncError::Lost(closed));
                    }
                },
                () = tokio::time::sleep(self.settings.poll), if waiting_for_acks => {}
                _ = health.tick() => self.send_health(&mut send).await?,
                _ = shutdown.changed() => {
                    let _ = send.finish();
                    return Ok(());
                }
            }
        }
    }

    async fn handle(
        &mut self,
        message: Decoded<ControlMessage>,
        window: &mut Window,
        send: &mut quinn::SendStream,
    ) -> Result<(), SyncError> {
        match message {
            Decoded::Known(ControlMessage::Ack(ack)) => {
                if let Some(claims) = window.ack(ack.batch) {
                    self.outbound.ack(&claims)?;
                    self.update(|s| {
                        s.delivered += u64::from(ack.applied);
                        s.duplicates += u64::from(ack.duplicates);
                    });
                }
            }
            Decoded::Known(ControlMessage::Settings(settings)) => {
                let id = settings.id.clone();
                let outcome = self.once(&id, |hooks| hooks.apply_settings(&settings));
                let result = ApplianceMessage::CommandResult(result_of(&id, outcome));
                write_message(send, &result).await?;
            }
            Decoded::Known(ControlMessage::Command(command)) => {
                let id = command.id.clone();
                let outcome = self.once(&id, |hooks| hooks.run(&command));
                let result = ApplianceMessage::CommandResult(result_of(&id, outcome));
                write_message(send, &result).await?;
            }
            Decoded::Known(ControlMessage::Error(e)) if e.fatal => {
                return Err(refusal(&e.code, &e.message));
            }
            Decoded::Known(ControlMessage::Error(e)) => {
                tracing::warn!(code = %e.code, "the control plane reported an error");
            }
            Decoded::Known(ControlMessage::Welcome(_)) => {}
            Decoded::Unknown(kind) => {
                tracing::debug!(%kind, "skipped a message of an unknown type");
                self.update(|s| s.unknown_messages += 1);
            }
        }
        Ok(())
    }

    /// Runs a push or command unless its id was already run; a repeat reports success.
    fn once(
        &mut self,
        id: &str,
        run: impl FnOnce(&dyn CommandHooks) -> Result<(), String>,
    ) -> Result<(), String> {
        if self.done_commands.iter().any(|done| done == id) {
            return Ok(());
        }
        let outcome = run(self.hooks.as_ref());
        if outcome.is_ok() {
            self.done_commands.push_back(id.to_owned());
            if self.done_commands.len() > REMEMBERED_COMMANDS {
                self.done_commands.pop_front();
            }
        }
        outcome
    }

    async fn send_health(&self, send: &mut quinn::SendStream) -> Result<(), SyncError> {
        let (pending, oldest) = self.outbound.depth()?;
        self.update(|s| {
            s.outbox_pending = pending;
            s.outbox_oldest_ms = oldest;
        });
        let health = ApplianceMessage::Health(Health {
            at_ms: self.clock.now_ms(),
            outbox_pending: pending,
            outbox_oldest_ms: oldest,
            accepting_calls: true,
            certificate_expires_ms: self.identity.facts.not_after_ms,
        });
        write_message(send, &health).await.map_err(SyncError::from)
    }
}

/// The error codes after which retrying cannot help.
fn refusal(code: &str, message: &str) -> SyncError {
    const FATAL: [&str; 5] = [
        "client-certificate-required",
        "certificate-revoked",
        "unknown-certificate",
        "appliance-mismatch",
        "unsupported-version",
    ];
    if FATAL.contains(&code) {
        SyncError::Stopped(format!(
            "the control plane refused this appliance ({code}): {message}"
        ))
    } else {
        SyncError::Lost(format!("the control plane reported `{code}`: {message}"))
    }
}

fn fatal_if_refused(error: DialError) -> SyncError {
    if let DialError::Handshake(quinn::ConnectionError::TransportError(e)) = &error {
        let code = u64::from(e.code);
        if (0x100..0x200).contains(&code)
            && FATAL_TLS_ALERTS
                .iter()
                .any(|a| u64::from(*a) == code - 0x100)
        {
            return SyncError::Stopped(format!("the control plane refused the certificate: {e}"));
        }
    }
    if let DialError::Handshake(quinn::ConnectionError::ConnectionClosed(close)) = &error {
        let code = u64::from(close.error_code);
        if (0x100..0x200).contains(&code)
            && FATAL_TLS_ALERTS
                .iter()
                .any(|a| u64::from(*a) == code - 0x100)
        {
            return SyncError::Stopped(format!(
                "the control plane refused the certificate: {close}"
            ));
        }
    }
    SyncError::Dial(error)
}

type Inbox = mpsc::Receiver<Result<Decoded<ControlMessage>, FrameError>>;

/// Reads frames on their own task, so a read is never cut in half by a `select!`.
fn spawn_reader(mut recv: quinn::RecvStream) -> Inbox {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let message = read_message::<ControlMessage, _>(&mut recv).await;
            let end = !matches!(message, Ok(Some(_)));
            let item = match message {
                Ok(Some(m)) => Ok(m),
                Ok(None) => break,
                Err(e) => Err(e),
            };
            if tx.send(item).await.is_err() || end {
                break;
            }
        }
    });
    rx
}
