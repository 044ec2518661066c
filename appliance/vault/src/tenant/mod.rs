//! One tenant's vault: its SQLCipher database, reached only through a [`TenantVault`] handle.
//!
//! A handle is made only by [`crate::Vaults`], for one tenant, with that tenant's data key;
//! there is no way to name another tenant's data through it, so a foreign call id finds
//! exactly what a random one finds: nothing. It never logs stored text.

mod browse;
mod calls;
mod delivery;
mod outbox;
mod retention;
pub(crate) mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use rusqlite::Connection;

use crate::{Clock, DataKey, StorageHealth, VaultError, db, migrate};

pub use browse::{CallStats, CallSummary};
pub use calls::{CallRecord, NewCall, NewSegment, StoredSegment};
pub use delivery::OutboundSegment;
pub use outbox::{Enqueued, NewOutboxRecord, OutboxItem, OutboxStatus};
pub use retention::{PURGE_BATCH_CALLS, PurgeReport, RetentionDays};

/// An open tenant vault. Every method takes the one connection in turn; a write returns only
/// once its transaction is committed to disk.
pub struct TenantVault {
    tenant: String,
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
    health: Arc<StorageHealth>,
    clock: Arc<dyn Clock>,
    outbox_cap: u64,
}

impl std::fmt::Debug for TenantVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantVault")
            .field("tenant", &self.tenant)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What every tenant vault of the appliance shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) health: Arc<StorageHealth>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) outbox_cap: u64,
}

impl TenantVault {
    /// Makes a new, empty vault at `path` under `key`, where no file may be left.
    pub(crate) fn create(
        tenant: &str,
        path: &Path,
        key: &DataKey,
        shared: &Shared,
    ) -> Result<Self, VaultError> {
        let conn = db::open_encrypted(path, key.expose())?;
        migrate::apply(path, &conn, schema::MIGRATIONS)?;
        Ok(TenantVault::over(tenant, path, conn, shared))
    }

    /// Opens the existing vault at `path` with the first of `keys` that opens it, newest
    /// first, and brings its schema up to date. Returns the vault and the version of the key
    /// that opened it. A missing file is an error, never a new empty vault: the tenant's calls
    /// would silently start again from nothing.
    pub(crate) fn open(
        tenant: &str,
        path: &Path,
        keys: &[(i64, DataKey)],
        shared: &Shared,
    ) -> Result<(Self, i64), VaultError> {
        let present = path.try_exists().map_err(|source| VaultError::Filesystem {
            path: path.to_owned(),
            source,
        })?;
        if !present {
            return Err(VaultError::TenantFileMissing {
                tenant: tenant.to_owned(),
                path: path.to_owned(),
            });
        }
        let mut last = VaultError::UnknownTenant(tenant.to_owned());
        for (version, key) in keys {
            match db::open_encrypted(path, key.expose()) {
                Ok(conn) => {
                    migrate::apply(path, &conn, schema::MIGRATIONS)?;
                    let vault = TenantVault::over(tenant, path, conn, shared);
                    return Ok((vault, *version));
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// A vault over a connection already open and keyed.
    pub(crate) fn over(tenant: &str, path: &Path, conn: Connection, shared: &Shared) -> Self {
        TenantVault {
            tenant: tenant.to_owned(),
            path: path.to_owned(),
            conn: Mutex::new(Some(conn)),
            health: shared.health.clone(),
            clock: shared.clock.clone(),
            outbox_cap: shared.outbox_cap,
        }
    }

    /// The tenant this handle was opened for.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection; a failure that shows the storage is full or read-only is
    /// reported to the shared storage state, so new calls stop everywhere.
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&Connection, &Path) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let guard = self.conn.lock();
        let conn = guard
            .as_ref()
            .ok_or_else(|| VaultError::UnknownTenant(self.tenant.clone()))?;
        let result = f(conn, &self.path);
        // A waiting writer goes next: a purge taking the lock batch after batch must not
        // starve a call that is storing segments.
        MutexGuard::unlock_fair(guard);
        if let Err(error) = &result {
            self.health.note(error);
        }
        result
    }

    /// Problems found by `PRAGMA integrity_check` and `PRAGMA cipher_integrity_check` (which
    /// verifies every page's HMAC); empty when the file is sound.
    pub fn integrity_problems(&self) -> Result<Vec<String>, VaultError> {
        self.with_conn(|conn, path| db::integrity_problems(path, conn))
    }

    /// Writes the WAL into the database file and truncates it.
    pub fn checkpoint(&self) -> Result<(), VaultError> {
        self.with_conn(|conn, path| db::checkpoint_truncate(path, conn))
    }

    /// Re-encrypts the database under `key` while it stays open; writers wait for the one
    /// connection meanwhile and carry on after.
    pub(crate) fn rekey(&self, key: &DataKey) -> Result<(), VaultError> {
        self.with_conn(|conn, path| {
            conn.pragma_update(None, "rekey", db::key_literal(key.expose()).as_str())
                .map_err(|e| VaultError::sqlite(path, e))?;
            db::checkpoint_truncate(path, conn)
        })
    }

    /// Closes the database for good: every later call on this handle fails as for a tenant
    /// that does not exist.
    pub(crate) fn close(&self) {
        self.conn.lock().take();
    }
}

#[cfg(test)]
mod tests;
