//! The appliance's audit log: a SQLCipher database of records, each chained to the one before
//! by an HMAC under a key derived from the master key.
//!
//! A record is committed to disk before the action it records takes effect; if it cannot be
//! written, the action is not taken. Records older than 13 months are deleted, and the hash
//! of the last one deleted is kept as the chain's anchor, so what remains still verifies.
//! Editing, removing or reordering a record, even with the database key, breaks the chain at
//! that record. It never records transcript text or secrets.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Sha256;

use crate::{DAY_MS, DataKey, KeyPurpose, MasterKey, VaultError, db, migrate};

const FILE_NAME: &str = "audit.db";
/// 13 months, counted as 13 of the longest months so no record leaves early.
pub const AUDIT_KEEP_MS: i64 = 13 * 31 * DAY_MS;

const MIGRATIONS: &[&str] = &["CREATE TABLE records (
         seq INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         target TEXT NOT NULL,
         outcome TEXT NOT NULL,
         hash BLOB NOT NULL
     );
     CREATE TABLE anchor (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         seq INTEGER NOT NULL,
         hash BLOB NOT NULL
     );"];

/// How an audited action went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// About to be taken: written before the action, which is not taken if this fails.
    Started,
    /// Taken.
    Succeeded,
    /// Attempted and failed.
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Its place in the chain.
    pub seq: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who: `config`, `retention`, `admin:uid=0`, ...
    pub actor: String,
    /// What: `tenant.create`, `tenant.delete`, `key.rotate-master`, ...
    pub action: String,
    /// On what: a tenant id, `appliance`.
    pub target: String,
    /// How it went.
    pub outcome: String,
}

/// What the verifier found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Records checked.
    pub records: u64,
    /// The sequence number of the first record whose link does not hold, if any.
    pub first_broken: Option<i64>,
}

/// The two keys of the audit log, both derived from a master key: the database's and the
/// chain's.
pub(crate) struct AuditKeys {
    pub(crate) database: DataKey,
    pub(crate) chain: DataKey,
}

impl AuditKeys {
    /// The audit keys that belong to `master`.
    pub(crate) fn of(master: &MasterKey) -> Self {
        let bytes = |purpose| DataKey::from_bytes(*master.derive(purpose).expose());
        AuditKeys {
            database: bytes(KeyPurpose::Audit),
            chain: bytes(KeyPurpose::AuditChain),
        }
    }
}

/// The open audit database.
pub struct AuditLog {
    conn: Mutex<Connection>,
    path: PathBuf,
    chain_key: Mutex<DataKey>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens (creating if needed) the audit database in `state_dir`.
    pub fn open(state_dir: &Path, master: &MasterKey) -> Result<Self, VaultError> {
        Self::open_finishing_rotation(state_dir, master, None)
    }

    /// Opens the audit database under `master`'s keys. When it is still under `previous` (a
    /// master rotation stopped after the keyring was rekeyed and before this database was),
    /// the rotation is finished here: the chain is checked, signed again and the file rekeyed.
    pub(crate) fn open_finishing_rotation(
        state_dir: &Path,
        master: &MasterKey,
        previous: Option<&AuditKeys>,
    ) -> Result<Self, VaultError> {
        let path = state_dir.join(FILE_NAME);
        let keys = AuditKeys::of(master);
        let conn = match (db::open_encrypted(&path, keys.database.expose()), previous) {
            (Ok(conn), _) => conn,
            (Err(VaultError::WrongKey { .. }), Some(previous)) => {
                let conn = db::open_encrypted(&path, previous.database.expose())?;
                migrate::apply(&path, &conn, MIGRATIONS)?;
                let audit = AuditLog {
                    conn: Mutex::new(conn),
                    path: path.clone(),
                    chain_key: Mutex::new(DataKey::from_bytes(*previous.chain.expose())),
                };
                audit.resign(&[&previous.chain], &keys)?;
                return Ok(audit);
            }
            (Err(error), _) => return Err(error),
        };
        migrate::apply(&path, &conn, MIGRATIONS)?;
        Ok(AuditLog {
            conn: Mutex::new(conn),
            path,
            chain_key: Mutex::new(keys.chain),
        })
    }

    fn sqlite(&self, e: rusqlite::Error) -> VaultError {
        VaultError::sqlite(&self.path, e)
    }

    /// Appends a record and returns once it is on disk.
    pub fn append(
        &self,
        at_ms: i64,
        actor: &str,
        action: &str,
        target: &str,
        outcome: Outcome,
    ) -> Result<i64, VaultError> {
        let conn = self.conn.lock();
        let tx = conn.unchecked_transaction().map_err(|e| self.sqlite(e))?;
        let (last_seq, last_hash) = self.chain_head(&conn)?;
        let record = AuditRecord {
            seq: last_seq + 1,
            at_ms,
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.as_str().to_owned(),
        };
        let hash = link(&self.chain_key.lock(), &last_hash, &record);
        conn.execute(
            "INSERT INTO records (seq, at, actor, action, target, outcome, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                record.seq,
                record.at_ms,
                record.actor,
                record.action,
                record.target,
                record.outcome,
                hash
            ],
        )
        .map_err(|e| self.sqlite(e))?;
        tx.commit().map_err(|e| self.sqlite(e))?;
        Ok(record.seq)
    }

    /// The last record's sequence number and hash, or the anchor's when none remains.
    fn chain_head(&self, conn: &Connection) -> Result<(i64, Vec<u8>), VaultError> {
        let last = conn
            .query_row(
                "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sqlite(e))?;
        match last {
            Some(head) => Ok(head),
            None => self.anchor(conn),
        }
    }

    fn anchor(&self, conn: &Connection) -> Result<(i64, Vec<u8>), VaultError> {
        let anchor = conn
            .query_row("SELECT seq, hash FROM anchor WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|e| self.sqlite(e))?;
        Ok(anchor.unwrap_or((0, vec![0u8; 32])))
    }

    /// Every record still kept, oldest first.
    pub fn records(&self) -> Result<Vec<AuditRecord>, VaultError> {
        Ok(self
            .records_with_hashes()?
            .into_iter()
            .map(|(r, _)| r)
            .collect())
    }

    fn records_with_hashes(&self) -> Result<Vec<(AuditRecord, Vec<u8>)>, VaultError> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare(
                "SELECT seq, at, actor, action, target, outcome, hash FROM records ORDER BY seq",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map([], |r| {
                let record = AuditRecord {
                    seq: r.get(0)?,
                    at_ms: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    outcome: r.get(5)?,
                };
                Ok((record, r.get(6)?))
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sqlite(e))
    }

    /// Walks the chain from its anchor and reports the first record whose link does not hold:
    /// a gap in the sequence, or a hash that its content and predecessor do not give.
    pub fn verify(&self) -> Result<ChainReport, VaultError> {
        self.verify_under(&self.chain_key.lock())
    }

    fn verify_under(&self, key: &DataKey) -> Result<ChainReport, VaultError> {
        let (mut expected_seq, mut prev) = self.anchor(&self.conn.lock())?;
        let records = self.records_with_hashes()?;
        let mut report = ChainReport {
            records: 0,
            first_broken: None,
        };
        for (record, hash) in records {
            report.records += 1;
            expected_seq += 1;
            let recomputed = link(key, &prev, &record);
            if report.first_broken.is_none() && (record.seq != expected_seq || recomputed != hash) {
                report.first_broken = Some(record.seq);
            }
            expected_seq = record.seq;
            prev = hash;
        }
        Ok(report)
    }

    /// Deletes records older than 13 months before `now_ms`, moving the anchor to the last one
    /// deleted so the rest still verifies. Returns how many were deleted.
    pub fn prune(&self, now_ms: i64) -> Result<u64, VaultError> {
        let cutoff = now_ms.saturating_sub(AUDIT_KEEP_MS);
        let conn = self.conn.lock();
        let tx = conn.unchecked_transaction().map_err(|e| self.sqlite(e))?;
        let last: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT seq, hash FROM records WHERE at < ?1 ORDER BY seq DESC LIMIT 1",
                [cutoff],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sqlite(e))?;
        let Some((seq, hash)) = last else {
            return Ok(0);
        };
        // Records are appended in time order, so everything up to `seq` is old enough.
        let deleted = conn
            .execute("DELETE FROM records WHERE seq <= ?1", [seq])
            .map_err(|e| self.sqlite(e))?;
        conn.execute(
            "INSERT INTO anchor (id, seq, hash) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            params![seq, hash],
        )
        .map_err(|e| self.sqlite(e))?;
        tx.commit().map_err(|e| self.sqlite(e))?;
        Ok(u64::try_from(deleted).unwrap_or(0))
    }

    /// Master key rotation: the chain key changes with the master key, so every link is
    /// signed again under the new key, then the database is rekeyed.
    pub(crate) fn rotate_master(&self, new: &MasterKey) -> Result<(), VaultError> {
        let current = DataKey::from_bytes(*self.chain_key.lock().expose());
        self.resign(&[&current], &AuditKeys::of(new))
    }

    /// Signs the chain again under `to`'s chain key and rekeys the database to `to`'s
    /// database key. The chain must verify first, under `to` (signed again already, by a
    /// rotation that stopped before the rekey) or under one of `from`: a chain someone broke
    /// is never signed again, which would hide the break.
    fn resign(&self, from: &[&DataKey], to: &AuditKeys) -> Result<(), VaultError> {
        if self.verify_under(&to.chain)?.first_broken.is_none() {
            // Signed again already; only the rekey is left.
        } else {
            let mut intact = false;
            for key in from {
                if self.verify_under(key)?.first_broken.is_none() {
                    intact = true;
                    break;
                }
            }
            if !intact {
                let report = self.verify_under(from.first().copied().unwrap_or(&to.chain))?;
                return Err(VaultError::AuditChainBroken {
                    seq: report.first_broken.unwrap_or_default(),
                });
            }
            self.sign_chain(&to.chain)?;
        }
        let conn = self.conn.lock();
        let rekey = db::key_literal(to.database.expose());
        conn.pragma_update(None, "rekey", rekey.as_str())
            .map_err(|e| self.sqlite(e))?;
        *self.chain_key.lock() = DataKey::from_bytes(*to.chain.expose());
        db::checkpoint_truncate(&self.path, &conn)
    }

    /// Recomputes every link under `key`, in one transaction.
    fn sign_chain(&self, key: &DataKey) -> Result<(), VaultError> {
        let records = self.records_with_hashes()?;
        let conn = self.conn.lock();
        let tx = conn.unchecked_transaction().map_err(|e| self.sqlite(e))?;
        let (_, mut prev) = self.anchor(&conn)?;
        for (record, _) in records {
            let hash = link(key, &prev, &record);
            conn.execute(
                "UPDATE records SET hash = ?2 WHERE seq = ?1",
                params![record.seq, hash],
            )
            .map_err(|e| self.sqlite(e))?;
            prev = hash;
        }
        tx.commit().map_err(|e| self.sqlite(e))
    }

    /// Writes the WAL into the database file.
    pub fn checkpoint(&self) -> Result<(), VaultError> {
        db::checkpoint_truncate(&self.path, &self.conn.lock())
    }
}

/// The HMAC of a record's fields, length-prefixed so no two records encode alike, after the
/// previous record's hash.
fn link(key: &DataKey, prev: &[u8], record: &AuditRecord) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.expose())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(prev);
    mac.update(&record.seq.to_be_bytes());
    mac.update(&record.at_ms.to_be_bytes());
    for field in [
        &record.actor,
        &record.action,
        &record.target,
        &record.outcome,
    ] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}
