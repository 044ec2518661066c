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

use diala_asr::Transcriber;

use crate::admin::handlers::AdminApi;
use crate::admin::server::AdminSocket;
use crate::call::{CallMetrics, Calls};
use crate::config::Config;
use crate::logging::LogControl;
use crate::metrics::{self, Metrics};
use crate::notify;

use super::storage;
use super::trunk_metrics::TrunkCollector;
use super::twilio::{TwilioListener, TwilioReload};

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
    calls: Option<Calls>,
    twilio: Option<TwilioReload>,
}

/// What takes calls: the trunks bound at start and the speech recogniser.
pub struct Serving {
    /// The Twilio trunk, when `[twilio]` is configured.
    pub twilio: Option<TwilioListener>,
    /// The worker pool, when `[asr]` is configured.
    pub transcriber: Option<Arc<dyn Transcriber>>,
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
            calls: None,
            twilio: None,
        }
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully.
    pub async fn run(
        mut self,
        metrics_listener: TcpListener,
        admin_socket: AdminSocket,
        serving: Serving,
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
        let trunks = self.take_calls(serving, &tasks, &stop)?;

        let status = match self.vaults.storage().refusing() {
            None => format!("serving; metrics on http://{metrics_addr}/metrics{trunks}"),
            Some(why) => format!(
                "serving but refusing new calls ({why}); metrics on http://{metrics_addr}/metrics\
                 {trunks}"
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

    /// Starts the call pipeline and the trunks that feed it; returns the trunks' addresses for
    /// the status line.
    fn take_calls(
        &mut self,
        serving: Serving,
        tasks: &TaskTracker,
        stop: &CancellationToken,
    ) -> anyhow::Result<String> {
        let call_metrics = CallMetrics::register(self.metrics.registry())?;
        if serving.transcriber.is_none() {
            tracing::warn!("no [asr] section: calls are stored without transcripts");
        }
        let calls = Calls::new(
            self.vaults.clone(),
            serving.transcriber,
            call_metrics,
            tasks.clone(),
            &self.config,
        );
        self.calls = Some(calls.clone());
        let Some(twilio) = serving.twilio else {
            return Ok(String::new());
        };
        let addr = twilio.addr();
        let collector = TrunkCollector::new(twilio.metrics())?;
        self.metrics.registry().register(Box::new(collector))?;
        let reload = twilio
            .spawn(calls, tasks, stop.clone())
            .context("cannot serve the twilio listener")?;
        self.twilio = Some(reload);
        tracing::info!(listen = %addr, "twilio trunk listening");
        Ok(format!("; twilio trunk on {addr}"))
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
            })
            .map_err(anyhow::Error::from)
            .and_then(|()| self.reload_trunks().map_err(anyhow::Error::from));
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

impl Daemon {
    /// Gives the trunks and the call pipeline what a reloaded configuration says.
    // Limitation: the configuration is already applied when the trunk's certificate, key or
    // tokens fail to load; the trunk then keeps its previous ones and the reload is reported
    // refused.
    fn reload_trunks(&self) -> Result<(), super::twilio::TwilioError> {
        if let Some(calls) = &self.calls {
            calls.set_policies(&self.config);
        }
        match &self.twilio {
            Some(twilio) => twilio.apply(&self.config_path, &self.config),
            None => Ok(()),
        }
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
