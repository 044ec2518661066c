//! Opening a SQLCipher database with a raw key and the settings every vault file shares.

use std::path::Path;

use rusqlite::Connection;
use zeroize::Zeroizing;

use crate::{DerivedKey, VaultError, fsperm};

/// The version of SQLCipher this binary links, e.g. `4.6.1 community`.
pub fn sqlcipher_version() -> Result<String, VaultError> {
    let in_memory = Path::new(":memory:");
    let sqlite = |source| VaultError::Sqlite {
        path: in_memory.to_owned(),
        source,
    };
    let conn = Connection::open_in_memory().map_err(sqlite)?;
    let version: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |row| row.get(0))
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(sqlite)?;
    version
        .filter(|v| !v.is_empty())
        .ok_or(VaultError::NoCipher)
}

/// Opens (creating if needed) the SQLCipher database at `path` under `key`, in a 0700
/// directory as a 0600 file, and checks that the key is right before anything else runs.
pub(crate) fn open_encrypted(path: &Path, key: &DerivedKey) -> Result<Connection, VaultError> {
    let sqlite = |source| VaultError::Sqlite {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        fsperm::private_dir(dir)?;
    }
    fsperm::private_file(path)?;

    let conn = Connection::open(path).map_err(sqlite)?;
    // A raw key in SQLCipher's blob-literal form skips the passphrase KDF: the key is already
    // uniformly random.
    let literal = Zeroizing::new(format!("x'{}'", hex::encode(key.expose())));
    conn.pragma_update(None, "key", literal.as_str())
        .map_err(sqlite)?;

    // The first read is where a wrong key shows: the header does not decrypt.
    if conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .is_err()
    {
        return Err(VaultError::WrongKey {
            path: path.to_owned(),
        });
    }

    // WAL with synchronous=FULL: a transaction reported committed has its WAL frames fsynced,
    // so it survives kill -9 and power loss. NORMAL would be faster but may lose the last
    // commits on power loss, which breaks the promise that a stored segment stays stored.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sqlite)?;
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(sqlite)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(sqlite)?;
    Ok(conn)
}
