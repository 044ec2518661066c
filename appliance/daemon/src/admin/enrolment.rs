//! Where the sysadmins' TOTP secrets are kept: one file per Unix user id in the state
//! directory, 0600 in a 0700 directory, replaced atomically when a user is enrolled again.
//!
//! Each secret is sealed with XChaCha20-Poly1305 under a key derived from the master key
//! (`admin-totp`), the user id bound in as associated data, so a copy of the state directory
//! without the master key reveals no secret and a file moved to another user's name does not
//! open. Rotating the master key re-seals them. A secret in clear never reaches the disk.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use diala_vault::DerivedKey;
use parking_lot::Mutex;
use totp_rs::Secret;
use zeroize::Zeroizing;

use super::totp::{DIGITS, STEP_SECS, TotpError, TotpKey};

/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// The name authenticator apps show for the appliance.
const ISSUER: &str = "diala-edge";
/// Bytes of the random nonce before each sealed secret.
const NONCE_LEN: usize = 24;

/// Errors reading or writing enrolments.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    /// The user has no secret.
    #[error(
        "no TOTP secret is enrolled for uid {0}; ask root to run `diala-edge admin totp enroll`"
    )]
    NotEnrolled(u32),
    /// The file could not be read or written.
    #[error("cannot access the TOTP secret {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The stored secret is not usable.
    #[error("the TOTP secret of uid {uid} is damaged ({why}); enroll the user again")]
    Damaged {
        /// The user id.
        uid: u32,
        /// What is wrong with it.
        why: String,
    },
}

/// The enrolled TOTP secrets.
#[derive(Debug)]
pub struct TotpStore {
    dir: PathBuf,
    key: Mutex<DerivedKey>,
}

fn associated_data(uid: u32) -> Vec<u8> {
    format!("diala-edge/admin-totp/v1\0{uid}").into_bytes()
}

/// Seals `secret` of `uid` under `key`: the nonce, then the ciphertext and its tag.
fn seal(key: &DerivedKey, uid: u32, secret: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let aad = associated_data(uid);
    let payload = Payload {
        msg: secret,
        aad: &aad,
    };
    let sealed = XChaCha20Poly1305::new(key.expose().into())
        .encrypt(XNonce::from_slice(&nonce), payload)
        .unwrap_or_else(|_| unreachable!("a 20-byte secret is far below the AEAD's limit"));
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out
}

/// Opens what [`seal`] made for `uid` under `key`.
fn open(key: &DerivedKey, uid: u32, bytes: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if bytes.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let aad = associated_data(uid);
    let payload = Payload {
        msg: sealed,
        aad: &aad,
    };
    XChaCha20Poly1305::new(key.expose().into())
        .decrypt(XNonce::from_slice(nonce), payload)
        .ok()
        .map(Zeroizing::new)
}

/// A new enrolment, shown once to root.
#[derive(Debug)]
pub struct NewEnrolment {
    /// The secret in base32, for typing into an app.
    pub secret_base32: String,
    /// The `otpauth://` URI an app reads from the QR code.
    pub uri: String,
}

impl TotpStore {
    /// The store under `state_dir`, sealed under `key` (derived from the master key).
    pub fn new(state_dir: &Path, key: DerivedKey) -> Self {
        TotpStore {
            dir: state_dir.join("admin-totp"),
            key: Mutex::new(key),
        }
    }

    fn path(&self, uid: u32) -> PathBuf {
        self.dir.join(uid.to_string())
    }

    fn io(&self, path: &Path) -> impl FnOnce(std::io::Error) -> EnrolmentError {
        let path = path.to_owned();
        move |source| EnrolmentError::Io { path, source }
    }

    /// Creates and stores a new secret for `uid` (named `user` in the app), replacing any
    /// earlier one.
    pub fn enrol(&self, uid: u32, user: &str) -> Result<NewEnrolment, EnrolmentError> {
        let bytes = Zeroizing::new(rand::random::<[u8; SECRET_BYTES]>());
        let encoded = Secret::Raw(bytes.to_vec()).to_encoded();
        let base32 = match &encoded {
            Secret::Encoded(text) => text.clone(),
            Secret::Raw(_) => String::new(),
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(self.io(&self.dir))?;
        let sealed = seal(&self.key.lock(), uid, bytes.as_slice());
        self.write(uid, &sealed)?;
        let uri = otpauth_uri(user, &base32);
        Ok(NewEnrolment {
            secret_base32: base32,
            uri,
        })
    }

    /// Writes the sealed secret of `uid` through a temporary file, so a crash leaves the old
    /// one or the new one.
    fn write(&self, uid: u32, sealed: &[u8]) -> Result<(), EnrolmentError> {
        let path = self.path(uid);
        let temporary = self.dir.join(format!(".{uid}.new"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(self.io(&temporary))?;
        file.write_all(sealed)
            .and_then(|()| file.sync_all())
            .map_err(self.io(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(self.io(&path))
    }

    /// The secret of `uid` in clear, opened with `key`.
    fn secret(&self, key: &DerivedKey, uid: u32) -> Result<Zeroizing<Vec<u8>>, EnrolmentError> {
        let path = self.path(uid);
        let sealed = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(EnrolmentError::NotEnrolled(uid));
            }
            Err(e) => return Err(self.io(&path)(e)),
        };
        open(key, uid, &sealed).ok_or_else(|| EnrolmentError::Damaged {
            uid,
            why: "it does not open under this master key".to_owned(),
        })
    }

    /// The key of `uid`.
    pub fn key(&self, uid: u32) -> Result<TotpKey, EnrolmentError> {
        let secret = self.secret(&self.key.lock(), uid)?;
        TotpKey::new(secret.to_vec()).map_err(|e: TotpError| EnrolmentError::Damaged {
            uid,
            why: e.to_string(),
        })
    }

    /// Seals every enrolled secret again under `new` (after a master key rotation) and uses
    /// `new` from now on; returns how many were sealed again. A secret that does not open is
    /// left as it is: its user must be enrolled again either way.
    pub fn reseal(&self, new: DerivedKey) -> Result<usize, EnrolmentError> {
        let mut key = self.key.lock();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                *key = new;
                return Ok(0);
            }
            Err(e) => return Err(self.io(&self.dir)(e)),
        };
        let mut resealed = 0;
        for entry in entries {
            let entry = entry.map_err(self.io(&self.dir))?;
            let Some(uid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            match self.secret(&key, uid) {
                Ok(secret) => {
                    self.write(uid, &seal(&new, uid, &secret))?;
                    resealed += 1;
                }
                Err(error) => tracing::warn!(uid, %error, "a TOTP secret was not sealed again"),
            }
        }
        *key = new;
        Ok(resealed)
    }
}

/// The key URI format authenticator apps read: issuer, account, secret and parameters.
fn otpauth_uri(user: &str, base32: &str) -> String {
    let label = percent_encoding::utf8_percent_encode(user, percent_encoding::NON_ALPHANUMERIC);
    format!(
        "otpauth://totp/{ISSUER}:{label}?secret={base32}&issuer={ISSUER}&algorithm=SHA1\
         &digits={DIGITS}&period={STEP_SECS}"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn an_enrolled_secret_is_private_and_gives_the_codes_of_its_uri() {
        let dir = tempfile::tempdir().unwrap();
        let store = TotpStore::new(dir.path(), key(1));
        assert!(matches!(
            store.key(1000),
            Err(EnrolmentError::NotEnrolled(1000))
        ));
        let enrolment = store.enrol(1000, "alice smith").unwrap();
        assert!(
            enrolment
                .uri
                .starts_with("otpauth://totp/diala-edge:alice%20smith?secret="),
            "{}",
            enrolment.uri
        );
        assert!(enrolment.uri.contains(&enrolment.secret_base32));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("admin-totp")), 0o700);
        assert_eq!(mode(&dir.path().join("admin-totp/1000")), 0o600);

        let bytes = Secret::Encoded(enrolment.secret_base32.clone())
            .to_bytes()
            .unwrap();
        let expected = TotpKey::new(bytes).unwrap().code_at(1_234_567_890);
        assert_eq!(store.key(1000).unwrap().code_at(1_234_567_890), expected);

        // Enrolling again replaces the secret.
        let again = store.enrol(1000, "alice smith").unwrap();
        assert_ne!(again.secret_base32, enrolment.secret_base32);
    }

    fn key(byte: u8) -> DerivedKey {
        let master = diala_vault::MasterKey::from_credential(&[byte; 32]).unwrap();
        master.derive(diala_vault::KeyPurpose::AdminTotp)
    }

    #[test]
    fn the_file_holds_no_secret_and_opens_only_under_its_key_and_uid() {
        let dir = tempfile::tempdir().unwrap();
        let store = TotpStore::new(dir.path(), key(1));
        let enrolment = store.enrol(1000, "alice").unwrap();
        let raw = Secret::Encoded(enrolment.secret_base32.clone())
            .to_bytes()
            .unwrap();
        let file = std::fs::read(dir.path().join("admin-totp/1000")).unwrap();
        assert!(!file.windows(raw.len()).any(|w| w == raw.as_slice()));
        let text = String::from_utf8_lossy(&file);
        assert!(!text.contains(&enrolment.secret_base32));

        // Under another master key the secret does not open.
        let other = TotpStore::new(dir.path(), key(2));
        assert!(matches!(
            other.key(1000),
            Err(EnrolmentError::Damaged { .. })
        ));
        // Moved to another user's name, it does not open either.
        std::fs::copy(
            dir.path().join("admin-totp/1000"),
            dir.path().join("admin-totp/1001"),
        )
        .unwrap();
        assert!(matches!(
            store.key(1001),
            Err(EnrolmentError::Damaged { .. })
        ));
    }

    #[test]
    fn resealing_moves_every_secret_to_the_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = TotpStore::new(dir.path(), key(1));
        store.enrol(1000, "alice").unwrap();
        store.enrol(0, "root").unwrap();
        let before = store.key(1000).unwrap().code_at(1_234_567_890);
        assert_eq!(store.reseal(key(2)).unwrap(), 2);
        assert_eq!(store.key(1000).unwrap().code_at(1_234_567_890), before);
        let reopened = TotpStore::new(dir.path(), key(2));
        assert_eq!(reopened.key(1000).unwrap().code_at(1_234_567_890), before);
        assert!(reopened.key(0).is_ok());
        let old = TotpStore::new(dir.path(), key(1));
        assert!(old.key(1000).is_err());
    }
}
