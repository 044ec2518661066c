//! The appliance's sync identity on disk, in `state_dir/sync/`: its private key (0600, made on
//! the box, never sent anywhere), the certificate the control plane issued for it, the pinned
//! CA certificate, and the control plane's address.
//!
//! This module never logs, prints or returns the private key except to hand it to rustls.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;

use crate::tls::{self, CertificateFacts, Identity, TlsError};

const KEY: &str = "client.key";
const CERT: &str = "client.pem";
const CA: &str = "ca.pem";
const ADDRESS: &str = "control-plane";

/// What can go wrong with the identity files.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The appliance has not enrolled.
    #[error("this appliance is not enrolled with a control plane; run `diala-edge enroll`")]
    NotEnrolled,
    /// A file does not hold what it should.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The files of the sync identity.
#[derive(Debug, Clone)]
pub struct IdentityFiles {
    dir: PathBuf,
}

/// The loaded sync identity.
#[derive(Debug)]
pub struct SyncIdentity {
    /// Where the control plane listens, `host:port`.
    pub control_plane: String,
    /// The pinned CA.
    pub ca: Vec<CertificateDer<'static>>,
    /// The client certificate and key.
    pub identity: Identity,
    /// What the certificate says.
    pub facts: CertificateFacts,
}

fn read(path: &Path) -> Result<String, IdentityError> {
    std::fs::read_to_string(path).map_err(|source| IdentityError::Io {
        path: path.to_owned(),
        source,
    })
}

impl IdentityFiles {
    /// The identity kept in `state_dir/sync`.
    pub fn in_state_dir(state_dir: &Path) -> Self {
        IdentityFiles {
            dir: state_dir.join("sync"),
        }
    }

    /// Whether enrollment finished (a certificate is stored).
    pub fn enrolled(&self) -> bool {
        self.dir.join(CERT).exists()
    }

    /// Reads every file of the identity.
    pub fn load(&self) -> Result<SyncIdentity, IdentityError> {
        if !self.enrolled() {
            return Err(IdentityError::NotEnrolled);
        }
        let cert_pem = read(&self.dir.join(CERT))?;
        let identity = Identity::from_pem(&cert_pem, &read(&self.dir.join(KEY))?)?;
        let first = identity.chain.first().ok_or(IdentityError::NotEnrolled)?;
        let facts = tls::certificate_facts(first)?;
        Ok(SyncIdentity {
            control_plane: read(&self.dir.join(ADDRESS))?.trim().to_owned(),
            ca: tls::certificates_from_pem(&read(&self.dir.join(CA))?)?,
            identity,
            facts,
        })
    }

    /// Writes a new private key (0600, refusing to replace one that exists) in a 0700
    /// directory.
    pub fn write_key(&self, key_pem: &str) -> Result<(), IdentityError> {
        self.private_dir()?;
        let path = self.dir.join(KEY);
        let io = |source| IdentityError::Io {
            path: path.clone(),
            source,
        };
        let _ = std::fs::remove_file(&path);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        file.write_all(key_pem.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    /// Stores the issued certificate, the pinned CA and the control plane's address; the
    /// certificate last, since its presence means "enrolled".
    pub fn write_enrollment(
        &self,
        control_plane: &str,
        ca_pem: &str,
        certificate_pem: &str,
    ) -> Result<(), IdentityError> {
        self.private_dir()?;
        for (name, text) in [
            (ADDRESS, control_plane),
            (CA, ca_pem),
            (CERT, certificate_pem),
        ] {
            let path = self.dir.join(name);
            let tmp = self.dir.join(format!("{name}.new"));
            let io = |source| IdentityError::Io {
                path: path.clone(),
                source,
            };
            std::fs::write(&tmp, text).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        Ok(())
    }

    fn private_dir(&self) -> Result<(), IdentityError> {
        let io = |source| IdentityError::Io {
            path: self.dir.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
    }

    /// The private key file.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY)
    }
}
