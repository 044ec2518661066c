//! The keyring: the appliance's own database, opened with a key derived from the master key.
//!
//! It records the appliance's identity and, as tenants are added, their wrapped data keys.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use crate::{KeyPurpose, MasterKey, VaultError, db};

const FILE_NAME: &str = "keyring.db";
const SCHEMA_VERSION: i64 = 1;

/// The open keyring database.
#[derive(Debug)]
pub struct Keyring {
    conn: Connection,
    path: PathBuf,
    appliance_id: String,
}

impl Keyring {
    /// Opens the keyring in `state_dir`, creating it (and a new appliance id) on first start.
    pub fn open(state_dir: &Path, master: &MasterKey) -> Result<Self, VaultError> {
        let path = state_dir.join(FILE_NAME);
        let conn = db::open_encrypted(&path, &master.derive(KeyPurpose::Keyring))?;
        let sqlite = |source| VaultError::Sqlite {
            path: path.clone(),
            source,
        };

        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sqlite)?;
        if version < SCHEMA_VERSION {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS appliance (
                     id TEXT NOT NULL,
                     created_at INTEGER NOT NULL
                 );
                 PRAGMA user_version = 1;
                 COMMIT;",
            )
            .map_err(sqlite)?;
        }

        let existing: Option<String> = conn
            .query_row("SELECT id FROM appliance LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(sqlite)?;
        let appliance_id = match existing {
            Some(id) => id,
            None => {
                let id = hex::encode(rand::random::<[u8; 16]>());
                conn.execute(
                    "INSERT INTO appliance (id, created_at) VALUES (?1, unixepoch())",
                    [&id],
                )
                .map_err(sqlite)?;
                id
            }
        };

        Ok(Keyring {
            conn,
            path,
            appliance_id,
        })
    }

    /// The appliance's identity, made at first start and stable for the life of its state.
    pub fn appliance_id(&self) -> &str {
        &self.appliance_id
    }

    /// Writes the WAL back into the database file, as a clean stop does before exiting.
    pub fn checkpoint(&self) -> Result<(), VaultError> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|source| VaultError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_credential(&[byte; 32]).unwrap()
    }

    #[test]
    fn reopens_with_same_identity() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let first = Keyring::open(&state, &master(1))
            .unwrap()
            .appliance_id()
            .to_owned();
        let second = Keyring::open(&state, &master(1)).unwrap();
        assert_eq!(first, second.appliance_id());
        assert_eq!(first.len(), 32);
    }

    #[test]
    fn wrong_master_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Keyring::open(dir.path(), &master(1))
            .unwrap()
            .checkpoint()
            .unwrap();
        let err = Keyring::open(dir.path(), &master(2)).unwrap_err();
        assert!(matches!(err, VaultError::WrongKey { .. }), "{err}");
    }

    #[test]
    fn file_is_private_and_holds_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let keyring = Keyring::open(&state, &master(1)).unwrap();
        let id = keyring.appliance_id().to_owned();
        keyring.checkpoint().unwrap();
        drop(keyring);

        let file = state.join(FILE_NAME);
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&state), 0o700);
    }

    #[test]
    fn links_sqlcipher() {
        let version = db::sqlcipher_version().unwrap();
        assert!(version.starts_with('4'), "{version}");
    }
}
