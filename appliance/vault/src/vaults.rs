//! The appliance's vaults: the keyring, the audit log and the tenant databases, and the
//! tenant lifecycle over them (create, list, settings, delete, key rotation, retention).
//!
//! Every lifecycle action writes its audit record first and is not taken if that fails.
//! Deleting a tenant shreds its wrapped data key before removing its files. Nothing here
//! resolves who a tenant is: the caller hands in a tenant resolved from a verified identity.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::audit::{AuditKeys, AuditLog, Outcome};
use crate::tenant::{PurgeReport, Shared, TenantVault};
use crate::{
    Clock, DataKey, DerivedKey, KeyPurpose, Keyring, MasterKey, StorageHealth, TenantEntry,
    VaultError, fsperm,
};

const TENANT_FILE: &str = "vault.db";

/// Limits shared by every vault.
#[derive(Debug, Clone, Copy)]
pub struct VaultOptions {
    /// Below this many free bytes, new calls are refused.
    pub min_free_bytes: u64,
    /// Outbox records per tenant at which new calls are refused (alert from 80%).
    pub outbox_cap: u64,
}

impl Default for VaultOptions {
    fn default() -> Self {
        VaultOptions {
            min_free_bytes: 64 * 1024 * 1024,
            outbox_cap: 1_000_000,
        }
    }
}

/// The appliance's open vaults.
pub struct Vaults {
    state_dir: PathBuf,
    master: Mutex<MasterKey>,
    keyring: Mutex<Keyring>,
    audit: AuditLog,
    open: Mutex<HashMap<String, Arc<TenantVault>>>,
    shared: Shared,
}

impl std::fmt::Debug for Vaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vaults")
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// Checks a tenant id: 1 to 32 lowercase letters, digits and dashes, not starting with a dash.
/// It names a directory, so nothing else is allowed.
pub fn check_tenant_id(id: &str) -> Result<(), VaultError> {
    let safe = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if (1..=32).contains(&id.len()) && id.chars().all(safe) && !id.starts_with('-') {
        Ok(())
    } else {
        Err(VaultError::BadTenantId(id.to_owned()))
    }
}

impl Vaults {
    /// Opens the keyring and the audit log in `state_dir`.
    pub fn open(
        state_dir: &Path,
        master: MasterKey,
        options: VaultOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, VaultError> {
        fsperm::private_dir(state_dir)?;
        let keyring = Keyring::open(state_dir, &master)?;
        let previous = keyring.previous_audit_keys(&master)?;
        let audit = AuditLog::open_finishing_rotation(state_dir, &master, previous.as_ref())?;
        keyring.forget_previous_audit_keys()?;
        let health = Arc::new(StorageHealth::new(state_dir, options.min_free_bytes));
        Ok(Vaults {
            state_dir: state_dir.to_owned(),
            master: Mutex::new(master),
            keyring: Mutex::new(keyring),
            audit,
            open: Mutex::new(HashMap::new()),
            shared: Shared {
                health,
                clock,
                outbox_cap: options.outbox_cap,
            },
        })
    }

    /// The appliance's identity.
    pub fn appliance_id(&self) -> String {
        self.keyring.lock().appliance_id().to_owned()
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The storage state: whether new calls are accepted.
    pub fn storage(&self) -> &StorageHealth {
        &self.shared.health
    }

    fn tenant_path(&self, tenant: &str) -> PathBuf {
        self.state_dir
            .join("tenants")
            .join(tenant)
            .join(TENANT_FILE)
    }

    /// Writes the audit record of an action about to be taken; the action is refused if the
    /// record cannot be written.
    fn audit_start(&self, actor: &str, action: &str, target: &str) -> Result<(), VaultError> {
        let now = self.shared.clock.now_ms();
        self.audit
            .append(now, actor, action, target, Outcome::Started)
            .map(drop)
            .map_err(|e| VaultError::AuditUnavailable(Box::new(e)))
    }

    /// Records how the action went and passes its result on.
    fn audit_end<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        result: Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let outcome = if result.is_ok() {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        };
        let now = self.shared.clock.now_ms();
        let recorded = self.audit.append(now, actor, action, target, outcome);
        let value = result?;
        recorded.map_err(|e| VaultError::AuditUnavailable(Box::new(e)))?;
        Ok(value)
    }

    /// Creates a tenant: a fresh data key, wrapped in the keyring, and its empty database.
    pub fn create_tenant(
        &self,
        actor: &str,
        tenant: &str,
        name: &str,
    ) -> Result<Arc<TenantVault>, VaultError> {
        check_tenant_id(tenant)?;
        self.audit_start(actor, "tenant.create", tenant)?;
        let result = self.create_unaudited(tenant, name);
        self.audit_end(actor, "tenant.create", tenant, result)
    }

    fn create_unaudited(&self, tenant: &str, name: &str) -> Result<Arc<TenantVault>, VaultError> {
        // Held throughout, so two creations of one id cannot remove each other's file.
        let mut open = self.open.lock();
        if self.keyring.lock().contains(tenant)? {
            return Err(VaultError::TenantExists(tenant.to_owned()));
        }
        let path = self.tenant_path(tenant);
        // A file left by an earlier tenant of this id (its key shredded), or by a creation
        // that stopped before the keyring recorded it, opens with no key any more: it goes,
        // so the new tenant starts empty.
        remove_tenant_files(&path)?;
        // The database is made before the keyring records the tenant: a crash in between
        // leaves an orphan file the next creation removes, never a tenant without its file.
        let key = DataKey::generate();
        let vault = Arc::new(TenantVault::create(tenant, &path, &key, &self.shared)?);
        {
            let keyring = self.keyring.lock();
            let master = self.master.lock();
            keyring.add_tenant(&master, tenant, name, &key, self.shared.clock.now_ms())?;
        }
        open.insert(tenant.to_owned(), vault.clone());
        Ok(vault)
    }

    /// The key of `tenant`'s redaction tokens, derived from the master key.
    pub fn tenant_token_key(&self, tenant: &str) -> Result<DerivedKey, VaultError> {
        check_tenant_id(tenant)?;
        Ok(self.master.lock().derive(KeyPurpose::TenantTokens(tenant)))
    }

    /// The key of the sysadmins' TOTP secrets at rest, derived from the current master key.
    pub fn admin_totp_key(&self) -> DerivedKey {
        self.master.lock().derive(KeyPurpose::AdminTotp)
    }

    /// Every tenant on the appliance.
    pub fn tenants(&self) -> Result<Vec<TenantEntry>, VaultError> {
        self.keyring.lock().tenants()
    }

    /// The handle of `tenant`'s vault. The caller must have resolved `tenant` from a verified
    /// identity; this is the only way to reach a tenant's data.
    pub fn open_tenant(&self, tenant: &str) -> Result<Arc<TenantVault>, VaultError> {
        check_tenant_id(tenant)?;
        let mut open = self.open.lock();
        if let Some(vault) = open.get(tenant) {
            return Ok(vault.clone());
        }
        let keys = {
            let keyring = self.keyring.lock();
            keyring.data_keys(&self.master.lock(), tenant)?
        };
        let (vault, version) =
            TenantVault::open(tenant, &self.tenant_path(tenant), &keys, &self.shared)?;
        // A rekey that stopped after the file was rekeyed leaves an older key to forget.
        if keys.first().is_some_and(|(newest, _)| *newest == version) && keys.len() > 1 {
            self.keyring.lock().retire_keys_before(tenant, version)?;
        }
        let vault = Arc::new(vault);
        open.insert(tenant.to_owned(), vault.clone());
        Ok(vault)
    }

    /// Deletes a tenant: its wrapped data key first (after which every copy of its database is
    /// unreadable), then its files.
    pub fn delete_tenant(&self, actor: &str, tenant: &str) -> Result<(), VaultError> {
        check_tenant_id(tenant)?;
        if !self.keyring.lock().contains(tenant)? {
            return Err(VaultError::UnknownTenant(tenant.to_owned()));
        }
        self.audit_start(actor, "tenant.delete", tenant)?;
        let result = self.delete_unaudited(tenant);
        self.audit_end(actor, "tenant.delete", tenant, result)
    }

    fn delete_unaudited(&self, tenant: &str) -> Result<(), VaultError> {
        self.keyring.lock().shred(tenant)?;
        if let Some(vault) = self.open.lock().remove(tenant) {
            vault.close();
        }
        let path = self.tenant_path(tenant);
        remove_tenant_files(&path)?;
        if let Some(dir) = path.parent() {
            std::fs::remove_dir(dir)
                .or_else(ignore_missing)
                .map_err(|source| VaultError::Filesystem {
                    path: dir.to_owned(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Rotates the master key: every data key is re-wrapped under `new`, and the keyring and
    /// audit databases are rekeyed to keys derived from it. The keyring keeps the audit log's
    /// old keys (wrapped under `new`) until the audit log is rekeyed, so a crash in between is
    /// finished by the next [`Vaults::open`] with `new`.
    pub fn rotate_master(&self, actor: &str, new: MasterKey) -> Result<(), VaultError> {
        self.audit_start(actor, "key.rotate-master", "appliance")?;
        let result = (|| {
            let mut master = self.master.lock();
            let mut keyring = self.keyring.lock();
            // A broken chain is refused before anything changes, not halfway through.
            if let Some(seq) = self.audit.verify()?.first_broken {
                return Err(VaultError::AuditChainBroken { seq });
            }
            keyring.rotate_master(&master, &new, &AuditKeys::of(&master))?;
            self.audit.rotate_master(&new)?;
            keyring.forget_previous_audit_keys()?;
            *master = new;
            Ok(())
        })();
        self.audit_end(actor, "key.rotate-master", "appliance", result)
    }

    /// Rotates `tenant`'s data key: the new key is stored beside the old, the open database is
    /// rekeyed (writers wait, none fail), then the old key is forgotten.
    pub fn rotate_tenant_key(&self, actor: &str, tenant: &str) -> Result<(), VaultError> {
        let vault = self.open_tenant(tenant)?;
        self.audit_start(actor, "key.rotate-tenant", tenant)?;
        let result = (|| {
            let (version, key) = {
                let keyring = self.keyring.lock();
                keyring.add_key_version(&self.master.lock(), tenant)?
            };
            vault.rekey(&key)?;
            self.keyring.lock().retire_keys_before(tenant, version)
        })();
        self.audit_end(actor, "key.rotate-tenant", tenant, result)
    }

    /// Runs retention over every tenant, `batch` calls per transaction, and prunes the audit
    /// log. Each tenant that lost calls gets an audit record.
    pub fn purge_expired(&self, batch: usize) -> Result<Vec<(String, PurgeReport)>, VaultError> {
        self.purge_expired_with(batch, |_, _| {})
    }

    /// Like [`Vaults::purge_expired`], telling `progress` after each tenant how many of how
    /// many are done, for a sysadmin watching a long purge.
    pub fn purge_expired_with(
        &self,
        batch: usize,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<(String, PurgeReport)>, VaultError> {
        let mut reports = Vec::new();
        let tenants = self.tenants()?;
        let total = tenants.len();
        for (done, entry) in tenants.into_iter().enumerate() {
            let vault = match self.open_tenant(&entry.id) {
                Ok(vault) => vault,
                // Nothing in a missing file can expire; the other tenants are purged on time.
                Err(VaultError::TenantFileMissing { .. }) => {
                    progress(done + 1, total);
                    continue;
                }
                Err(error) => return Err(error),
            };
            let report = vault.purge_expired(batch)?;
            if report.calls > 0 {
                let now = self.shared.clock.now_ms();
                self.audit.append(
                    now,
                    "retention",
                    "retention.purge",
                    &entry.id,
                    Outcome::Succeeded,
                )?;
            }
            reports.push((entry.id, report));
            progress(done + 1, total);
        }
        self.audit.prune(self.shared.clock.now_ms())?;
        Ok(reports)
    }

    /// Checkpoints every open database, as a clean stop does.
    pub fn checkpoint_all(&self) -> Result<(), VaultError> {
        self.keyring.lock().checkpoint()?;
        self.audit.checkpoint()?;
        let open: Vec<_> = self.open.lock().values().cloned().collect();
        for vault in open {
            vault.checkpoint()?;
        }
        Ok(())
    }
}

fn ignore_missing(error: std::io::Error) -> std::io::Result<()> {
    match error.kind() {
        std::io::ErrorKind::NotFound => Ok(()),
        _ => Err(error),
    }
}

/// Removes a tenant database and its WAL and shared-memory files, if present.
fn remove_tenant_files(path: &Path) -> Result<(), VaultError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        std::fs::remove_file(&file)
            .or_else(ignore_missing)
            .map_err(|source| VaultError::Filesystem { path: file, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::{ManualClock, db};

    const T0: i64 = 1_796_083_200_000;

    fn options() -> VaultOptions {
        VaultOptions {
            min_free_bytes: 0,
            outbox_cap: 100,
        }
    }

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_credential(&[byte; 32]).unwrap()
    }

    fn open(dir: &Path, byte: u8) -> Vaults {
        Vaults::open(dir, master(byte), options(), Arc::new(ManualClock::at(T0))).unwrap()
    }

    #[test]
    fn a_master_rotation_stopped_before_the_audit_rekey_is_finished_on_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        {
            let vaults = open(dir.path(), 1);
            vaults.create_tenant("test", "acme", "Acme").unwrap();
            // The first half of a rotation, then the process stops: the keyring is under the
            // new master key, the audit log still under the old one.
            let old = vaults.master.lock();
            let previous = AuditKeys::of(&old);
            let mut keyring = vaults.keyring.lock();
            keyring.rotate_master(&old, &master(2), &previous).unwrap();
        }
        assert!(matches!(
            AuditLog::open(dir.path(), &master(2)),
            Err(VaultError::WrongKey { .. })
        ));

        let vaults = open(dir.path(), 2);
        let report = vaults.audit().verify().unwrap();
        assert_eq!(report.first_broken, None);
        assert_eq!(
            report.records, 2,
            "the tenant's creation, started and succeeded"
        );
        vaults.open_tenant("acme").unwrap();
        assert!(
            vaults
                .keyring
                .lock()
                .previous_audit_keys(&master(2))
                .unwrap()
                .is_none()
        );
        drop(vaults);
        AuditLog::open(dir.path(), &master(2)).unwrap();
    }

    #[test]
    fn a_rotation_that_stopped_before_the_keyring_rekey_leaves_the_old_key_working() {
        let dir = tempfile::tempdir().unwrap();
        {
            let vaults = open(dir.path(), 1);
            vaults.create_tenant("test", "acme", "Acme").unwrap();
        }
        // Only the rotation's transaction committed: the old audit keys wrapped under a new
        // master key, in a keyring still under the old one.
        let key = master(1).derive(KeyPurpose::Keyring);
        let keyring = db::open_encrypted(&dir.path().join("keyring.db"), key.expose()).unwrap();
        for purpose in ["@audit", "@audit-chain"] {
            keyring
                .execute(
                    "INSERT INTO audit_rotation VALUES (?1, 'another-master', x'00')",
                    [purpose],
                )
                .unwrap();
        }
        drop(keyring);

        let vaults = open(dir.path(), 1);
        assert_eq!(vaults.audit().verify().unwrap().first_broken, None);
        vaults.open_tenant("acme").unwrap();
    }

    #[test]
    fn a_broken_audit_chain_is_not_signed_again_by_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let vaults = open(dir.path(), 1);
        vaults.create_tenant("test", "acme", "Acme").unwrap();
        let key = AuditKeys::of(&master(1)).database;
        db::open_encrypted(&dir.path().join("audit.db"), key.expose())
            .unwrap()
            .execute("UPDATE records SET target = 'globex' WHERE seq = 1", [])
            .unwrap();

        let error = vaults.rotate_master("test", master(2)).unwrap_err();
        assert!(
            matches!(error, VaultError::AuditChainBroken { seq: 1 }),
            "{error}"
        );
        assert_eq!(vaults.audit().verify().unwrap().first_broken, Some(1));
        drop(vaults);
        let clock = Arc::new(ManualClock::at(T0));
        assert!(Vaults::open(dir.path(), master(2), options(), clock).is_err());
        open(dir.path(), 1);
    }
}
