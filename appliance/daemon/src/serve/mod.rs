//! `diala-edge serve`: the daemon from start to stop.
//!
//! Start-up is strictly ordered so that a misconfigured box fails before it binds anything and a
//! working one is never half-started: refuse secrets in the environment, validate the config,
//! set up scrubbed logging, read the secrets, bind the listeners, drop root, open the state and
//! every configured tenant's vault, and only then tell systemd `READY=1`.

mod daemon;
mod reload;
mod storage;
pub(crate) mod sync;
mod trunk_metrics;
mod twilio;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use diala_asr::{Transcriber, WhisperEngine};
use diala_vault::{Clock, SystemClock, VaultOptions, Vaults};

use crate::config::{self, Config, LogFormat};
use crate::metrics::Metrics;
use crate::{admin, logging, notify, privileges, secrets};

pub use daemon::{Daemon, Serving};

/// Runs the daemon until SIGTERM or SIGINT; returns once everything is flushed.
pub fn run(config_path: &Path, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    secrets::check_environment(std::env::vars_os())?;
    let config = config::load(config_path)?;
    let log = logging::init(log_format.unwrap_or(config.log.format), &config.log.level.0)?;
    make_undumpable()?;
    tracing::info!(config = %config_path.display(), "starting");
    check_speech_model(config_path, &config)?;

    notify::status("reading secrets");
    let secrets = secrets::load_configured(config_path, &config)?;

    notify::status("binding listeners");
    let metrics_listener = TcpListener::bind(config.metrics.listen.0).with_context(|| {
        format!(
            "cannot listen on metrics.listen {}",
            config.metrics.listen.0
        )
    })?;
    let admin_path = config::resolve(config_path, &config.admin.socket);
    let admin_socket = admin::server::bind(&admin_path)?;
    let twilio = twilio::TwilioListener::bind(config_path, &config)?;

    let state_dir = config::resolve(config_path, &config.paths.state_dir);
    drop_root(&config, &state_dir)?;

    notify::status("opening state");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let vaults = Vaults::open(
        &state_dir,
        secrets.master_key,
        VaultOptions::default(),
        clock.clone(),
    )?;
    storage::open_configured_tenants(&vaults, &config)?;
    tracing::info!(
        appliance = vaults.appliance_id(),
        tenants = config.tenants.len(),
        "state open"
    );

    let transcriber = start_speech_recognition(config_path, &config)?;
    let metrics = Metrics::new()?;
    storage::check_storage(&vaults, &metrics);
    let daemon = Daemon::new(
        config_path.to_owned(),
        config,
        log,
        metrics,
        Arc::new(vaults),
        clock,
    );
    let serving = Serving {
        twilio,
        transcriber,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("diala-edge")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(daemon.run(metrics_listener, admin_socket, serving))
}

/// Loads the configured model into the worker pool calls are recognised on.
fn start_speech_recognition(
    config_path: &Path,
    config: &Config,
) -> anyhow::Result<Option<Arc<dyn Transcriber>>> {
    let Some(asr) = &config.asr else {
        return Ok(None);
    };
    notify::status("loading the speech model");
    let engine = WhisperEngine::start(&asr.engine(config_path))?;
    tracing::info!(
        workers = asr.workers,
        queue_depth = asr.queue_depth,
        "speech recognition started"
    );
    Ok(Some(Arc::new(engine)))
}

/// A model whisper.cpp would choke on stops the daemon here, with the reason, before it binds
/// anything.
fn check_speech_model(config_path: &Path, config: &Config) -> anyhow::Result<()> {
    let Some(asr) = &config.asr else {
        tracing::warn!("no [asr] section: calls will not be transcribed");
        return Ok(());
    };
    notify::status("checking the speech model");
    let info = asr
        .check_model(config_path)
        .map_err(config::ConfigError::from)?;
    tracing::info!(
        model = %asr.model_path(config_path).display(),
        layers = info.hparams.n_audio_layer,
        weights = ?info.weight_type,
        "speech model checked"
    );
    Ok(())
}

/// A core dump or a ptrace attach by another process of the same user would expose the master
/// key; a non-dumpable process allows neither.
fn make_undumpable() -> anyhow::Result<()> {
    nix::sys::prctl::set_dumpable(false).context("cannot make the process non-dumpable")
}

/// Started as root outside systemd, becomes `daemon.user` once the listeners are bound, giving
/// it the state directory first.
fn drop_root(config: &Config, state_dir: &Path) -> anyhow::Result<()> {
    if !nix::unistd::Uid::effective().is_root() {
        return Ok(());
    }
    let Some(user) = config.daemon.user.as_deref() else {
        tracing::warn!("running as root; set daemon.user so the daemon drops root after binding");
        return Ok(());
    };

    let who = privileges::lookup(user, config.daemon.group.as_deref())?;
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("cannot create the state directory {}", state_dir.display()))?;
    privileges::give(state_dir, &who)?;
    privileges::become_user(&who)?;
    tracing::info!(user, uid = who.uid.as_raw(), "dropped root");
    Ok(())
}
