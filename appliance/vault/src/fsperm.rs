//! Directories only the daemon's user can enter, files only it can read.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::VaultError;

/// Creates `dir` (and its parents) if needed and sets it to 0700.
pub(crate) fn private_dir(dir: &Path) -> Result<(), VaultError> {
    let fail = |source| VaultError::Filesystem {
        path: dir.to_owned(),
        source,
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(fail)?;
    std::fs::set_permissions(dir, Permissions::from_mode(0o700)).map_err(fail)
}

/// Creates `file` empty with mode 0600 if it does not exist, and sets an existing one to 0600.
/// SQLite gives its -wal and -shm files the mode of the database file.
pub(crate) fn private_file(file: &Path) -> Result<(), VaultError> {
    let fail = |source| VaultError::Filesystem {
        path: file.to_owned(),
        source,
    };
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)
        .map_err(fail)?;
    std::fs::set_permissions(file, Permissions::from_mode(0o600)).map_err(fail)
}
