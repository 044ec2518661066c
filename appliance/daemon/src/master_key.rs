//! `diala-edge master-key create`: makes the appliance's master key on the box and stores it
//! where the service unit loads it from, encrypted with `systemd-creds` unless told otherwise.
//!
//! It never overwrites an existing key: every database on the box is keyed from it, so losing
//! it loses the data. The key never passes through a command line or an environment variable.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

/// Where the unit's `LoadCredentialEncrypted=` looks for the master key.
pub const ENCRYPTED_PATH: &str = "/etc/credstore.encrypted/diala-edge.master-key";
/// Where the plain-credential drop-in's `LoadCredential=` looks for it.
pub const PLAIN_PATH: &str = "/etc/credstore/diala-edge.master-key";

/// Why no master key was stored.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// A key is already there.
    #[error(
        "{0} already exists; a master key is never overwritten, since every database on this box is keyed from it. Move it away only if no data was ever stored under it"
    )]
    Exists(PathBuf),
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `systemd-creds` is missing or failed.
    #[error(
        "`systemd-creds encrypt` failed ({0}); on a box without it use `--plain` and the plain-credential drop-in"
    )]
    Encrypt(String),
}

/// Creates a new random master key at `output` (or the default path), as a plain 0600 file or
/// encrypted with `systemd-creds`. Returns the path written.
pub fn create(plain: bool, output: Option<&Path>) -> Result<PathBuf, MasterKeyError> {
    let default = if plain { PLAIN_PATH } else { ENCRYPTED_PATH };
    let path = output.unwrap_or(Path::new(default)).to_owned();
    if path.exists() {
        return Err(MasterKeyError::Exists(path));
    }

    let key = Zeroizing::new(rand::random::<[u8; 32]>());
    if plain {
        write_private(&path, key.as_slice())?;
    } else {
        encrypt(&path, key.as_slice())?;
    }
    Ok(path)
}

/// Writes `bytes` to a new file that is 0600 from the moment it exists.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), MasterKeyError> {
    let fail = |source| MasterKeyError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// Pipes `bytes` into `systemd-creds encrypt`, which seals them to the TPM and/or the host key.
fn encrypt(path: &Path, bytes: &[u8]) -> Result<(), MasterKeyError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| MasterKeyError::Write {
            path: path.to_owned(),
            source,
        })?;
    }
    let mut child = Command::new("systemd-creds")
        .args(["encrypt", "--name=master-key", "-"])
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| MasterKeyError::Encrypt(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(bytes)
            .map_err(|e| MasterKeyError::Encrypt(e.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| MasterKeyError::Encrypt(e.to_string()))?;
    if output.status.success() {
        // systemd-creds leaves the umask's mode; the sealed key is still nobody else's business.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
            MasterKeyError::Write {
                path: path.to_owned(),
                source,
            }
        })
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(MasterKeyError::Encrypt(stderr.trim().to_owned()))
    }
}
