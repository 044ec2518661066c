//! Retention: the tenant's setting and the purge that really deletes.
//!
//! Expired calls go with their segments and outbox records, in small transactions so calls
//! being written wait at most one batch; each gets a deletion record for the control plane.
//! With `secure_delete` on, the rows are overwritten; the final `wal_checkpoint(TRUNCATE)`
//! empties the WAL, so the text is found neither in the database nor in its WAL, even with
//! the key.

use rusqlite::{OptionalExtension, params};

use super::TenantVault;
use crate::{DAY_MS, VaultError};

const RETENTION_KEY: &str = "retention_days";

/// Calls deleted per transaction by default: with about a hundred segments a call, a batch
/// holds the tenant's connection for milliseconds, so calls being written barely wait.
pub const PURGE_BATCH_CALLS: usize = 20;

/// How long a tenant keeps transcripts: 1 to 365 days, 90 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(u16);

impl RetentionDays {
    /// The default: 90 days.
    pub const DEFAULT: RetentionDays = RetentionDays(90);

    /// Checks that `days` is within 1 to 365.
    pub fn new(days: u32) -> Result<Self, VaultError> {
        match u16::try_from(days) {
            Ok(d) if (1..=365).contains(&d) => Ok(RetentionDays(d)),
            _ => Err(VaultError::BadRetention(days)),
        }
    }

    /// The number of days.
    pub fn days(self) -> u16 {
        self.0
    }
}

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Calls deleted.
    pub calls: u64,
    /// Segments deleted with them.
    pub segments: u64,
}

impl TenantVault {
    /// The tenant's retention period.
    pub fn retention(&self) -> Result<RetentionDays, VaultError> {
        let stored: Option<String> = self.with_conn(|conn, path| {
            conn.query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [RETENTION_KEY],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| VaultError::sqlite(path, e))
        })?;
        match stored.and_then(|v| v.parse::<u32>().ok()) {
            Some(days) => RetentionDays::new(days),
            None => Ok(RetentionDays::DEFAULT),
        }
    }

    /// Sets the tenant's retention period; the next purge applies it.
    pub fn set_retention(&self, days: RetentionDays) -> Result<(), VaultError> {
        self.with_conn(|conn, path| {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![RETENTION_KEY, days.days().to_string()],
            )
            .map(drop)
            .map_err(|e| VaultError::sqlite(path, e))
        })
    }

    /// Deletes every call that started before the retention period, `batch` calls per
    /// transaction, then truncates the WAL.
    pub fn purge_expired(&self, batch: usize) -> Result<PurgeReport, VaultError> {
        let now = self.clock.now_ms();
        let cutoff = now.saturating_sub(i64::from(self.retention()?.days()) * DAY_MS);
        let mut report = PurgeReport::default();
        loop {
            let step = self.purge_batch(cutoff, now, batch.max(1))?;
            report.calls += step.calls;
            report.segments += step.segments;
            if step.calls == 0 {
                break;
            }
        }
        if report.calls > 0 {
            self.checkpoint()?;
        }
        Ok(report)
    }

    fn purge_batch(&self, cutoff: i64, now: i64, batch: usize) -> Result<PurgeReport, VaultError> {
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let tx = conn.unchecked_transaction().map_err(sqlite)?;
            let ids: Vec<String> = {
                let mut stmt = conn
                    .prepare("SELECT id FROM calls WHERE started_at <= ?1 ORDER BY started_at LIMIT ?2")
                    .map_err(sqlite)?;
                let limit = i64::try_from(batch).unwrap_or(i64::MAX);
                let rows = stmt
                    .query_map(params![cutoff, limit], |r| r.get(0))
                    .map_err(sqlite)?;
                rows.collect::<Result<_, _>>().map_err(sqlite)?
            };

            let mut report = PurgeReport::default();
            for id in &ids {
                let segments: i64 = conn
                    .query_row("SELECT count(*) FROM segments WHERE call_id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .map_err(sqlite)?;
                // Segments and the call's outbox records go by ON DELETE CASCADE.
                conn.execute("DELETE FROM calls WHERE id = ?1", [id])
                    .map_err(sqlite)?;
                conn.execute(
                    "INSERT INTO outbox (call_id, kind, idempotency_key, payload, created_at)
                     VALUES (NULL, 'deletion', ?1, ?2, ?3) ON CONFLICT (idempotency_key) DO NOTHING",
                    params![format!("deletion/{id}"), id, now],
                )
                .map_err(sqlite)?;
                report.calls += 1;
                report.segments += u64::try_from(segments).unwrap_or(0);
            }
            tx.commit().map_err(sqlite)?;
            Ok(report)
        })
    }
}
