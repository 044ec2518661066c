//! What the sync client needs from the outbox beyond claim and ack: batches that keep each
//! call's records in order, claims handed back without a penalty, the segment an outbox record
//! names, the age of the oldest record, and the purge of one call on the control plane's word.
//!
//! Nothing here reads or returns the locally kept transcript text: only the redacted form.

use rusqlite::{OptionalExtension, params};

use super::{OutboxItem, TenantVault};
use crate::VaultError;

/// The redacted form of one stored segment: what may leave the box.
#[derive(Clone, PartialEq)]
pub struct OutboundSegment {
    /// The segment's id within the tenant.
    pub id: i64,
    /// The call it belongs to.
    pub call_id: String,
    /// The track it was heard on.
    pub track: String,
    /// Start, in milliseconds from the start of the call.
    pub start_ms: i64,
    /// End, in milliseconds from the start of the call.
    pub end_ms: i64,
    /// The text with every detected entity replaced.
    pub redacted: String,
    /// The recogniser's confidence, 0 to 1.
    pub confidence: f64,
}

impl std::fmt::Debug for OutboundSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundSegment")
            .field("id", &self.id)
            .field("call_id", &self.call_id)
            .field("redacted_len", &self.redacted.len())
            .finish_non_exhaustive()
    }
}

impl TenantVault {
    /// Lends up to `max` ready records for `lease_ms`, oldest first. Unlike
    /// [`TenantVault::claim`], several records of one call may come together, as a prefix of
    /// that call's waiting records: a record is taken only when no earlier record of its call
    /// is lent elsewhere or waiting out a backoff, so a receiver that applies a batch in order
    /// sees each call in order.
    pub fn claim_in_order(&self, max: usize, lease_ms: i64) -> Result<Vec<OutboxItem>, VaultError> {
        let now = self.clock.now_ms();
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let tx = conn.unchecked_transaction().map_err(sqlite)?;
            let items = {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT id, kind, call_id, idempotency_key, payload, attempts FROM outbox o
                         WHERE not_before <= ?1 AND claimed_until <= ?1
                         AND NOT EXISTS (SELECT 1 FROM outbox e
                                         WHERE e.call_id = o.call_id AND e.id < o.id
                                         AND (e.claimed_until > ?1 OR e.not_before > ?1))
                         ORDER BY id LIMIT ?2",
                    )
                    .map_err(sqlite)?;
                let limit = i64::try_from(max).unwrap_or(i64::MAX);
                let rows = stmt
                    .query_map(params![now, limit], OutboxItem::from_row)
                    .map_err(sqlite)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(sqlite)?
            };
            let until = now.saturating_add(lease_ms);
            let mut update = conn
                .prepare_cached("UPDATE outbox SET claimed_until = ?2 WHERE id = ?1")
                .map_err(sqlite)?;
            for item in &items {
                update.execute(params![item.id, until]).map_err(sqlite)?;
            }
            drop(update);
            tx.commit().map_err(sqlite)?;
            Ok(items)
        })
    }

    /// Acknowledges many records in one transaction: the control plane has them all.
    pub fn ack_many(&self, ids: &[i64]) -> Result<(), VaultError> {
        self.for_each_id(ids, "DELETE FROM outbox WHERE id = ?1")
    }

    /// Hands claimed records back at once, without counting an attempt: the connection
    /// failed, not the records.
    pub fn release(&self, ids: &[i64]) -> Result<(), VaultError> {
        self.for_each_id(ids, "UPDATE outbox SET claimed_until = 0 WHERE id = ?1")
    }

    /// Hands back every claim, as the only sender does when it starts: a sender that was
    /// killed left leases that nobody holds any more.
    pub fn release_all_claims(&self) -> Result<(), VaultError> {
        self.with_conn(|conn, path| {
            conn.execute(
                "UPDATE outbox SET claimed_until = 0 WHERE claimed_until > 0",
                [],
            )
            .map(drop)
            .map_err(|e| VaultError::sqlite(path, e))
        })
    }

    fn for_each_id(&self, ids: &[i64], sql: &str) -> Result<(), VaultError> {
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let tx = conn.unchecked_transaction().map_err(sqlite)?;
            let mut stmt = conn.prepare_cached(sql).map_err(sqlite)?;
            for id in ids {
                stmt.execute([id]).map_err(sqlite)?;
            }
            drop(stmt);
            tx.commit().map_err(sqlite)
        })
    }

    /// When the oldest waiting record was queued (milliseconds since the Unix epoch), if any.
    pub fn outbox_oldest_ms(&self) -> Result<Option<i64>, VaultError> {
        self.with_conn(|conn, path| {
            conn.query_row("SELECT min(created_at) FROM outbox", [], |r| r.get(0))
                .map_err(|e| VaultError::sqlite(path, e))
        })
    }

    /// The redacted form of segment `id`, or `None` when it is gone (its call was purged).
    pub fn outbound_segment(&self, id: i64) -> Result<Option<OutboundSegment>, VaultError> {
        self.with_conn(|conn, path| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT call_id, track, start_ms, end_ms, redacted, confidence
                     FROM segments WHERE id = ?1",
                )
                .map_err(|e| VaultError::sqlite(path, e))?;
            stmt.query_row([id], |r| {
                Ok(OutboundSegment {
                    id,
                    call_id: r.get(0)?,
                    track: r.get(1)?,
                    start_ms: r.get(2)?,
                    end_ms: r.get(3)?,
                    redacted: r.get(4)?,
                    confidence: r.get(5)?,
                })
            })
            .optional()
            .map_err(|e| VaultError::sqlite(path, e))
        })
    }

    /// Deletes one call with its segments and outbox records, queues its deletion record for
    /// the control plane and truncates the WAL. Returns false when this tenant has no such
    /// call, exactly as for a call of another tenant.
    pub fn purge_call(&self, call_id: &str) -> Result<bool, VaultError> {
        let now = self.clock.now_ms();
        let deleted = self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let tx = conn.unchecked_transaction().map_err(sqlite)?;
            let deleted = conn
                .execute("DELETE FROM calls WHERE id = ?1", [call_id])
                .map_err(sqlite)?;
            if deleted > 0 {
                conn.execute(
                    "INSERT INTO outbox (call_id, kind, idempotency_key, payload, created_at)
                     VALUES (NULL, 'deletion', ?1, ?2, ?3) ON CONFLICT (idempotency_key) DO NOTHING",
                    params![format!("deletion/{call_id}"), call_id, now],
                )
                .map_err(sqlite)?;
            }
            tx.commit().map_err(sqlite)?;
            Ok(deleted > 0)
        })?;
        if deleted {
            self.checkpoint()?;
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests;
