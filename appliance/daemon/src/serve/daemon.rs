//! The running daemon: its tasks, its signals, and its graceful stop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use diala_vault::{Clock, Vaults};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admin::handlers::AdminApi;
use crate::admin::server::AdminSocket;
use crate::config::Config;
use crate::logging::LogControl;
use crate::metrics::{self, Metrics};
use crate::notify;

use super::storage;

/// How often retention runs. Expiry is counted in days, so an hour late is well within it.
const RETENTION_EVERY: Duration = Duration::from_secs(60 * 60);
/// How often the storage is looked at when nothing writes.
const STORAGE_CHECK_EVERY: Duration = Duration::from_secs(10);

/// Everything the running daemon owns.
pub struct Daemon {
    config_path: PathBuf,
    config: Config,
    log: LogControl,
    metrics: Metrics,
    vaults: Arc<Vaults>,
    clock: Arc<dyn Clock>,
}

/// Why the main loop ended.
#[derive(Debug, Clone, Copy)]
enum StopReason {
    Terminate,
    Interrupt,
}

impl StopReason {
    fn signal(self) -> &'static str {
        match self {
            StopReason::Terminate => "SIGTERM",
            StopReason::Interrupt => "SIGINT",
        }
    }
}

impl Daemon {
    /// A daemon over a validated config and an open state.
    pub fn new(
        config_path: PathBuf,
        config: Config,
        log: LogControl,
        metrics: Metrics,
        vaults: Arc<Vaults>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        metrics.tenants_configured.set(config.tenants.len() as i64);
        Daemon {
            config_path,
            config,
            log,
            metrics,
            vaults,
            clock,
        }
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully.
    pub async fn run(
        mut self,
        metrics_listener: TcpListener,
        admin_socket: AdminSocket,
    ) -> anyhow::Result<()> {
        // Handlers first: a SIGTERM that arrives just after READY=1 must stop us gracefully,
        // not by the default action.
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;

        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let metrics_addr = metrics_listener
            .local_addr()
            .context("metrics listener address")?;
        let served = metrics::serve(metrics_listener, self.metrics.clone(), stop.clone());
        tasks.spawn(async move {
            if let Err(error) = served.await {
                tracing::error!(%error, "the metrics endpoint stopped");
            }
        });
        for (every, job) in [
            (RETENTION_EVERY, storage::retention_job as fn(&_, &_)),
            (STORAGE_CHECK_EVERY, storage::storage_job),
        ] {
            let (vaults, metrics) = (self.vaults.clone(), self.metrics.clone());
            tasks.spawn(storage::repeat(vaults, metrics, every, stop.clone(), job));
        }
        let admin_path = admin_socket.path().to_owned();
        let api = AdminApi::new(
            self.vaults.clone(),
            self.metrics.clone(),
            self.clock.clone(),
            metrics_addr.to_string(),
            &crate::config::resolve(&self.config_path, &self.config.paths.state_dir),
        );
        tasks.spawn(admin_socket.serve(Arc::new(api), stop.clone()));
        let state_dir = crate::config::resolve(&self.config_path, &self.config.paths.state_dir);
        super::sync::spawn(
            &tasks,
            &stop,
            self.vaults.clone(),
            &self.metrics,
            &state_dir,
            self.clock.clone(),
        );
        if let Some(every) = notify::watchdog_interval() {
            tasks.spawn(ping_watchdog(every, stop.clone()));
        }

        let status = match self.vaults.storage().refusing() {
            None => format!("serving; metrics on http://{metrics_addr}/metrics"),
            Some(why) => format!(
                "serving but refusing new calls ({why}); metrics on http://{metrics_addr}/metrics"
            ),
        };
        notify::ready(&status);
        tracing::info!(
            metrics = %metrics_addr,
            admin = %admin_path.display(),
            tenants = self.config.tenants.len(),
            "ready"
        );

        let reason = loop {
            tokio::select! {
                _ = terminate.recv() => break StopReason::Terminate,
                _ = interrupt.recv() => break StopReason::Interrupt,
                _ = hangup.recv() => self.reload(),
            }
        };
        self.stop(reason, stop, tasks).await
    }

    /// Stops accepting, gives work in flight the configured grace, flushes the state.
    async fn stop(
        self,
        reason: StopReason,
        stop: CancellationToken,
        tasks: TaskTracker,
    ) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.config.daemon.shutdown_grace_secs.0);
        notify::stopping("stopping: finishing work in flight");
        tracing::info!(
            signal = reason.signal(),
            grace_secs = grace.as_secs(),
            "stopping"
        );

        stop.cancel();
        tasks.close();
        if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "work in flight did not finish within daemon.shutdown_grace_secs; stopping anyway"
            );
        }

        self.vaults.checkpoint_all()?;
        tracing::info!("stopped");
        Ok(())
    }

    /// Re-reads the config on SIGHUP; see [`super::reload`] for what it may change.
    fn reload(&mut self) {
        notify::reloading();
        let outcome = super::reload::apply(&self.config_path, &mut self.config, &self.log)
            .and_then(|()| {
                storage::open_configured_tenants(&self.vaults, &self.config).map_err(Into::into)
            });
        let status = match &outcome {
            Ok(()) => {
                self.metrics
                    .config_reloads
                    .with_label_values(&["applied"])
                    .inc();
                self.metrics
                    .tenants_configured
                    .set(self.config.tenants.len() as i64);
                "serving; configuration reloaded".to_owned()
            }
            Err(error) => {
                self.metrics
                    .config_reloads
                    .with_label_values(&["refused"])
                    .inc();
                tracing::error!(%error, "configuration reload refused; keeping the running one");
                format!("serving with the previous configuration; reload refused: {error}")
            }
        };
        notify::ready(&status);
    }
}

/// Pings systemd's watchdog from the runtime itself, so a wedged runtime stops the pings.
async fn ping_watchdog(every: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => notify::watchdog(),
        }
    }
}
