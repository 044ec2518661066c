//! Opening a SQLCipher database with a raw key and the settings every vault file shares.

use std::path::Path;
use std::sync::Once;

use rusqlite::Connection;
use zeroize::Zeroizing;

use crate::{VaultError, fsperm};

/// Finishes SQLite's and SQLCipher's process-wide start-up before any vault file is opened.
///
/// SQLite marks itself initialised before it runs SQLCipher's start-up, so a thread that
/// arrives in that gap returns at once, keys its database while SQLCipher is not ready and is
/// refused ("An error occurred with PRAGMA key"). Every connection is made after this, and
/// `Once` makes the other threads wait until the first connection, and with it SQLCipher's
/// start-up, is complete.
fn start_sqlcipher() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        // Opening any connection runs the whole start-up; an error here shows again, with
        // its path, on the open that follows.
        drop(Connection::open_in_memory());
    });
}

/// The version of SQLCipher this binary links, e.g. `4.6.1 community`.
pub fn sqlcipher_version() -> Result<String, VaultError> {
    start_sqlcipher();
    let in_memory = Path::new(":memory:");
    let conn = Connection::open_in_memory().map_err(|e| VaultError::sqlite(in_memory, e))?;
    let version: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |row| row.get(0))
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(|e| VaultError::sqlite(in_memory, e))?;
    version
        .filter(|v| !v.is_empty())
        .ok_or(VaultError::NoCipher)
}

/// The SQLCipher `key`/`rekey` value for a raw 256-bit key: the blob-literal form skips the
/// passphrase KDF, since the key is already uniformly random.
pub(crate) fn key_literal(key: &[u8; 32]) -> Zeroizing<String> {
    Zeroizing::new(format!("x'{}'", hex::encode(key)))
}

/// Opens (creating if needed) the SQLCipher database at `path` under `key`, in a 0700
/// directory as a 0600 file, and checks that the key is right before anything else runs.
pub(crate) fn open_encrypted(path: &Path, key: &[u8; 32]) -> Result<Connection, VaultError> {
    let conn = open_private(path)?;
    // SQLCipher's own log goes straight to stderr, past the scrubbing log layer; the vault
    // reports every failure through its errors instead.
    conn.pragma_update(None, "cipher_log_level", "NONE")
        .map_err(|e| VaultError::sqlite(path, e))?;
    conn.pragma_update(None, "key", key_literal(key).as_str())
        .map_err(|e| VaultError::sqlite(path, e))?;

    // The first read is where a wrong key shows: the header does not decrypt.
    if conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .is_err()
    {
        return Err(VaultError::WrongKey {
            path: path.to_owned(),
        });
    }
    configure(path, &conn)?;
    Ok(conn)
}

/// Opens `path` with no key at all. Only the benchmark's baseline uses this, to measure what
/// encryption costs against the same library, schema and durability.
pub(crate) fn open_unencrypted(path: &Path) -> Result<Connection, VaultError> {
    let conn = open_private(path)?;
    configure(path, &conn)?;
    Ok(conn)
}

fn open_private(path: &Path) -> Result<Connection, VaultError> {
    if let Some(dir) = path.parent() {
        fsperm::private_dir(dir)?;
    }
    fsperm::private_file(path)?;
    start_sqlcipher();
    Connection::open(path).map_err(|e| VaultError::sqlite(path, e))
}

/// The settings every vault file shares.
fn configure(path: &Path, conn: &Connection) -> Result<(), VaultError> {
    let sqlite = |e| VaultError::sqlite(path, e);
    // WAL with synchronous=FULL: a transaction reported committed has its WAL frames fsynced,
    // so it survives kill -9 and power loss. NORMAL would be faster but may lose the last
    // commits on power loss, which breaks the promise that a stored segment stays stored.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sqlite)?;
    // Deleted rows are overwritten with zeros, in the database and in the WAL frames that
    // carry the change, so retention and tenant deletion leave nothing to recover.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(sqlite)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sqlite)?;
    // Writers on other connections (the benchmark, a CLI) wait rather than fail at once.
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sqlite)?;
    Ok(())
}

/// Runs SQLite's and SQLCipher's integrity checks and returns every problem they report;
/// an empty list means the file is sound and every page's HMAC verified.
pub(crate) fn integrity_problems(
    path: &Path,
    conn: &Connection,
) -> Result<Vec<String>, VaultError> {
    let mut problems = Vec::new();
    for pragma in ["PRAGMA integrity_check", "PRAGMA cipher_integrity_check"] {
        let mut stmt = conn
            .prepare(pragma)
            .map_err(|e| VaultError::sqlite(path, e))?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|e| VaultError::sqlite(path, e))?;
        for row in rows {
            let line = row.map_err(|e| VaultError::sqlite(path, e))?;
            if line != "ok" {
                problems.push(line);
            }
        }
    }
    Ok(problems)
}

/// Writes the WAL back into the database and truncates it to zero bytes.
pub(crate) fn checkpoint_truncate(path: &Path, conn: &Connection) -> Result<(), VaultError> {
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .map_err(|e| VaultError::sqlite(path, e))?;
    if busy != 0 {
        // Another connection held the WAL; the frames stay until the next checkpoint.
        return Err(VaultError::StorageUnavailable {
            path: path.to_owned(),
            reason: "the WAL checkpoint was blocked by another connection".to_owned(),
        });
    }
    Ok(())
}
