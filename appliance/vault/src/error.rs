//! The one error type of the vault: what went wrong, and what the sysadmin should do about it.

use std::path::PathBuf;

use rusqlite::ErrorCode;

/// What can go wrong opening or using a vault database.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The directory or file could not be created, given its permissions or removed.
    #[error(
        "cannot prepare {path}: {source}; check that the state directory is writable by the daemon's user"
    )]
    Filesystem {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file exists but does not open with the key it should open with.
    #[error(
        "{path} does not open with its key: either the master key changed, the tenant was deleted, or the file is not a diala-edge database"
    )]
    WrongKey {
        /// The database file.
        path: PathBuf,
    },
    /// The linked SQLite library has no encryption; the build is broken.
    #[error("the linked SQLite has no SQLCipher support; this build cannot store data safely")]
    NoCipher,
    /// SQLite reported an error.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The file system is full: nothing new is accepted until space is freed.
    #[error(
        "the file system holding {path} is full; new calls are refused until space is freed (stored data is intact)"
    )]
    StorageFull {
        /// The database file or directory.
        path: PathBuf,
    },
    /// The file system is read-only or failing: nothing new is accepted.
    #[error(
        "cannot write to {path} ({reason}); new calls are refused until the file system is writable again (stored data is intact)"
    )]
    StorageUnavailable {
        /// The database file or directory.
        path: PathBuf,
        /// What the file system said.
        reason: String,
    },
    /// No tenant with this id exists on the appliance.
    #[error("no tenant `{0}` exists on this appliance")]
    UnknownTenant(String),
    /// The keyring holds the tenant but its database file is gone.
    #[error(
        "the database of tenant `{tenant}` is missing at {path}; restore it from a backup of the state directory, or delete the tenant to start it again empty"
    )]
    TenantFileMissing {
        /// The tenant.
        tenant: String,
        /// Where its database should be.
        path: PathBuf,
    },
    /// A tenant with this id already exists.
    #[error("tenant `{0}` already exists")]
    TenantExists(String),
    /// A tenant id outside the safe alphabet.
    #[error("`{0}` is not a tenant id: use 1 to 32 lowercase letters, digits and dashes")]
    BadTenantId(String),
    /// A retention period outside 1 to 365 days.
    #[error("a retention period of {0} days is not allowed: choose 1 to 365 days")]
    BadRetention(u32),
    /// A wrapped data key did not unwrap: the keyring was altered or the master key is wrong.
    #[error(
        "the data key of tenant `{0}` does not unwrap with this master key; the keyring was altered or belongs to another master key"
    )]
    KeyUnwrap(String),
    /// The tenant's outbox reached its cap: the control plane has been unreachable too long.
    #[error(
        "the outbox of tenant `{tenant}` holds {pending} records, its cap; check the connection to the control plane"
    )]
    OutboxFull {
        /// The tenant.
        tenant: String,
        /// Records waiting.
        pending: u64,
    },
    /// A segment was offered for a call that was never begun (or was already purged).
    #[error("no call `{0}` is open in this tenant's vault")]
    UnknownCall(String),
    /// The audit chain does not verify, so it is not signed again under a new key.
    #[error(
        "the audit chain is broken at record {seq}; the master key was not rotated, so the break stays visible: keep the state directory for investigation and run `diala-edge audit verify`"
    )]
    AuditChainBroken {
        /// The first record whose link does not hold.
        seq: i64,
    },
    /// The audit chain could not be written, so the action it would record was not taken.
    #[error("the action was not taken because its audit record could not be written: {0}")]
    AuditUnavailable(Box<VaultError>),
}

impl VaultError {
    /// Wraps a SQLite error on `path`, telling a full or read-only file system apart from other
    /// failures, because those stop new calls rather than fail one request.
    pub(crate) fn sqlite(path: &std::path::Path, source: rusqlite::Error) -> Self {
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => VaultError::StorageFull { path },
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::SystemIoFailure) => {
                VaultError::StorageUnavailable {
                    path,
                    reason: source.to_string(),
                }
            }
            Some(ErrorCode::NotADatabase) => VaultError::WrongKey { path },
            _ => VaultError::Sqlite { path, source },
        }
    }

    /// True when the error says the storage itself cannot take writes.
    pub fn is_storage(&self) -> bool {
        match self {
            VaultError::StorageFull { .. } | VaultError::StorageUnavailable { .. } => true,
            VaultError::AuditUnavailable(inner) => inner.is_storage(),
            _ => false,
        }
    }
}
