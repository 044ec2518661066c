//! `diala-edge enroll` and `diala-edge sync status`: the sysadmin's side of control-plane sync.
//!
//! Enrollment makes the key pair here, on the box, and stores it 0600 under the state
//! directory; only the certificate request leaves. The token is one-time; `--token -` reads it
//! from standard input so it stays out of the process list. Neither command logs the token or
//! the key.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::Context as _;
use diala_cloud::identity::IdentityFiles;
use diala_cloud::status::SyncStatus;
use diala_vault::{SystemClock, VaultOptions, Vaults};

use crate::{config, secrets};

fn time(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

fn read_token(token: &str) -> anyhow::Result<String> {
    if token != "-" {
        return Ok(token.to_owned());
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// Enrolls this appliance with the control plane at `control_plane`, trusting only `ca`.
pub fn enroll(
    config_path: &Path,
    token: &str,
    control_plane: &str,
    ca: &Path,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let config = config::load(config_path)?;
    let state_dir = config::resolve(config_path, &config.paths.state_dir);
    secrets::check_environment(std::env::vars_os())?;
    let secrets = secrets::load_configured(config_path, &config)?;
    let clock = Arc::new(SystemClock);
    let vaults = Vaults::open(
        &state_dir,
        secrets.master_key,
        VaultOptions::default(),
        clock,
    )?;
    let appliance_id = vaults.appliance_id();
    drop(vaults);

    let ca_pem = std::fs::read_to_string(ca)
        .with_context(|| format!("cannot read the control plane's CA {}", ca.display()))?;
    let token = read_token(token)?;
    let files = IdentityFiles::in_state_dir(&state_dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let facts = runtime.block_on(diala_cloud::enroll::enroll(
        &files,
        control_plane,
        &ca_pem,
        &token,
        &appliance_id,
    ))?;
    writeln!(
        out,
        "enrolled appliance {appliance_id} with {control_plane}; certificate valid until {}",
        time(facts.not_after_ms)
    )?;
    writeln!(
        out,
        "restart the daemon to start sync: systemctl restart diala-edge"
    )?;
    Ok(())
}

/// Shows the control plane, the certificate's expiry, and the sync task's last state.
pub fn status(config_path: &Path, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let config = config::load(config_path)?;
    let state_dir = config::resolve(config_path, &config.paths.state_dir);
    let files = IdentityFiles::in_state_dir(&state_dir);
    if !files.enrolled() {
        if json {
            writeln!(out, "{}", serde_json::json!({ "enrolled": false }))?;
        } else {
            writeln!(out, "not enrolled with a control plane (diala-edge enroll)")?;
        }
        return Ok(());
    }
    let identity = files.load()?;
    let status: Option<SyncStatus> = std::fs::read(state_dir.join(crate::serve::sync::STATUS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if json {
        let value = serde_json::json!({
            "enrolled": true,
            "appliance_id": identity.facts.appliance_id,
            "control_plane": identity.control_plane,
            "certificate_expires_ms": identity.facts.not_after_ms,
            "sync": status,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    writeln!(out, "appliance:           {}", identity.facts.appliance_id)?;
    writeln!(out, "control plane:       {}", identity.control_plane)?;
    writeln!(
        out,
        "certificate expires: {}",
        time(identity.facts.not_after_ms)
    )?;
    let Some(status) = status else {
        writeln!(
            out,
            "connection:          unknown (the daemon has not reported yet)"
        )?;
        return Ok(());
    };
    let state = serde_json::to_value(status.state)?;
    writeln!(
        out,
        "connection:          {}",
        state.as_str().unwrap_or("?")
    )?;
    writeln!(out, "outbox depth:        {}", status.outbox_pending)?;
    let oldest = status.outbox_oldest_ms.map_or("none".to_owned(), time);
    writeln!(out, "oldest undelivered:  {oldest}")?;
    writeln!(out, "delivered:           {}", status.delivered)?;
    if let Some(error) = status.last_error {
        writeln!(out, "last error:          {error}")?;
    }
    Ok(())
}
