//! The keyring: the appliance's own database, opened with a key derived from the master key.
//!
//! It records the appliance's identity, the tenants, and each tenant's data keys wrapped by
//! the master key. Deleting a tenant's rows here is the crypto-shredding step: with
//! `secure_delete` on and the WAL truncated, the wrapped key is gone from the disk, and every
//! copy of that tenant's database with it. It never holds a key in clear.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::audit::AuditKeys;
use crate::{DataKey, KeyPurpose, MasterKey, VaultError, db, wrap};

const FILE_NAME: &str = "keyring.db";

const MIGRATIONS: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS appliance (id TEXT NOT NULL, created_at INTEGER NOT NULL);",
    "CREATE TABLE tenants (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         created_at INTEGER NOT NULL
     );
     CREATE TABLE tenant_keys (
         tenant TEXT NOT NULL REFERENCES tenants(id),
         version INTEGER NOT NULL,
         master TEXT NOT NULL,
         wrapped BLOB NOT NULL,
         PRIMARY KEY (tenant, version, master)
     );",
    // The audit keys of the master key being replaced, wrapped under the new one, kept only
    // while a master rotation is under way.
    "CREATE TABLE audit_rotation (
         purpose TEXT PRIMARY KEY,
         master TEXT NOT NULL,
         wrapped BLOB NOT NULL
     );",
];

/// The names the previous audit keys are wrapped under; no tenant id can take them.
const AUDIT_DATABASE: &str = "@audit";
const AUDIT_CHAIN: &str = "@audit-chain";

/// A tenant as the keyring knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEntry {
    /// The tenant's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// The open keyring database.
#[derive(Debug)]
pub struct Keyring {
    conn: Connection,
    path: PathBuf,
    appliance_id: String,
    master_fingerprint: String,
}

impl Keyring {
    /// Opens the keyring in `state_dir`, creating it (and a new appliance id) on first start.
    pub fn open(state_dir: &Path, master: &MasterKey) -> Result<Self, VaultError> {
        let path = state_dir.join(FILE_NAME);
        let conn = db::open_encrypted(&path, master.derive(KeyPurpose::Keyring).expose())?;
        crate::migrate::apply(&path, &conn, MIGRATIONS)?;
        let sqlite = |e| VaultError::sqlite(&path, e);

        let existing: Option<String> = conn
            .query_row("SELECT id FROM appliance LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(sqlite)?;
        let appliance_id = match existing {
            Some(id) => id,
            None => {
                let id = hex::encode(rand::random::<[u8; 16]>());
                conn.execute(
                    "INSERT INTO appliance (id, created_at) VALUES (?1, unixepoch())",
                    [&id],
                )
                .map_err(sqlite)?;
                id
            }
        };

        let keyring = Keyring {
            conn,
            path,
            appliance_id,
            master_fingerprint: master.fingerprint(),
        };
        keyring.drop_superseded_wraps()?;
        Ok(keyring)
    }

    /// The appliance's identity, made at first start and stable for the life of its state.
    pub fn appliance_id(&self) -> &str {
        &self.appliance_id
    }

    /// Writes the WAL back into the database file, as a clean stop does before exiting.
    pub fn checkpoint(&self) -> Result<(), VaultError> {
        db::checkpoint_truncate(&self.path, &self.conn)
    }

    fn sqlite(&self, e: rusqlite::Error) -> VaultError {
        VaultError::sqlite(&self.path, e)
    }

    /// Every tenant, by id.
    pub fn tenants(&self) -> Result<Vec<TenantEntry>, VaultError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, created_at FROM tenants ORDER BY id")
            .map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TenantEntry {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at_ms: r.get(2)?,
                })
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sqlite(e))
    }

    /// Whether `tenant` exists.
    pub fn contains(&self, tenant: &str) -> Result<bool, VaultError> {
        self.conn
            .query_row("SELECT 1 FROM tenants WHERE id = ?1", [tenant], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| self.sqlite(e))
    }

    /// Records a new tenant with `key`, wrapped under `master`, as its data key version 1.
    pub(crate) fn add_tenant(
        &self,
        master: &MasterKey,
        tenant: &str,
        name: &str,
        key: &DataKey,
        now_ms: i64,
    ) -> Result<(), VaultError> {
        if self.contains(tenant)? {
            return Err(VaultError::TenantExists(tenant.to_owned()));
        }
        let wrapped = wrap::wrap(master, tenant, 1, key);
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.sqlite(e))?;
        tx.execute(
            "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![tenant, name, now_ms],
        )
        .map_err(|e| self.sqlite(e))?;
        self.insert_wrapped(tenant, 1, &wrapped)?;
        tx.commit().map_err(|e| self.sqlite(e))
    }

    fn insert_wrapped(&self, tenant: &str, version: i64, wrapped: &[u8]) -> Result<(), VaultError> {
        self.conn
            .execute(
                "INSERT INTO tenant_keys (tenant, version, master, wrapped) VALUES (?1, ?2, ?3, ?4)",
                params![tenant, version, self.master_fingerprint, wrapped],
            )
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    /// The tenant's data keys under this master key, newest version first. A rekey in progress
    /// leaves two versions; the database opens with one of them.
    pub(crate) fn data_keys(
        &self,
        master: &MasterKey,
        tenant: &str,
    ) -> Result<Vec<(i64, DataKey)>, VaultError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT version, wrapped FROM tenant_keys WHERE tenant = ?1 AND master = ?2
                 ORDER BY version DESC",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map(params![tenant, self.master_fingerprint], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| self.sqlite(e))?;
        let mut keys = Vec::new();
        for row in rows {
            let (version, wrapped) = row.map_err(|e| self.sqlite(e))?;
            let key = wrap::unwrap(master, tenant, version, &wrapped)
                .map_err(|_| VaultError::KeyUnwrap(tenant.to_owned()))?;
            keys.push((version, key));
        }
        if keys.is_empty() {
            return Err(VaultError::UnknownTenant(tenant.to_owned()));
        }
        Ok(keys)
    }

    /// Stores a new data key version for `tenant` beside the current one, before the database
    /// is rekeyed to it, so a crash in between leaves a key that opens the file.
    pub(crate) fn add_key_version(
        &self,
        master: &MasterKey,
        tenant: &str,
    ) -> Result<(i64, DataKey), VaultError> {
        let newest: i64 = self
            .conn
            .query_row(
                "SELECT coalesce(max(version), 0) FROM tenant_keys WHERE tenant = ?1",
                [tenant],
                |r| r.get(0),
            )
            .map_err(|e| self.sqlite(e))?;
        let version = newest + 1;
        let key = DataKey::generate();
        self.insert_wrapped(tenant, version, &wrap::wrap(master, tenant, version, &key))?;
        Ok((version, key))
    }

    /// Forgets the versions of `tenant`'s key older than `version`, once the database no
    /// longer opens with them.
    pub(crate) fn retire_keys_before(&self, tenant: &str, version: i64) -> Result<(), VaultError> {
        self.conn
            .execute(
                "DELETE FROM tenant_keys WHERE tenant = ?1 AND version < ?2",
                params![tenant, version],
            )
            .map_err(|e| self.sqlite(e))?;
        self.checkpoint()
    }

    /// Crypto-shredding: deletes every wrapped key of `tenant` and the tenant itself, then
    /// truncates the WAL so no frame still carries the wrapped key.
    pub(crate) fn shred(&self, tenant: &str) -> Result<(), VaultError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.sqlite(e))?;
        tx.execute("DELETE FROM tenant_keys WHERE tenant = ?1", [tenant])
            .map_err(|e| self.sqlite(e))?;
        tx.execute("DELETE FROM tenants WHERE id = ?1", [tenant])
            .map_err(|e| self.sqlite(e))?;
        tx.commit().map_err(|e| self.sqlite(e))?;
        self.checkpoint()
    }

    /// Master key rotation: wraps every data key under `new` beside the old wrapping, rekeys
    /// this database to the key derived from `new`, then drops the old wrappings. A crash at
    /// any step leaves a keyring that one of the two master keys opens completely.
    ///
    /// `previous_audit` (the audit log's keys under `old`) is kept, wrapped under `new`, in
    /// the same transaction, so a crash before the audit log is rekeyed can be finished on the
    /// next start with only `new` at hand.
    pub(crate) fn rotate_master(
        &mut self,
        old: &MasterKey,
        new: &MasterKey,
        previous_audit: &AuditKeys,
    ) -> Result<(), VaultError> {
        let tenants: Vec<String> = self.tenants()?.into_iter().map(|t| t.id).collect();
        let new_fingerprint = new.fingerprint();
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| self.sqlite(e))?;
        for tenant in &tenants {
            for (version, key) in self.data_keys(old, tenant)? {
                self.conn
                    .execute(
                        "INSERT OR REPLACE INTO tenant_keys (tenant, version, master, wrapped)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![
                            tenant,
                            version,
                            new_fingerprint,
                            wrap::wrap(new, tenant, version, &key)
                        ],
                    )
                    .map_err(|e| self.sqlite(e))?;
            }
        }
        for (purpose, key) in [
            (AUDIT_DATABASE, &previous_audit.database),
            (AUDIT_CHAIN, &previous_audit.chain),
        ] {
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO audit_rotation (purpose, master, wrapped)
                     VALUES (?1, ?2, ?3)",
                    params![purpose, new_fingerprint, wrap::wrap(new, purpose, 0, key)],
                )
                .map_err(|e| self.sqlite(e))?;
        }
        tx.commit().map_err(|e| self.sqlite(e))?;

        let rekey = db::key_literal(new.derive(KeyPurpose::Keyring).expose());
        self.conn
            .pragma_update(None, "rekey", rekey.as_str())
            .map_err(|e| self.sqlite(e))?;
        self.master_fingerprint = new_fingerprint;
        self.drop_superseded_wraps()?;
        self.checkpoint()
    }

    /// The audit keys of the master key this one replaced, while that rotation is unfinished;
    /// `None` when there is none under this master key.
    pub(crate) fn previous_audit_keys(
        &self,
        master: &MasterKey,
    ) -> Result<Option<AuditKeys>, VaultError> {
        let key = |purpose: &str| -> Result<Option<DataKey>, VaultError> {
            let wrapped: Option<Vec<u8>> = self
                .conn
                .query_row(
                    "SELECT wrapped FROM audit_rotation WHERE purpose = ?1 AND master = ?2",
                    params![purpose, self.master_fingerprint],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.sqlite(e))?;
            wrapped
                .map(|wrapped| wrap::unwrap(master, purpose, 0, &wrapped))
                .transpose()
                .map_err(|_| VaultError::KeyUnwrap(purpose.to_owned()))
        };
        Ok(match (key(AUDIT_DATABASE)?, key(AUDIT_CHAIN)?) {
            (Some(database), Some(chain)) => Some(AuditKeys { database, chain }),
            _ => None,
        })
    }

    /// Forgets the previous audit keys once the audit log is under the current master key
    /// (or, when they were kept for a rotation that never rekeyed the keyring, are useless).
    pub(crate) fn forget_previous_audit_keys(&self) -> Result<(), VaultError> {
        self.conn
            .execute("DELETE FROM audit_rotation", [])
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    /// Removes wrappings under another master key where this one has the same key version: the
    /// leftovers of a rotation that stopped after the rekey.
    fn drop_superseded_wraps(&self) -> Result<(), VaultError> {
        self.conn
            .execute(
                "DELETE FROM tenant_keys WHERE master != ?1 AND EXISTS (
                     SELECT 1 FROM tenant_keys k WHERE k.tenant = tenant_keys.tenant
                     AND k.version = tenant_keys.version AND k.master = ?1)",
                [&self.master_fingerprint],
            )
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_credential(&[byte; 32]).unwrap()
    }

    #[test]
    fn reopens_with_same_identity() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let first = Keyring::open(&state, &master(1))
            .unwrap()
            .appliance_id()
            .to_owned();
        let second = Keyring::open(&state, &master(1)).unwrap();
        assert_eq!(first, second.appliance_id());
        assert_eq!(first.len(), 32);
    }

    #[test]
    fn wrong_master_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Keyring::open(dir.path(), &master(1))
            .unwrap()
            .checkpoint()
            .unwrap();
        let err = Keyring::open(dir.path(), &master(2)).unwrap_err();
        assert!(matches!(err, VaultError::WrongKey { .. }), "{err}");
    }

    #[test]
    fn file_is_private_and_holds_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let keyring = Keyring::open(&state, &master(1)).unwrap();
        let id = keyring.appliance_id().to_owned();
        keyring.checkpoint().unwrap();
        drop(keyring);

        let file = state.join(FILE_NAME);
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&state), 0o700);
    }

    #[test]
    fn tenants_keys_and_shredding() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Keyring::open(dir.path(), &master(1)).unwrap();
        let key = DataKey::generate();
        keyring
            .add_tenant(&master(1), "acme", "Acme", &key, 5)
            .unwrap();
        assert!(matches!(
            keyring.add_tenant(&master(1), "acme", "Acme", &key, 5),
            Err(VaultError::TenantExists(_))
        ));
        let keys = keyring.data_keys(&master(1), "acme").unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].1.expose(), key.expose());

        let (version, newer) = keyring.add_key_version(&master(1), "acme").unwrap();
        assert_eq!(version, 2);
        keyring.retire_keys_before("acme", 2).unwrap();
        let keys = keyring.data_keys(&master(1), "acme").unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].1.expose(), newer.expose());

        keyring.shred("acme").unwrap();
        assert!(!keyring.contains("acme").unwrap());
        assert!(matches!(
            keyring.data_keys(&master(1), "acme"),
            Err(VaultError::UnknownTenant(_))
        ));
    }

    #[test]
    fn master_rotation_rewraps_and_rekeys() {
        let dir = tempfile::tempdir().unwrap();
        let mut keyring = Keyring::open(dir.path(), &master(1)).unwrap();
        let key = DataKey::generate();
        keyring
            .add_tenant(&master(1), "acme", "Acme", &key, 5)
            .unwrap();
        let audit = AuditKeys::of(&master(1));
        keyring
            .rotate_master(&master(1), &master(2), &audit)
            .unwrap();
        drop(keyring);

        assert!(matches!(
            Keyring::open(dir.path(), &master(1)),
            Err(VaultError::WrongKey { .. })
        ));
        let keyring = Keyring::open(dir.path(), &master(2)).unwrap();
        let keys = keyring.data_keys(&master(2), "acme").unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].1.expose(), key.expose());
    }

    #[test]
    fn links_sqlcipher() {
        let version = db::sqlcipher_version().unwrap();
        assert!(version.starts_with('4'), "{version}");
    }
}
