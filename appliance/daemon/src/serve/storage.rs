//! The vault's background work: retention on a schedule, and a watch on the storage that
//! says clearly when new calls are refused and when they are accepted again.
//!
//! Both run the vault's blocking database work on tokio's blocking pool, never on the async
//! workers. Time comes from the clock the vaults were opened with, so tests drive it.

use std::sync::Arc;
use std::time::Duration;

use diala_vault::{PURGE_BATCH_CALLS, RetentionDays, VaultError, Vaults};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::notify;

/// Opens the vault of every configured tenant, creating those that do not exist yet, and
/// applies their configured retention.
pub fn open_configured_tenants(vaults: &Vaults, config: &Config) -> Result<(), VaultError> {
    for tenant in &config.tenants {
        let id = tenant.id.get_ref().as_str();
        let vault = match vaults.open_tenant(id) {
            Ok(vault) => vault,
            Err(VaultError::UnknownTenant(_)) => {
                tracing::info!(tenant = id, "creating the tenant's vault");
                vaults.create_tenant("config", id, &tenant.name)?
            }
            // One tenant's lost file must not stop the others' calls: this tenant's calls are
            // refused until the sysadmin restores or deletes it, as the error says.
            Err(error @ VaultError::TenantFileMissing { .. }) => {
                tracing::error!(tenant = id, %error, "the tenant's vault is unavailable");
                continue;
            }
            Err(error) => return Err(error),
        };
        let days = RetentionDays::new(u32::from(tenant.retention_days.0))?;
        if vault.retention()? != days {
            vault.set_retention(days)?;
        }
    }
    Ok(())
}

/// One retention pass over every tenant; returns the calls deleted.
pub fn retention_pass(vaults: &Vaults, metrics: &Metrics) -> Result<u64, VaultError> {
    let mut total = 0;
    for (tenant, report) in vaults.purge_expired(PURGE_BATCH_CALLS)? {
        if report.calls > 0 {
            tracing::info!(
                tenant,
                calls = report.calls,
                segments = report.segments,
                "retention deleted expired calls"
            );
            metrics
                .retention_purged_calls
                .with_label_values(&[&tenant])
                .inc_by(report.calls);
        }
        total += report.calls;
    }
    Ok(total)
}

/// One scheduled retention pass; a failure is logged and retried at the next one.
pub fn retention_job(vaults: &Vaults, metrics: &Metrics) {
    if let Err(error) = retention_pass(vaults, metrics) {
        tracing::error!(%error, "retention pass failed; retrying next time");
    }
}

/// Runs the blocking `job` on tokio's blocking pool every `every` until `stop`.
pub async fn repeat(
    vaults: Arc<Vaults>,
    metrics: Metrics,
    every: Duration,
    stop: CancellationToken,
    job: fn(&Vaults, &Metrics),
) {
    let mut ticks = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let (vaults, metrics) = (vaults.clone(), metrics.clone());
        if let Err(error) = tokio::task::spawn_blocking(move || job(&vaults, &metrics)).await {
            tracing::error!(%error, "a vault task panicked");
        }
    }
}

/// Looks at the storage now and reports a change of state; returns whether new calls are
/// refused.
pub fn check_storage(vaults: &Vaults, metrics: &Metrics) -> bool {
    let was_refusing = metrics.storage_refusing.get() == 1;
    match vaults.storage().check() {
        Ok(()) => {
            if was_refusing {
                tracing::info!("storage has room again; new calls are accepted");
                notify::status("serving; storage has room again");
            }
            metrics.storage_refusing.set(0);
            false
        }
        Err(error) => {
            if !was_refusing {
                tracing::error!(%error, "storage cannot take new data; new calls are refused");
                notify::status(&format!("refusing new calls: {error}"));
            }
            metrics.storage_refusing.set(1);
            true
        }
    }
}

/// Looks at every tenant's outbox and raises the alert once a backlog reaches 80% of the cap,
/// before new calls are refused at the cap; returns the tenants in alert.
pub fn check_outboxes(vaults: &Vaults, metrics: &Metrics) -> Result<Vec<String>, VaultError> {
    let mut alerting = Vec::new();
    for tenant in vaults.tenants()? {
        let status = vaults.open_tenant(&tenant.id)?.outbox_status()?;
        let id = tenant.id.as_str();
        let pending = i64::try_from(status.pending).unwrap_or(i64::MAX);
        metrics.outbox_pending.with_label_values(&[id]).set(pending);

        let alert = metrics.outbox_alert.with_label_values(&[id]);
        let was_alerting = alert.get() == 1;
        if status.alert && !was_alerting {
            tracing::error!(
                tenant = id,
                pending = status.pending,
                cap = status.cap,
                "outbox backlog above 80% of its cap; new calls will be refused at the cap \
                 until the control plane takes the records"
            );
        } else if !status.alert && was_alerting {
            tracing::info!(
                tenant = id,
                pending = status.pending,
                "outbox backlog back below the alert"
            );
        }
        alert.set(i64::from(status.alert));
        if status.alert {
            alerting.push(tenant.id);
        }
    }
    Ok(alerting)
}

/// One scheduled look at the storage and the outboxes.
pub fn storage_job(vaults: &Vaults, metrics: &Metrics) {
    check_storage(vaults, metrics);
    if let Err(error) = check_outboxes(vaults, metrics) {
        tracing::error!(%error, "cannot read the outbox backlog; retrying next time");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;

    use diala_vault::{DAY_MS, ManualClock, MasterKey, NewCall, NewSegment, VaultOptions};

    use super::*;

    const T0: i64 = 1_796_083_200_000;

    fn config(state: &Path) -> Config {
        let text = format!(
            "[paths]\nstate_dir = \"{}\"\n[[tenants]]\nid = \"acme\"\nname = \"Acme\"\n\
             retention_days = 2\n",
            state.display()
        );
        crate::config::parse(Path::new("test.toml"), &text).unwrap()
    }

    #[test]
    fn configured_tenants_are_created_and_expired_calls_purged_on_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at(T0));
        let master = MasterKey::from_credential(&[3; 32]).unwrap();
        let options = VaultOptions {
            min_free_bytes: 0,
            outbox_cap: 1_000,
        };
        let vaults = Vaults::open(dir.path(), master, options, clock.clone()).unwrap();
        let config = config(dir.path());
        open_configured_tenants(&vaults, &config).unwrap();
        open_configured_tenants(&vaults, &config).unwrap();
        let acme = vaults.open_tenant("acme").unwrap();
        assert_eq!(acme.retention().unwrap().days(), 2);

        let call = NewCall {
            id: "c1".to_owned(),
            trunk: "pbx".to_owned(),
            started_at_ms: T0,
        };
        acme.begin_call(&call).unwrap();
        let segment = NewSegment {
            track: "caller".to_owned(),
            start_ms: 0,
            end_ms: 1,
            text: None,
            redacted: "hi".to_owned(),
            confidence: 1.0,
        };
        acme.insert_segment("c1", &segment).unwrap();

        let metrics = Metrics::new().unwrap();
        clock.set(T0 + 2 * DAY_MS - 1);
        assert_eq!(retention_pass(&vaults, &metrics).unwrap(), 0);
        clock.set(T0 + 2 * DAY_MS);
        assert_eq!(retention_pass(&vaults, &metrics).unwrap(), 1);
        assert_eq!(acme.call("c1").unwrap(), None);
        let purged = metrics
            .retention_purged_calls
            .with_label_values(&["acme"])
            .get();
        assert_eq!(purged, 1);
        assert!(!check_storage(&vaults, &metrics));
    }

    #[test]
    fn a_tenant_whose_file_vanished_does_not_stop_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at(T0));
        let master = || MasterKey::from_credential(&[3; 32]).unwrap();
        let options = VaultOptions {
            min_free_bytes: 0,
            outbox_cap: 1_000,
        };
        let text = format!(
            "[paths]\nstate_dir = \"{}\"\n[[tenants]]\nid = \"acme\"\nname = \"Acme\"\n\
             [[tenants]]\nid = \"globex\"\nname = \"Globex\"\n",
            dir.path().display()
        );
        let config = crate::config::parse(Path::new("test.toml"), &text).unwrap();
        let lost = {
            let vaults = Vaults::open(dir.path(), master(), options, clock.clone()).unwrap();
            open_configured_tenants(&vaults, &config).unwrap();
            vaults.open_tenant("acme").unwrap().path().to_owned()
        };
        std::fs::remove_file(&lost).unwrap();

        let vaults = Vaults::open(dir.path(), master(), options, clock).unwrap();
        open_configured_tenants(&vaults, &config).unwrap();
        assert!(vaults.open_tenant("globex").is_ok());
        assert!(vaults.open_tenant("acme").is_err());
        assert!(!lost.exists());
        let metrics = Metrics::new().unwrap();
        assert_eq!(retention_pass(&vaults, &metrics).unwrap(), 0);
    }

    fn segment(start_ms: i64) -> NewSegment {
        NewSegment {
            track: "caller".to_owned(),
            start_ms,
            end_ms: start_ms + 1,
            text: None,
            redacted: "hi".to_owned(),
            confidence: 1.0,
        }
    }

    #[test]
    fn an_outbox_backlog_raises_the_alert_at_80_percent_of_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at(T0));
        let master = MasterKey::from_credential(&[4; 32]).unwrap();
        let options = VaultOptions {
            min_free_bytes: 0,
            outbox_cap: 10,
        };
        let vaults = Vaults::open(dir.path(), master, options, clock).unwrap();
        open_configured_tenants(&vaults, &config(dir.path())).unwrap();
        let acme = vaults.open_tenant("acme").unwrap();
        let call = NewCall {
            id: "c1".to_owned(),
            trunk: "pbx".to_owned(),
            started_at_ms: T0,
        };
        acme.begin_call(&call).unwrap();
        let metrics = Metrics::new().unwrap();
        let pending = || metrics.outbox_pending.with_label_values(&["acme"]).get();

        let mut stored = 0;
        while acme.outbox_status().unwrap().pending < 7 {
            acme.insert_segment("c1", &segment(stored)).unwrap();
            stored += 1;
        }
        assert!(check_outboxes(&vaults, &metrics).unwrap().is_empty());
        assert_eq!(metrics.outbox_alert.with_label_values(&["acme"]).get(), 0);

        while acme.outbox_status().unwrap().pending < 8 {
            acme.insert_segment("c1", &segment(stored)).unwrap();
            stored += 1;
        }
        assert_eq!(check_outboxes(&vaults, &metrics).unwrap(), ["acme"]);
        assert_eq!(metrics.outbox_alert.with_label_values(&["acme"]).get(), 1);
        assert!(pending() >= 8);
    }
}
