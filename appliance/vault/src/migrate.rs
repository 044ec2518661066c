//! Versioned schema migrations: the database's `user_version` is the number of steps applied.
//!
//! Each step runs in its own transaction with the version bump, so a crash leaves the file at
//! one version or the next, never between. A step once shipped is never edited; a change is a
//! new step. A file newer than this binary is refused rather than guessed at.

use std::path::Path;

use rusqlite::Connection;

use crate::VaultError;

/// Brings `conn` to the newest version in `steps`.
pub(crate) fn apply(path: &Path, conn: &Connection, steps: &[&str]) -> Result<(), VaultError> {
    apply_up_to(path, conn, steps, steps.len())
}

/// Brings `conn` to version `target` (at most `steps.len()`); the tests use it to build every
/// earlier version.
pub(crate) fn apply_up_to(
    path: &Path,
    conn: &Connection,
    steps: &[&str],
    target: usize,
) -> Result<(), VaultError> {
    let sqlite = |e| VaultError::sqlite(path, e);
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sqlite)?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > steps.len() {
        return Err(VaultError::Sqlite {
            path: path.to_owned(),
            source: rusqlite::Error::InvalidParameterName(format!(
                "schema version {current} is newer than this binary knows ({}); upgrade diala-edge",
                steps.len()
            )),
        });
    }

    for (index, step) in steps.iter().enumerate().take(target).skip(current) {
        let version = index + 1;
        let sql = format!("BEGIN; {step} PRAGMA user_version = {version}; COMMIT;");
        if let Err(e) = conn.execute_batch(&sql) {
            let _ = conn.execute_batch("ROLLBACK;");
            return Err(sqlite(e));
        }
    }
    Ok(())
}
