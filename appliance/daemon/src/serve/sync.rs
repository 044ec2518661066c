//! The sync task of `serve`: started when the appliance is enrolled, it sends the outboxes to
//! the control plane and applies what the control plane pushes (see the `diala-cloud` crate).
//!
//! Its state goes to the metrics and to `state_dir/sync/status.json`, which
//! `diala-edge sync status` reads. A revoked or expired certificate stops sync: the cloud
//! crate logs the alert, and `diala_edge_sync_alerts_total` counts it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diala_cloud::client::{SyncClient, SyncSettings};
use diala_cloud::commands::VaultCommands;
use diala_cloud::identity::IdentityFiles;
use diala_cloud::outbound::{self, Outbound};
use diala_cloud::status::{ConnectionState, SyncStatus};
use diala_vault::{Clock, Vaults};
use prometheus::{IntCounter, IntGauge};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::Metrics;

/// How often the outbox depth is looked at for the status file and metrics.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// The status file, in the sync directory of the state directory.
pub const STATUS_FILE: &str = "sync/status.json";

struct SyncMetrics {
    connected: IntGauge,
    alerts: IntCounter,
    delivered: IntCounter,
    certificate_expiry: IntGauge,
}

impl SyncMetrics {
    fn register(metrics: &Metrics) -> anyhow::Result<Self> {
        let connected = IntGauge::new("sync_connected", "1 while connected to the control plane")?;
        let alerts = IntCounter::new("sync_alerts_total", "Times sync stopped for good")?;
        let delivered = IntCounter::new(
            "sync_delivered_records_total",
            "Records the control plane applied",
        )?;
        let certificate_expiry = IntGauge::new(
            "sync_certificate_expiry_timestamp_seconds",
            "When the client certificate expires",
        )?;
        metrics.register(Box::new(connected.clone()))?;
        metrics.register(Box::new(alerts.clone()))?;
        metrics.register(Box::new(delivered.clone()))?;
        metrics.register(Box::new(certificate_expiry.clone()))?;
        Ok(SyncMetrics {
            connected,
            alerts,
            delivered,
            certificate_expiry,
        })
    }

    fn show(&self, status: &SyncStatus) {
        self.connected
            .set(i64::from(status.state == ConnectionState::Connected));
        self.alerts
            .inc_by(status.alerts.saturating_sub(self.alerts.get()));
        self.delivered
            .inc_by(status.delivered.saturating_sub(self.delivered.get()));
        if let Some(ms) = status.certificate_expires_ms {
            self.certificate_expiry.set(ms / 1000);
        }
    }
}

/// Starts sync under `tasks` when the appliance is enrolled; says why not otherwise.
pub fn spawn(
    tasks: &TaskTracker,
    stop: &CancellationToken,
    vaults: Arc<Vaults>,
    metrics: &Metrics,
    state_dir: &Path,
    clock: Arc<dyn Clock>,
) {
    let files = IdentityFiles::in_state_dir(state_dir);
    if !files.enrolled() {
        tracing::info!("not enrolled with a control plane; sync is off (diala-edge enroll)");
        return;
    }
    let started = (|| -> anyhow::Result<_> {
        let identity = files.load()?;
        let outbound = Outbound::new(vaults.clone())?;
        let hooks = Arc::new(VaultCommands::new(vaults.clone()));
        let client = SyncClient::new(identity, outbound, hooks, SyncSettings::default(), clock);
        Ok((client, SyncMetrics::register(metrics)?))
    })();
    let (client, gauges) = match started {
        Ok(started) => started,
        Err(error) => {
            tracing::error!(alert = "sync-stopped", error = %error, "sync cannot start");
            return;
        }
    };
    let status = client.status();
    let (shutdown, on_shutdown) = watch::channel(false);
    tasks.spawn(async move {
        if let Err(error) = client.run(on_shutdown).await {
            tracing::error!(error = %error, "sync stopped");
        }
    });
    let stopping = stop.clone();
    tasks.spawn(async move {
        stopping.cancelled().await;
        let _ = shutdown.send(true);
    });
    let path = state_dir.join(STATUS_FILE);
    tasks.spawn(report(status, vaults, gauges, path, stop.clone()));
}

/// Keeps the metrics and the status file up to date.
async fn report(
    mut status: watch::Receiver<SyncStatus>,
    vaults: Arc<Vaults>,
    gauges: SyncMetrics,
    path: PathBuf,
    stop: CancellationToken,
) {
    let mut every = tokio::time::interval(REPORT_EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            changed = status.changed() => if changed.is_err() { return },
            _ = every.tick() => {}
        }
        let mut now = status.borrow_and_update().clone();
        if let Ok((pending, oldest)) = outbound::depth(&vaults) {
            now.outbox_pending = pending;
            now.outbox_oldest_ms = oldest;
        }
        gauges.show(&now);
        if let Err(error) = write_status(&path, &now) {
            tracing::warn!(error = %error, path = %path.display(), "cannot write the sync status");
        }
    }
}

fn write_status(path: &Path, status: &SyncStatus) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.new");
    std::fs::write(&tmp, serde_json::to_vec(status)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
