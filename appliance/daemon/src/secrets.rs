//! Secrets, read once at start from systemd credentials or, in development, a configured
//! directory.
//!
//! A secret file must be readable by its owner only, and owned by the daemon's user or root;
//! anything else is refused with the command that fixes it. Secrets never come from environment
//! variables: a variable that looks like one of ours stops the daemon, because it would mean the
//! secret is already visible in `/proc/<pid>/environ` and to every child process.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use diala_vault::{MasterKey, MasterKeyError};
use nix::unistd::{Uid, User};
use zeroize::Zeroizing;

use crate::config::{self, Config};

/// The credential holding the master key.
pub const MASTER_KEY: &str = "master-key";

// A secret file larger than this is not one of ours.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Why the daemon's secrets could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// A variable in the environment looks like a secret of ours.
    #[error(
        "the environment variable {name} looks like a diala-edge secret; secrets are read only from systemd credentials (LoadCredential=) or the configured secrets_dir. Remove the variable and store the secret as a credential"
    )]
    InEnvironment {
        /// The variable's name (never its value).
        name: String,
    },
    /// Neither systemd nor the configuration says where secrets are.
    #[error(
        "no secrets directory: run under systemd with LoadCredential= (which sets $CREDENTIALS_DIRECTORY), or set paths.secrets_dir for development"
    )]
    NoDirectory,
    /// The secret file is missing or unreadable.
    #[error("cannot read secret {path}: {source}")]
    Read {
        /// The secret file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Group or others may read the file.
    #[error(
        "secret {path} has mode {mode:04o}, which lets other users read it; run `chmod 600 {path}`"
    )]
    Exposed {
        /// The secret file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file belongs to a user other than the daemon's own or root.
    #[error(
        "secret {path} is owned by uid {owner}, but the daemon runs as uid {me}; run `chown {me_name} {path}`"
    )]
    ForeignOwner {
        /// The secret file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The daemon's effective uid.
        me: u32,
        /// The daemon's user name, for the fix.
        me_name: String,
    },
    /// Not a plain file, or implausibly large.
    #[error("secret {path} is not a regular file of at most 64 KiB")]
    NotASecret {
        /// The secret file.
        path: PathBuf,
    },
    /// The master key file is malformed.
    #[error("secret {path}: {source}")]
    MasterKey {
        /// The secret file.
        path: PathBuf,
        /// What is wrong with it.
        source: MasterKeyError,
    },
}

/// The secrets the daemon holds for its lifetime.
#[derive(Debug)]
pub struct Secrets {
    /// The master key; see the vault crate for what it protects.
    pub master_key: MasterKey,
}

/// Refuses to start when an environment variable looks like one of our secrets.
pub fn check_environment(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<(), SecretsError> {
    for (name, _) in vars {
        let name = name.to_string_lossy().to_ascii_uppercase();
        if looks_like_our_secret(&name) {
            return Err(SecretsError::InEnvironment { name });
        }
    }
    Ok(())
}

fn looks_like_our_secret(name: &str) -> bool {
    const SECRET_WORDS: [&str; 6] = [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSPHRASE",
        "CREDENTIAL",
    ];
    let ours = name.starts_with("DIALA");
    let secretish = SECRET_WORDS.iter().any(|w| name.contains(w));
    (ours && secretish) || name == "MASTER_KEY" || name == "TWILIO_AUTH_TOKEN"
}

/// Where secrets are: systemd's credentials directory when set, else the configured one.
pub fn directory(
    credentials: Option<PathBuf>,
    configured: Option<&Path>,
) -> Result<PathBuf, SecretsError> {
    credentials
        .or_else(|| configured.map(Path::to_owned))
        .ok_or(SecretsError::NoDirectory)
}

/// Reads the secrets from where this process finds them: `$CREDENTIALS_DIRECTORY` when systemd
/// (or `systemd-run -p LoadCredential...`) set it, else the configuration's `paths.secrets_dir`.
pub fn load_configured(config_path: &Path, config: &Config) -> Result<Secrets, SecretsError> {
    load(&configured_directory(config_path, config)?)
}

/// The directory this process reads its secrets from; see [`load_configured`].
pub fn configured_directory(config_path: &Path, config: &Config) -> Result<PathBuf, SecretsError> {
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    let configured = config
        .paths
        .secrets_dir
        .as_deref()
        .map(|d| config::resolve(config_path, d));
    directory(credentials, configured.as_deref())
}

/// Reads every secret the daemon needs from `dir`.
pub fn load(dir: &Path) -> Result<Secrets, SecretsError> {
    let path = dir.join(MASTER_KEY);
    let bytes = read_secret(&path)?;
    let master_key = MasterKey::from_credential(&bytes)
        .map_err(|source| SecretsError::MasterKey { path, source })?;
    Ok(Secrets { master_key })
}

/// Reads one secret file after checking its type, size, mode and owner.
pub fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    let read_err = |source| SecretsError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let meta = file.metadata().map_err(read_err)?;

    if !meta.is_file() || meta.len() > MAX_SECRET_BYTES {
        return Err(SecretsError::NotASecret {
            path: path.to_owned(),
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretsError::Exposed {
            path: path.to_owned(),
            mode,
        });
    }
    let me = Uid::effective();
    if meta.uid() != me.as_raw() && meta.uid() != 0 {
        let me_name = User::from_uid(me)
            .ok()
            .flatten()
            .map_or_else(|| me.to_string(), |u| u.name);
        return Err(SecretsError::ForeignOwner {
            path: path.to_owned(),
            owner: meta.uid(),
            me: me.as_raw(),
            me_name,
        });
    }

    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    file.read_to_end(&mut bytes).map_err(read_err)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn secret_file(mode: u32, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MASTER_KEY);
        std::fs::write(&path, content).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    #[test]
    fn refuses_group_or_world_readable_file() {
        let (_dir, path) = secret_file(0o644, &[1; 32]);
        let err = read_secret(&path).unwrap_err();
        assert!(matches!(err, SecretsError::Exposed { mode: 0o644, .. }));
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn accepts_owner_only_file() {
        let (dir, _path) = secret_file(0o600, &[1; 32]);
        load(dir.path()).unwrap();
    }

    #[test]
    fn names_a_malformed_master_key() {
        let (dir, _path) = secret_file(0o400, b"too short");
        let err = load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("32 raw bytes"), "{err}");
    }

    #[test]
    fn spots_secret_looking_variables() {
        let env = |name: &str| vec![(OsString::from(name), OsString::from("x"))];
        assert!(check_environment(env("DIALA_MASTER_KEY")).is_err());
        assert!(check_environment(env("diala_twilio_token")).is_err());
        assert!(check_environment(env("TWILIO_AUTH_TOKEN")).is_err());
        assert!(check_environment(env("CREDENTIALS_DIRECTORY")).is_ok());
        assert!(check_environment(env("DIALA_LOG_FORMAT")).is_ok());
    }

    #[test]
    fn credentials_directory_wins_over_config() {
        let dir = directory(Some("/run/creds".into()), Some(Path::new("/etc/x"))).unwrap();
        assert_eq!(dir, Path::new("/run/creds"));
        assert!(matches!(
            directory(None, None),
            Err(SecretsError::NoDirectory)
        ));
    }
}
