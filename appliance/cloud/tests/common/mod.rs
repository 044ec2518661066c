//! A reference control plane and an appliance's vaults, made fresh by each test on loopback
//! with certificates made by the test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use diala_cloud::backoff::Backoff;
use diala_cloud::client::{SyncClient, SyncSettings};
use diala_cloud::commands::VaultCommands;
use diala_cloud::control_plane::{self, Authority, Faults, Running, Store};
use diala_cloud::identity::IdentityFiles;
use diala_cloud::outbound::Outbound;
use diala_cloud::status::SyncStatus;
use diala_cloud::tls::Identity;
use diala_redact::{Policy, Redactor, TokenKey};
use diala_vault::{MasterKey, NewCall, NewSegment, SystemClock, VaultOptions, Vaults};
use tokio::sync::watch;

pub const DAY_MS: i64 = 24 * 3600 * 1000;

pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// A control plane's CA, server identity and store, and the running server.
pub struct ControlPlane {
    pub dir: tempfile::TempDir,
    pub ca_pem: String,
    pub ca_key_pem: String,
    pub server: Identity,
    pub store: Arc<Store>,
    pub faults: Arc<Faults>,
    pub running: Option<Running>,
    pub addr: SocketAddr,
}

impl ControlPlane {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        let ca =
            Authority::generate("test control plane CA", now - DAY_MS, now + 365 * DAY_MS).unwrap();
        let (server, key) = ca
            .issue_server(&["localhost".to_owned()], now - DAY_MS, now + 365 * DAY_MS)
            .unwrap();
        let server = Identity::from_pem(&server.certificate_pem, &key).unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
        let mut cp = ControlPlane {
            ca_pem: ca.certificate_pem(),
            ca_key_pem: ca.key_pem(),
            dir,
            server,
            store,
            faults: Arc::new(Faults::default()),
            running: None,
            addr: "127.0.0.1:0".parse().unwrap(),
        };
        cp.start().await;
        cp
    }

    pub fn authority(&self) -> Authority {
        Authority::from_pem(&self.ca_pem, &self.ca_key_pem).unwrap()
    }

    /// Starts (again) on the same port, with the same store.
    pub async fn start(&mut self) {
        // quinn releases the socket of a stopped endpoint when its driver task next runs.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let running = loop {
            match control_plane::start(
                self.addr,
                &self.server,
                self.authority(),
                self.store.clone(),
                self.faults.clone(),
                30 * DAY_MS,
            ) {
                Ok(running) => break running,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    drop(e);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => panic!("the control plane's port stays taken: {e}"),
            }
        };
        self.addr = running.local_addr().unwrap();
        self.running = Some(running);
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    pub fn address(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }
}

/// An appliance: its vaults with one tenant, `acme`.
pub struct Appliance {
    pub dir: tempfile::TempDir,
    pub vaults: Arc<Vaults>,
    pub files: IdentityFiles,
}

impl Appliance {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let options = VaultOptions {
            min_free_bytes: 0,
            outbox_cap: 100_000,
        };
        let master = MasterKey::from_credential(&[3; 32]).unwrap();
        let vaults =
            Arc::new(Vaults::open(dir.path(), master, options, Arc::new(SystemClock)).unwrap());
        vaults.create_tenant("test", "acme", "Acme").unwrap();
        let files = IdentityFiles::in_state_dir(dir.path());
        Appliance { dir, vaults, files }
    }

    pub fn id(&self) -> String {
        self.vaults.appliance_id()
    }

    /// Stores a call of `segments` segments, each saying `text` with its index, redacted by
    /// the tenant's own redactor as the pipeline does.
    pub fn store_call(&self, call: &str, segments: usize, text: &str) {
        let vault = self.vaults.open_tenant("acme").unwrap();
        let key = self.vaults.tenant_token_key("acme").unwrap();
        let redactor = Redactor::new(TokenKey::from_bytes(*key.expose()), Policy::keep_nothing());
        vault
            .begin_call(&NewCall {
                id: call.to_owned(),
                trunk: "pbx".to_owned(),
                started_at_ms: now_ms(),
            })
            .unwrap();
        for i in 0..segments {
            let said = format!("{text} part {i}");
            let redacted = redactor.redact(&said).forward.into_inner();
            let start = i64::try_from(i).unwrap() * 1000;
            let segment = NewSegment {
                track: "caller".to_owned(),
                start_ms: start,
                end_ms: start + 900,
                text: Some(said),
                redacted,
                confidence: 0.9,
            };
            vault.insert_segment(call, &segment).unwrap();
        }
    }

    pub fn pending(&self) -> u64 {
        self.vaults
            .open_tenant("acme")
            .unwrap()
            .outbox_status()
            .unwrap()
            .pending
    }

    /// Starts the sync client; returns its status and the switch that stops it.
    pub fn start_sync(
        &self,
    ) -> (
        watch::Receiver<SyncStatus>,
        watch::Sender<bool>,
        tokio::task::JoinHandle<Result<(), diala_cloud::client::SyncError>>,
    ) {
        let identity = self.files.load().unwrap();
        let outbound = Outbound::new(self.vaults.clone()).unwrap();
        let hooks = Arc::new(VaultCommands::new(self.vaults.clone()));
        let settings = SyncSettings {
            max_batch: 4,
            window: 2,
            poll: Duration::from_millis(20),
            health_every: Duration::from_secs(30),
            backoff: Backoff::new(Duration::from_millis(20), Duration::from_millis(200)),
            connect_timeout: Duration::from_millis(300),
            software: "test".to_owned(),
        };
        let client = SyncClient::new(identity, outbound, hooks, settings, Arc::new(SystemClock));
        let status = client.status();
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(client.run(shutdown));
        (status, stop, task)
    }
}

/// Waits until `check` holds, polling; fails after 30 s.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
