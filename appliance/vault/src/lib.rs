//! Keys and encrypted storage.
//!
//! The master key comes from the secrets loader and never leaves this crate except as keys
//! derived from it. Every database is a SQLCipher file opened with a raw 256-bit key, in a 0700
//! directory as a 0600 file. This crate knows nothing of networks or protocols; it must never
//! log key material or stored text, and never open a database without its key.
#![forbid(unsafe_code)]

mod db;
mod fsperm;
mod keyring;
mod keys;

pub use db::sqlcipher_version;
pub use keyring::Keyring;
pub use keys::{DerivedKey, KeyPurpose, MasterKey, MasterKeyError};

/// What can go wrong opening or using a vault database.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The directory or file could not be created or given its permissions.
    #[error(
        "cannot prepare {path}: {source}; check that the state directory is writable by the daemon's user"
    )]
    Filesystem {
        /// The path that failed.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file exists but does not open with the key derived from this master key.
    #[error(
        "{path} does not open with the configured master key: either the master key changed or the file is not a diala-edge database"
    )]
    WrongKey {
        /// The database file.
        path: std::path::PathBuf,
    },
    /// The linked SQLite library has no encryption; the build is broken.
    #[error("the linked SQLite has no SQLCipher support; this build cannot store data safely")]
    NoCipher,
    /// SQLite reported an error.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: rusqlite::Error,
    },
}
