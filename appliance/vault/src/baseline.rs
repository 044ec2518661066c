//! The benchmark's baseline: a tenant vault over a plain, unencrypted SQLite file with the
//! same schema, settings and code path, to measure what SQLCipher costs.
//!
//! Never used by the appliance; it exists only so the cost of encryption can be measured
//! against the same bundled library in the same run.

use std::path::Path;
use std::sync::Arc;

use crate::tenant::{Shared, TenantVault, schema};
use crate::{Clock, StorageHealth, VaultError, db, migrate};

/// Opens `path` as an unencrypted tenant vault for a benchmark baseline.
pub fn open_unencrypted(
    tenant: &str,
    path: &Path,
    clock: Arc<dyn Clock>,
) -> Result<TenantVault, VaultError> {
    let conn = db::open_unencrypted(path)?;
    migrate::apply(path, &conn, schema::MIGRATIONS)?;
    let dir = path.parent().unwrap_or(path);
    let shared = Shared {
        health: Arc::new(StorageHealth::new(dir, 0)),
        clock,
        outbox_cap: u64::MAX,
    };
    Ok(TenantVault::over(tenant, path, conn, &shared))
}

/// Opens `path` as an encrypted tenant vault under a fixed `key`, outside any keyring, so the
/// benchmark measures SQLCipher and the baseline with nothing else differing.
pub fn open_encrypted(
    tenant: &str,
    path: &Path,
    key: &crate::DataKey,
    clock: Arc<dyn Clock>,
) -> Result<TenantVault, VaultError> {
    let conn = db::open_encrypted(path, key.expose())?;
    migrate::apply(path, &conn, schema::MIGRATIONS)?;
    let dir = path.parent().unwrap_or(path);
    let shared = Shared {
        health: Arc::new(StorageHealth::new(dir, 0)),
        clock,
        outbox_cap: u64::MAX,
    };
    Ok(TenantVault::over(tenant, path, conn, &shared))
}
