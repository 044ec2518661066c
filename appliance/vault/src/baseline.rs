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
    vault_over(tenant, path, db::open_unencrypted(path)?, clock)
}

/// Opens `path` as an encrypted tenant vault under a fixed `key`, outside any keyring, so the
/// benchmark measures SQLCipher and the baseline with nothing else differing.
pub fn open_encrypted(
    tenant: &str,
    path: &Path,
    key: &crate::DataKey,
    clock: Arc<dyn Clock>,
) -> Result<TenantVault, VaultError> {
    vault_over(tenant, path, db::open_encrypted(path, key.expose())?, clock)
}

/// The same schema and limits for both: no free-space floor, no outbox cap.
fn vault_over(
    tenant: &str,
    path: &Path,
    conn: rusqlite::Connection,
    clock: Arc<dyn Clock>,
) -> Result<TenantVault, VaultError> {
    migrate::apply(path, &conn, schema::MIGRATIONS)?;
    let dir = path.parent().unwrap_or(path);
    let shared = Shared {
        health: Arc::new(StorageHealth::new(dir, 0)),
        clock,
        outbox_cap: u64::MAX,
    };
    Ok(TenantVault::over(tenant, path, conn, &shared))
}
