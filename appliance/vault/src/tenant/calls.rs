//! Calls and their transcript segments: the insert API the call pipeline uses.
//!
//! A segment is committed together with its outbox record, in one transaction, and the insert
//! returns only once that transaction is on disk. Text is stored as the tenant's policy keeps
//! it and is never logged or shown in `Debug`.

use std::fmt;

use rusqlite::{Connection, OptionalExtension, params};

use super::TenantVault;
use crate::VaultError;

/// A call as it starts. The tenant is the handle's own; a call cannot name another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    /// The call's id, unique within the tenant (the trunk's call id or one made for it).
    pub id: String,
    /// The trunk it arrived on.
    pub trunk: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
}

/// A stored call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The call's id.
    pub id: String,
    /// The tenant it belongs to.
    pub tenant: String,
    /// The trunk it arrived on.
    pub trunk: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// When it ended, once it has.
    pub ended_at_ms: Option<i64>,
}

/// A transcript segment as the redactor hands it over.
#[derive(Clone, PartialEq)]
pub struct NewSegment {
    /// The track it was heard on (`caller`, `callee`, `agent`).
    pub track: String,
    /// Start, in milliseconds from the start of the call.
    pub start_ms: i64,
    /// End, in milliseconds from the start of the call.
    pub end_ms: i64,
    /// The text as the tenant's policy keeps it locally; `None` when the policy keeps only the
    /// redacted form.
    pub text: Option<String>,
    /// The text with every detected entity replaced: the only form that may leave the box.
    pub redacted: String,
    /// The recogniser's confidence, 0 to 1.
    pub confidence: f64,
}

/// A stored segment.
#[derive(Clone, PartialEq)]
pub struct StoredSegment {
    /// The segment's id within the tenant.
    pub id: i64,
    /// The call it belongs to.
    pub call_id: String,
    /// What was stored.
    pub segment: NewSegment,
}

impl fmt::Debug for NewSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Transcript text never reaches a log, even through a Debug print.
        f.debug_struct("NewSegment")
            .field("track", &self.track)
            .field("start_ms", &self.start_ms)
            .field("end_ms", &self.end_ms)
            .field("text_len", &self.text.as_ref().map(String::len))
            .field("redacted_len", &self.redacted.len())
            .field("confidence", &self.confidence)
            .finish()
    }
}

impl fmt::Debug for StoredSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSegment")
            .field("id", &self.id)
            .field("call_id", &self.call_id)
            .field("segment", &self.segment)
            .finish()
    }
}

impl TenantVault {
    /// Records a new call. Refused while the storage is full or read-only, or while the outbox
    /// is at its cap, so calls that are running keep the room they need.
    pub fn begin_call(&self, call: &NewCall) -> Result<(), VaultError> {
        self.health.check()?;
        let status = self.outbox_status()?;
        if status.pending >= status.cap {
            return Err(VaultError::OutboxFull {
                tenant: self.tenant.clone(),
                pending: status.pending,
            });
        }
        self.with_conn(|conn, path| {
            conn.execute(
                "INSERT INTO calls (id, trunk, started_at) VALUES (?1, ?2, ?3)",
                params![call.id, call.trunk, call.started_at_ms],
            )
            .map(drop)
            .map_err(|e| VaultError::sqlite(path, e))
        })
    }

    /// Marks a call ended.
    pub fn end_call(&self, call_id: &str, ended_at_ms: i64) -> Result<(), VaultError> {
        self.with_conn(|conn, path| {
            let changed = conn
                .execute(
                    "UPDATE calls SET ended_at = ?2 WHERE id = ?1",
                    params![call_id, ended_at_ms],
                )
                .map_err(|e| VaultError::sqlite(path, e))?;
            if changed == 0 {
                return Err(VaultError::UnknownCall(call_id.to_owned()));
            }
            Ok(())
        })
    }

    /// Stores a segment of `call_id` with its outbox record and returns the segment's id once
    /// both are durable (WAL fsynced). Segments of a running call are stored even when new
    /// calls are refused: dropping them would lose what the caller already said.
    pub fn insert_segment(&self, call_id: &str, segment: &NewSegment) -> Result<i64, VaultError> {
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let tx = conn.unchecked_transaction().map_err(sqlite)?;
            if !call_exists(conn, call_id).map_err(sqlite)? {
                return Err(VaultError::UnknownCall(call_id.to_owned()));
            }
            let id = self.insert_one(conn, call_id, segment).map_err(sqlite)?;
            tx.commit().map_err(sqlite)?;
            Ok(id)
        })
    }

    /// Stores many segments of `call_id` in one transaction, durable on return; for imports
    /// and catching up, where one commit per segment would be needlessly slow.
    pub fn insert_segments(
        &self,
        call_id: &str,
        segments: &[NewSegment],
    ) -> Result<Vec<i64>, VaultError> {
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let tx = conn.unchecked_transaction().map_err(sqlite)?;
            if !call_exists(conn, call_id).map_err(sqlite)? {
                return Err(VaultError::UnknownCall(call_id.to_owned()));
            }
            let ids = segments
                .iter()
                .map(|segment| self.insert_one(conn, call_id, segment).map_err(sqlite))
                .collect::<Result<Vec<_>, _>>()?;
            tx.commit().map_err(sqlite)?;
            Ok(ids)
        })
    }

    /// The call `call_id`, or `None` when this tenant has no such call, whoever else might.
    pub fn call(&self, call_id: &str) -> Result<Option<CallRecord>, VaultError> {
        self.with_conn(|conn, path| {
            conn.query_row(
                "SELECT id, trunk, started_at, ended_at FROM calls WHERE id = ?1",
                [call_id],
                |r| {
                    Ok(CallRecord {
                        id: r.get(0)?,
                        tenant: self.tenant.clone(),
                        trunk: r.get(1)?,
                        started_at_ms: r.get(2)?,
                        ended_at_ms: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| VaultError::sqlite(path, e))
        })
    }

    /// The segments of `call_id` in time order; empty when this tenant has no such call.
    pub fn segments(&self, call_id: &str) -> Result<Vec<StoredSegment>, VaultError> {
        self.with_conn(|conn, path| {
            let sqlite = |e| VaultError::sqlite(path, e);
            let mut stmt = conn
                .prepare(
                    "SELECT id, track, start_ms, end_ms, text, redacted, confidence
                     FROM segments WHERE call_id = ?1 ORDER BY start_ms, id",
                )
                .map_err(sqlite)?;
            let rows = stmt
                .query_map([call_id], |r| {
                    Ok(StoredSegment {
                        id: r.get(0)?,
                        call_id: call_id.to_owned(),
                        segment: NewSegment {
                            track: r.get(1)?,
                            start_ms: r.get(2)?,
                            end_ms: r.get(3)?,
                            text: r.get(4)?,
                            redacted: r.get(5)?,
                            confidence: r.get(6)?,
                        },
                    })
                })
                .map_err(sqlite)?;
            rows.collect::<Result<_, _>>().map_err(sqlite)
        })
    }

    /// How many segments this tenant holds.
    pub fn segment_count(&self) -> Result<u64, VaultError> {
        self.with_conn(|conn, path| {
            conn.query_row("SELECT count(*) FROM segments", [], |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| VaultError::sqlite(path, e))
        })
    }
}

impl TenantVault {
    /// Inserts a segment and its outbox record inside the caller's transaction.
    fn insert_one(
        &self,
        conn: &Connection,
        call_id: &str,
        segment: &NewSegment,
    ) -> rusqlite::Result<i64> {
        conn.execute(
            "INSERT INTO segments (call_id, track, start_ms, end_ms, text, redacted, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                call_id,
                segment.track,
                segment.start_ms,
                segment.end_ms,
                segment.text,
                segment.redacted,
                segment.confidence
            ],
        )?;
        let id = conn.last_insert_rowid();
        // The outbox names the segment; the sync client reads its redacted text at send time,
        // so the text is stored once and deleted once.
        conn.execute(
            "INSERT INTO outbox (call_id, kind, idempotency_key, payload, created_at)
             VALUES (?1, 'segment', ?2, ?3, ?4)",
            params![
                call_id,
                format!("segment/{id}"),
                id.to_string(),
                self.clock.now_ms()
            ],
        )?;
        Ok(id)
    }
}

fn call_exists(conn: &Connection, call_id: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT 1 FROM calls WHERE id = ?1", [call_id], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}
