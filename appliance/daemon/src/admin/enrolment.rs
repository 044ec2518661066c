//! Where the sysadmins' TOTP secrets are kept: one file per Unix user id in the state
//! directory, 0600 in a 0700 directory, replaced atomically when a user is enrolled again.
//!
//! Limitation: the secrets are stored in base32, not encrypted under a key derived from the
//! master key; the vault's key purposes do not include one for them yet. The state directory's
//! permissions are what protects them.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use totp_rs::Secret;

use super::totp::{DIGITS, STEP_SECS, TotpError, TotpKey};

/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// The name authenticator apps show for the appliance.
const ISSUER: &str = "diala-edge";

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
    /// The store under `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        TotpStore {
            dir: state_dir.join("admin-totp"),
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
        let bytes: [u8; SECRET_BYTES] = rand::random();
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
        let path = self.path(uid);
        let temporary = self.dir.join(format!(".{uid}.new"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(self.io(&temporary))?;
        file.write_all(base32.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(self.io(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(self.io(&path))?;
        let uri = otpauth_uri(user, &base32);
        Ok(NewEnrolment {
            secret_base32: base32,
            uri,
        })
    }

    /// The key of `uid`.
    pub fn key(&self, uid: u32) -> Result<TotpKey, EnrolmentError> {
        let path = self.path(uid);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(EnrolmentError::NotEnrolled(uid));
            }
            Err(e) => return Err(self.io(&path)(e)),
        };
        let damaged = |why: String| EnrolmentError::Damaged { uid, why };
        let bytes = Secret::Encoded(text.trim().to_owned())
            .to_bytes()
            .map_err(|e| damaged(format!("{e:?}")))?;
        TotpKey::new(bytes).map_err(|e: TotpError| damaged(e.to_string()))
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
        let store = TotpStore::new(dir.path());
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
}
