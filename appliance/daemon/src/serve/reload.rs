//! SIGHUP: validate the new configuration completely, then apply what can change while running.
//!
//! Listeners (the Twilio listener's address and public URL included), paths, the daemon's user
//! and the log format are fixed for the life of the process; a change to them is reported and
//! waits for a restart. The log filter, tenants and trunks change at once.

use std::path::Path;

use crate::config::{self, Config, ConfigError};
use crate::logging::{LogControl, LogError};

/// Why a reload was refused; the running configuration stays as it was.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new file does not validate.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The new log filter could not be installed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A tenant of the new configuration could not be opened or created.
    #[error(transparent)]
    Vault(#[from] diala_vault::VaultError),
}

/// Loads the configuration at `path` and, if it is valid, makes it the running one.
pub fn apply(path: &Path, running: &mut Config, log: &LogControl) -> Result<(), ReloadError> {
    let new = config::load(path)?;
    if new.log.level != running.log.level {
        log.set_filter(&new.log.level.0)?;
    }

    let fixed = restart_only_changes(running, &new);
    if !fixed.is_empty() {
        tracing::warn!(keys = ?fixed, "these settings change only when the daemon restarts");
    }
    tracing::info!(
        tenants = new.tenants.len(),
        trunks = new.trunks.len(),
        "configuration reloaded"
    );

    // Settings fixed at start keep their running values, so what the daemon reports is what
    // it does.
    let kept = running.clone();
    *running = new;
    running.daemon.user = kept.daemon.user;
    running.daemon.group = kept.daemon.group;
    running.paths = kept.paths;
    running.metrics = kept.metrics;
    running.log.format = kept.log.format;
    running.admin = kept.admin;
    // The listener is bound and its public URL signed against since start; its certificate
    // path may change.
    match (kept.twilio, &mut running.twilio) {
        (Some(old), Some(new)) => {
            new.listen = old.listen;
            new.public_url = old.public_url;
        }
        (old, new) => *new = old,
    }
    Ok(())
}

/// The keys whose new values take effect only after a restart.
fn restart_only_changes(running: &Config, new: &Config) -> Vec<&'static str> {
    let checks = [
        ("daemon.user", running.daemon.user != new.daemon.user),
        ("daemon.group", running.daemon.group != new.daemon.group),
        (
            "paths.state_dir",
            running.paths.state_dir != new.paths.state_dir,
        ),
        (
            "paths.secrets_dir",
            running.paths.secrets_dir != new.paths.secrets_dir,
        ),
        (
            "metrics.listen",
            running.metrics.listen != new.metrics.listen,
        ),
        ("log.format", running.log.format != new.log.format),
        ("admin.socket", running.admin.socket != new.admin.socket),
        (
            "twilio.listen",
            running.twilio.as_ref().map(|t| t.listen) != new.twilio.as_ref().map(|t| t.listen),
        ),
        (
            "twilio.public_url",
            running.twilio.as_ref().map(|t| &t.public_url)
                != new.twilio.as_ref().map(|t| &t.public_url),
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(key, _)| key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        config::parse(Path::new("test.toml"), text).unwrap()
    }

    #[test]
    fn names_settings_that_need_a_restart() {
        let running = parse("[metrics]\nlisten = \"127.0.0.1:9464\"\n");
        let new = parse("[metrics]\nlisten = \"127.0.0.1:9465\"\n[log]\nlevel = \"debug\"\n");
        assert_eq!(restart_only_changes(&running, &new), ["metrics.listen"]);
        assert!(restart_only_changes(&running, &running).is_empty());
    }
}
