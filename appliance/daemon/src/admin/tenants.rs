//! The tenant and retention commands of the admin socket: add, show, set and delete a tenant,
//! see each tenant's retention and run it now.
//!
//! Deletion goes through the vault's crypto-shredding, which audits it again as a lifecycle
//! action under the sysadmin's name. Nothing here reads transcript text.

use diala_vault::{DAY_MS, PURGE_BATCH_CALLS, RetentionDays, TenantEntry, VaultError};

use super::handlers::{AdminApi, CommandError, Progress};
use super::replies::{DoneReply, PurgeReply, PurgeRow, RetentionReply, RetentionRow, TenantReply};

impl AdminApi {
    fn entry(&self, tenant: &str) -> Result<TenantEntry, VaultError> {
        diala_vault::check_tenant_id(tenant)?;
        self.vaults
            .tenants()?
            .into_iter()
            .find(|t| t.id == tenant)
            .ok_or_else(|| VaultError::UnknownTenant(tenant.to_owned()))
    }

    /// The cutoff of `retention` now: calls started at or before it are expired.
    fn cutoff(&self, retention: RetentionDays) -> i64 {
        let now = self.clock.now_ms();
        now.saturating_sub(i64::from(retention.days()) * DAY_MS)
    }

    pub(super) fn tenant_add(
        &self,
        actor: &str,
        tenant: &str,
        name: &str,
        retention_days: Option<u32>,
    ) -> Result<TenantReply, CommandError> {
        let retention = retention_days.map(RetentionDays::new).transpose()?;
        let vault = self.vaults.create_tenant(actor, tenant, name)?;
        if let Some(days) = retention {
            vault.set_retention(days)?;
        }
        Ok(self.tenant_show(tenant)?)
    }

    pub(super) fn tenant_show(&self, tenant: &str) -> Result<TenantReply, VaultError> {
        let entry = self.entry(tenant)?;
        let vault = self.vaults.open_tenant(tenant)?;
        let retention = vault.retention()?;
        let stats = vault.call_stats(self.cutoff(retention))?;
        let outbox = vault.outbox_status()?;
        let database_bytes = ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                let mut name = vault.path().as_os_str().to_owned();
                name.push(suffix);
                std::fs::metadata(name).ok().map(|m| m.len())
            })
            .sum();
        Ok(TenantReply {
            id: entry.id,
            name: entry.name,
            created_at_ms: entry.created_at_ms,
            retention_days: retention.days(),
            calls: stats.calls,
            segments: stats.segments,
            outbox_pending: outbox.pending,
            database_bytes,
        })
    }

    // Limitation: a tenant named in the configuration gets its configured retention back at the
    // next reload or restart; `tenant set` is for tenants added here, or until then.
    pub(super) fn tenant_set(
        &self,
        tenant: &str,
        retention_days: u32,
    ) -> Result<TenantReply, CommandError> {
        let days = RetentionDays::new(retention_days)?;
        self.entry(tenant)?;
        self.vaults.open_tenant(tenant)?.set_retention(days)?;
        Ok(self.tenant_show(tenant)?)
    }

    pub(super) fn tenant_delete(
        &self,
        actor: &str,
        tenant: &str,
    ) -> Result<DoneReply, CommandError> {
        self.vaults.delete_tenant(actor, tenant)?;
        Ok(DoneReply {
            done: format!(
                "tenant {tenant} deleted: its data key is shredded, so every copy of its \
                 database, backups included, is unreadable"
            ),
            next: Some(format!(
                "remove tenant {tenant} from the configuration, or the next start creates it \
                 again, empty"
            )),
        })
    }

    pub(super) fn retention_status(&self) -> Result<RetentionReply, VaultError> {
        let mut retention = Vec::new();
        for entry in self.vaults.tenants()? {
            let vault = self.vaults.open_tenant(&entry.id)?;
            let days = vault.retention()?;
            let stats = vault.call_stats(self.cutoff(days))?;
            retention.push(RetentionRow {
                tenant: entry.id,
                retention_days: days.days(),
                calls: stats.calls,
                oldest_started_ms: stats.oldest_started_ms,
                expired: stats.expired,
            });
        }
        Ok(RetentionReply { retention })
    }

    pub(super) fn retention_run(&self, progress: Progress<'_>) -> Result<PurgeReply, VaultError> {
        let reports = self
            .vaults
            .purge_expired_with(PURGE_BATCH_CALLS, |done, total| {
                progress(done as u64, total as u64);
            })?;
        let purged = reports
            .into_iter()
            .map(|(tenant, report)| PurgeRow {
                tenant,
                calls: report.calls,
                segments: report.segments,
            })
            .collect();
        Ok(PurgeReply { purged })
    }
}
