//! The reference control plane's SQLite store: enrollment tokens, issued certificates, every
//! record received (each idempotency key applied once), every frame received (a capture the
//! tests search for personal data), commands to push and their results, the last health.
//!
//! A batch is applied in one transaction and acknowledged only after it commits.

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};

use crate::protocol::{Batch, CommandResult, ControlMessage, RecordBody};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("control plane store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A value could not be encoded.
    #[error("control plane store: {0}")]
    Json(#[from] serde_json::Error),
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, appliance_id TEXT);
    CREATE TABLE IF NOT EXISTS certificates (
        serial TEXT PRIMARY KEY, appliance_id TEXT NOT NULL, not_after INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS records (
        id INTEGER PRIMARY KEY, appliance_id TEXT NOT NULL, tenant TEXT NOT NULL,
        key TEXT NOT NULL, kind TEXT NOT NULL, call_id TEXT, body TEXT NOT NULL,
        UNIQUE (appliance_id, tenant, key));
    CREATE TABLE IF NOT EXISTS frames (id INTEGER PRIMARY KEY, appliance_id TEXT, body BLOB);
    CREATE TABLE IF NOT EXISTS commands (
        id TEXT PRIMARY KEY, appliance_id TEXT NOT NULL, message TEXT NOT NULL,
        applied INTEGER, reason TEXT);
    CREATE TABLE IF NOT EXISTS health (appliance_id TEXT PRIMARY KEY, body TEXT NOT NULL);
";

/// A record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The tenant.
    pub tenant: String,
    /// The idempotency key.
    pub key: String,
    /// The kind (`segment`, `deletion`, ...).
    pub kind: String,
    /// The call, when the record has one.
    pub call_id: Option<String>,
    /// The body, JSON.
    pub body: String,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

fn kind_and_call(body: &RecordBody) -> (&'static str, Option<&str>) {
    match body {
        RecordBody::Segment(s) => ("segment", Some(&s.call_id)),
        RecordBody::CallSummary(s) => ("call-summary", Some(&s.call_id)),
        RecordBody::Deletion { call_id } => ("deletion", Some(call_id)),
        RecordBody::TenantDeletion => ("tenant-deletion", None),
        RecordBody::Audit(_) => ("audit", None),
        RecordBody::Alert(_) => ("alert", None),
    }
}

impl Store {
    /// Opens (creating) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// A new one-time enrollment token.
    pub fn create_token(&self) -> Result<String, StoreError> {
        let bytes: [u8; 16] = rand::random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.conn
            .lock()
            .execute("INSERT INTO tokens (token) VALUES (?1)", [&token])?;
        Ok(token)
    }

    /// Binds `token` to `appliance_id`: true the first time, or again for the same appliance
    /// (a retried enrollment); false for an unknown token or one bound to another appliance.
    pub fn bind_token(&self, token: &str, appliance_id: &str) -> Result<bool, StoreError> {
        let conn = self.conn.lock();
        let bound: Option<Option<String>> = conn
            .query_row(
                "SELECT appliance_id FROM tokens WHERE token = ?1",
                [token],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match bound {
            None => false,
            Some(Some(owner)) => owner == appliance_id,
            Some(None) => {
                conn.execute(
                    "UPDATE tokens SET appliance_id = ?2 WHERE token = ?1",
                    params![token, appliance_id],
                )?;
                true
            }
        })
    }

    /// Records an issued client certificate.
    pub fn add_certificate(
        &self,
        serial: &str,
        appliance_id: &str,
        not_after_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.lock().execute(
            "INSERT INTO certificates (serial, appliance_id, not_after) VALUES (?1, ?2, ?3)",
            params![serial, appliance_id, not_after_ms],
        )?;
        Ok(())
    }

    /// Revokes every certificate of `appliance_id`.
    pub fn revoke(&self, appliance_id: &str) -> Result<(), StoreError> {
        self.conn.lock().execute(
            "UPDATE certificates SET revoked = 1 WHERE appliance_id = ?1",
            [appliance_id],
        )?;
        Ok(())
    }

    /// `Some(revoked)` for a certificate issued to `appliance_id`; `None` when this control
    /// plane never issued `serial` to it.
    pub fn certificate_revoked(
        &self,
        serial: &str,
        appliance_id: &str,
    ) -> Result<Option<bool>, StoreError> {
        Ok(self
            .conn
            .lock()
            .query_row(
                "SELECT revoked FROM certificates WHERE serial = ?1 AND appliance_id = ?2",
                params![serial, appliance_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|revoked| revoked != 0))
    }

    /// Keeps the raw frame, then applies a batch in one transaction: each record whose key
    /// this appliance and tenant already sent is dropped. Returns (applied, duplicates).
    pub fn apply_batch(
        &self,
        appliance_id: &str,
        frame: &[u8],
        batch: &Batch,
    ) -> Result<(u32, u32), StoreError> {
        let conn = self.conn.lock();
        let tx = conn.unchecked_transaction()?;
        conn.execute(
            "INSERT INTO frames (appliance_id, body) VALUES (?1, ?2)",
            params![appliance_id, frame],
        )?;
        let (mut applied, mut duplicates) = (0, 0);
        let mut insert = conn.prepare_cached(
            "INSERT INTO records (appliance_id, tenant, key, kind, call_id, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?;
        for record in &batch.records {
            let (kind, call_id) = kind_and_call(&record.body);
            let body = serde_json::to_string(&record.body)?;
            let params = params![appliance_id, record.tenant, record.key, kind, call_id, body];
            match insert.execute(params)? {
                0 => duplicates += 1,
                _ => applied += 1,
            }
        }
        drop(insert);
        tx.commit()?;
        Ok((applied, duplicates))
    }

    /// Keeps a frame that is not a batch (hello, health, results) in the capture.
    pub fn capture(&self, appliance_id: &str, frame: &[u8]) -> Result<(), StoreError> {
        self.conn.lock().execute(
            "INSERT INTO frames (appliance_id, body) VALUES (?1, ?2)",
            params![appliance_id, frame],
        )?;
        Ok(())
    }

    /// Every record received from `appliance_id`, in the order applied.
    pub fn records(&self, appliance_id: &str) -> Result<Vec<StoredRecord>, StoreError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(
            "SELECT tenant, key, kind, call_id, body FROM records WHERE appliance_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([appliance_id], |r| {
            Ok(StoredRecord {
                tenant: r.get(0)?,
                key: r.get(1)?,
                kind: r.get(2)?,
                call_id: r.get(3)?,
                body: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every frame received, as bytes.
    pub fn frames(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare("SELECT body FROM frames ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queues a settings push or command for `appliance_id`; it is sent on every connection
    /// until a result comes back.
    pub fn queue(
        &self,
        appliance_id: &str,
        id: &str,
        message: &ControlMessage,
    ) -> Result<(), StoreError> {
        self.conn.lock().execute(
            "INSERT INTO commands (id, appliance_id, message) VALUES (?1, ?2, ?3)",
            params![id, appliance_id, serde_json::to_string(message)?],
        )?;
        Ok(())
    }

    /// Commands for `appliance_id` without a result, oldest first, skipping `sent`.
    pub fn pending(&self, appliance_id: &str) -> Result<Vec<(String, ControlMessage)>, StoreError> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(
            "SELECT id, message FROM commands WHERE appliance_id = ?1 AND applied IS NULL ORDER BY rowid",
        )?;
        let rows = stmt.query_map([appliance_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row?;
            out.push((id, serde_json::from_str(&text)?));
        }
        Ok(out)
    }

    /// Records the result of a command.
    pub fn command_result(
        &self,
        appliance_id: &str,
        result: &CommandResult,
    ) -> Result<(), StoreError> {
        self.conn.lock().execute(
            "UPDATE commands SET applied = ?3, reason = ?4 WHERE id = ?1 AND appliance_id = ?2",
            params![result.id, appliance_id, result.applied, result.reason],
        )?;
        Ok(())
    }

    /// The result of a command: `None` while it waits, else whether it was applied and why not.
    pub fn result_of(&self, id: &str) -> Result<Option<(bool, Option<String>)>, StoreError> {
        let row: Option<(Option<bool>, Option<String>)> = self
            .conn
            .lock()
            .query_row(
                "SELECT applied, reason FROM commands WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(applied, reason)| applied.map(|a| (a, reason))))
    }

    /// Keeps the last health message of an appliance.
    pub fn set_health(&self, appliance_id: &str, body: &str) -> Result<(), StoreError> {
        self.conn.lock().execute(
            "INSERT INTO health (appliance_id, body) VALUES (?1, ?2)
             ON CONFLICT (appliance_id) DO UPDATE SET body = excluded.body",
            params![appliance_id, body],
        )?;
        Ok(())
    }
}
