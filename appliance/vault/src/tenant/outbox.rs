//! The tenant's durable outbox towards the control plane.
//!
//! At-least-once: a record stays until acknowledged; a claim lends it to one sender for a
//! lease, after which it may be claimed again; a failed send waits an exponential backoff.
//! Records of one call leave in the order they were queued: a record is claimable only when
//! no earlier record of its call is still waiting. Idempotency keys make a re-queue a no-op and
//! let the control plane drop duplicates.

use rusqlite::{OptionalExtension, params};

use super::TenantVault;
use crate::VaultError;

/// The first retry waits this long; each further failure doubles it, up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 1_000;
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 60 * 60 * 1_000;
/// The share of the cap (in percent) at which the outbox raises an alert.
const ALERT_PERCENT: u64 = 80;

/// A record to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxRecord {
    /// What the record is (`segment`, `call-summary`, `deletion`, `audit`, `alert`).
    pub kind: String,
    /// The call it belongs to, which orders it and deletes it with the call.
    pub call_id: Option<String>,
    /// Unique per record; queuing the same key twice keeps the first.
    pub idempotency_key: String,
    /// What the sync client needs to build the message; never raw transcript text.
    pub payload: String,
}

/// A claimed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The record's id, for [`TenantVault::ack`] and [`TenantVault::retry_later`].
    pub id: i64,
    /// What the record is.
    pub kind: String,
    /// The call it belongs to.
    pub call_id: Option<String>,
    /// Its idempotency key.
    pub idempotency_key: String,
    /// Its payload.
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

impl OutboxItem {
    /// A row of `SELECT id, kind, call_id, idempotency_key, payload, attempts FROM outbox`.
    pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(OutboxItem {
            id: r.get(0)?,
            kind: r.get(1)?,
            call_id: r.get(2)?,
            idempotency_key: r.get(3)?,
            payload: r.get(4)?,
            attempts: r.get(5)?,
        })
    }
}

/// Whether [`TenantVault::enqueue`] added a record or found its key already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new record.
    Added(i64),
    /// The key was already queued; nothing changed.
    Duplicate,
}

/// How full the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Records waiting to be acknowledged.
    pub pending: u64,
    /// The cap: at it, new calls are refused.
    pub cap: u64,
    /// True from 80% of the cap: time to tell the sysadmin, before calls are refused.
    pub alert: bool,
}

impl TenantVault {
    /// Queues `record` durably, unless its idempotency key is already queued.
    pub fn enqueue(&self, record: &NewOutboxRecord) -> Result<Enqueued, VaultError> {
        let now = self.clock.now_ms();
        self.with_conn(|conn, path| {
            let added = conn
                .execute(
                    "INSERT INTO outbox (call_id, kind, idempotency_key, payload, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (idempotency_key) DO NOTHING",
                    params![
                        record.call_id,
                        record.kind,
                        record.idempotency_key,
                        record.payload,
                        now
                    ],
                )
                .map_err(|e| VaultError::sqlite(path, e))?;
            Ok(match added {
                0 => Enqueued::Duplicate,
                _ => Enqueued::Added(conn.last_insert_rowid()),
            })
        })
    }

    /// Lends up to `max` ready records to the caller for `lease_ms`, oldest first, at most one
    /// waiting record per call (the earliest).
    pub fn claim(&self, max: usize, lease_ms: i64) -> Result<Vec<OutboxItem>, VaultError> {
        let now = self.clock.now_ms();
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let tx = conn.unchecked_transaction().map_err(sqlite)?;
            let items = {
                let mut stmt = conn
                    .prepare(
                        "SELECT id, kind, call_id, idempotency_key, payload, attempts FROM outbox o
                         WHERE not_before <= ?1 AND claimed_until <= ?1
                         AND NOT EXISTS (SELECT 1 FROM outbox e
                                         WHERE e.call_id = o.call_id AND e.id < o.id)
                         ORDER BY id LIMIT ?2",
                    )
                    .map_err(sqlite)?;
                let limit = i64::try_from(max).unwrap_or(i64::MAX);
                let rows = stmt
                    .query_map(params![now, limit], OutboxItem::from_row)
                    .map_err(sqlite)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(sqlite)?
            };
            for item in &items {
                conn.execute(
                    "UPDATE outbox SET claimed_until = ?2 WHERE id = ?1",
                    params![item.id, now.saturating_add(lease_ms)],
                )
                .map_err(sqlite)?;
            }
            tx.commit().map_err(sqlite)?;
            Ok(items)
        })
    }

    /// The control plane has the record: it is deleted.
    pub fn ack(&self, id: i64) -> Result<(), VaultError> {
        self.with_conn(|conn, path| {
            conn.execute("DELETE FROM outbox WHERE id = ?1", [id])
                .map(drop)
                .map_err(|e| VaultError::sqlite(path, e))
        })
    }

    /// The send failed: the record waits its backoff, then may be claimed again.
    pub fn retry_later(&self, id: i64) -> Result<(), VaultError> {
        let now = self.clock.now_ms();
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let attempts: Option<i64> = conn
                .query_row("SELECT attempts FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(sqlite)?;
            let Some(attempts) = attempts else {
                return Ok(());
            };
            conn.execute(
                "UPDATE outbox SET attempts = ?2, not_before = ?3, claimed_until = 0 WHERE id = ?1",
                params![id, attempts + 1, now.saturating_add(backoff_ms(attempts))],
            )
            .map(drop)
            .map_err(sqlite)
        })
    }

    /// How many records wait, against the cap.
    pub fn outbox_status(&self) -> Result<OutboxStatus, VaultError> {
        let pending: u64 = self.with_conn(|conn, path| {
            conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| VaultError::sqlite(path, e))
        })?;
        let cap = self.outbox_cap;
        Ok(OutboxStatus {
            pending,
            cap,
            alert: pending.saturating_mul(100) >= cap.saturating_mul(ALERT_PERCENT),
        })
    }
}

/// The wait after `attempts` earlier failures: 1 s, 2 s, 4 s ... up to an hour.
fn backoff_ms(attempts: i64) -> i64 {
    let shift = u32::try_from(attempts.clamp(0, 30)).unwrap_or(30);
    FIRST_BACKOFF_MS
        .saturating_mul(1i64 << shift)
        .min(MAX_BACKOFF_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
    }
}
