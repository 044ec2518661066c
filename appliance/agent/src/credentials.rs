//! AWS credentials for Bedrock and Polly, never from environment variables.
//!
//! Two sources: a systemd credential file (long-lived keys, in the JSON shape of AWS's
//! `credential_process`), or, preferably, short-lived credentials that the control plane vends
//! over the sync channel, at most one hour long, fetched again once they come within the refresh
//! margin of their expiry. Either way the SDK sees one credentials provider, and the SDK's
//! identity cache is told the same margin so it asks again in time. The secret is never logged.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, error::CredentialsError};
use serde::Deserialize;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

/// Vended credentials are refreshed once they expire within this margin.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// The longest lifetime accepted for vended credentials.
pub const MAX_LIFETIME: Duration = Duration::from_secs(3600);

/// Why no usable credentials could be had.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The systemd credential file could not be read.
    #[error(
        "cannot read the AWS credential file {path}: {source}; check LoadCredential= in the unit"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not AWS's credential_process JSON.
    #[error("the AWS credential file {path} is not valid credential_process JSON: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (no secret in it).
        reason: String,
    },
    /// The control plane vended credentials that outlive the allowed hour or have expired.
    #[error("the control plane vended AWS credentials that {0}; check its credential policy")]
    Lifetime(&'static str),
    /// The control plane could not vend credentials.
    #[error("the control plane did not vend AWS credentials: {0}")]
    Vend(String),
}

/// A set of AWS credentials; the secret zeroizes on drop and never prints.
#[derive(Clone)]
pub struct AwsCredentials {
    /// The access key id (not secret).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Zeroizing<String>,
    /// The session token of temporary credentials.
    pub session_token: Option<Zeroizing<String>>,
    /// When they stop working, if they do.
    pub expires: Option<SystemTime>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl AwsCredentials {
    fn to_sdk(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            self.secret_access_key.as_str(),
            self.session_token.as_ref().map(|t| t.as_str().to_owned()),
            self.expires,
            "diala-edge",
        )
    }

    fn fresh_at(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|e| e > now + REFRESH_MARGIN)
    }
}

/// The answer of a [`Vendor`].
pub type Vend<'a> =
    Pin<Box<dyn Future<Output = Result<AwsCredentials, CredentialError>> + Send + 'a>>;

/// What the sync channel offers: a way to ask the control plane for new credentials.
pub trait Vendor: Send + Sync + fmt::Debug + 'static {
    /// Fresh credentials, valid for at most [`MAX_LIFETIME`].
    fn vend(&self) -> Vend<'_>;
}

/// The credentials provider handed to the SDK clients.
#[derive(Debug, Clone)]
pub struct AgentCredentials {
    source: Arc<Source>,
}

#[derive(Debug)]
enum Source {
    File(PathBuf),
    Vended {
        held: Mutex<Option<AwsCredentials>>,
        vendor: Box<dyn Vendor>,
    },
}

impl AgentCredentials {
    /// Reads the systemd credential at `path` (e.g. `$CREDENTIALS_DIRECTORY/aws`) at each
    /// refresh, so a replaced file is picked up.
    pub fn from_file(path: PathBuf) -> Self {
        AgentCredentials {
            source: Arc::new(Source::File(path)),
        }
    }

    /// Uses credentials vended by the control plane: `current` if any (e.g. fetched with the
    /// last sync), and `vendor` whenever they come within [`REFRESH_MARGIN`] of expiry.
    pub fn vended(current: Option<AwsCredentials>, vendor: impl Vendor) -> Self {
        let source = Source::Vended {
            held: Mutex::new(current),
            vendor: Box::new(vendor),
        };
        AgentCredentials {
            source: Arc::new(source),
        }
    }

    /// The credentials to sign with now.
    pub async fn current(&self) -> Result<AwsCredentials, CredentialError> {
        match &*self.source {
            Source::File(path) => read_file(path).await,
            Source::Vended { held, vendor } => {
                let mut held = held.lock().await;
                let now = SystemTime::now();
                if let Some(creds) = held.as_ref().filter(|c| c.fresh_at(now)) {
                    return Ok(creds.clone());
                }
                let creds = vendor.vend().await?;
                check_lifetime(&creds, now)?;
                *held = Some(creds.clone());
                Ok(creds)
            }
        }
    }
}

fn check_lifetime(creds: &AwsCredentials, now: SystemTime) -> Result<(), CredentialError> {
    let expires = creds
        .expires
        .ok_or(CredentialError::Lifetime("have no expiry"))?;
    if expires <= now {
        return Err(CredentialError::Lifetime("have already expired"));
    }
    if expires > now + MAX_LIFETIME + Duration::from_secs(60) {
        return Err(CredentialError::Lifetime("last longer than one hour"));
    }
    Ok(())
}

impl ProvideCredentials for AgentCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            let creds = self
                .current()
                .await
                .map_err(CredentialsError::provider_error)?;
            Ok(creds.to_sdk())
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessJson {
    version: u32,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expiration: Option<String>,
}

async fn read_file(path: &Path) -> Result<AwsCredentials, CredentialError> {
    let text = tokio::fs::read(path)
        .await
        .map_err(|source| CredentialError::Read {
            path: path.to_owned(),
            source,
        })?;
    let text = Zeroizing::new(text);
    let format = |reason: String| CredentialError::Format {
        path: path.to_owned(),
        reason,
    };
    // serde_json's messages quote no input, so the secret cannot leak through them.
    let json: ProcessJson = serde_json::from_slice(&text).map_err(|e| format(e.to_string()))?;
    if json.version != 1 {
        return Err(format(format!("Version is {}, expected 1", json.version)));
    }
    let expires = match json.expiration {
        None => None,
        Some(at) => {
            Some(parse_time(&at).ok_or_else(|| format("Expiration is not RFC 3339".into()))?)
        }
    };
    Ok(AwsCredentials {
        access_key_id: json.access_key_id,
        secret_access_key: Zeroizing::new(json.secret_access_key),
        session_token: json.session_token.map(Zeroizing::new),
        expires,
    })
}

fn parse_time(text: &str) -> Option<SystemTime> {
    let at =
        aws_smithy_types::DateTime::from_str(text, aws_smithy_types::date_time::Format::DateTime);
    SystemTime::try_from(at.ok()?).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use super::*;

    /// Vends credentials with the given lifetimes in order, counting calls.
    #[derive(Debug)]
    struct Plan(StdMutex<Vec<Duration>>);

    impl Vendor for Plan {
        fn vend(&self) -> Vend<'_> {
            let lifetime = self.0.lock().unwrap().remove(0);
            Box::pin(async move { Ok(creds("vended", SystemTime::now() + lifetime)) })
        }
    }

    fn creds(id: &str, expires: SystemTime) -> AwsCredentials {
        AwsCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: Zeroizing::new("s3cr3t".to_owned()),
            session_token: None,
            expires: Some(expires),
        }
    }

    fn vended(held: Option<AwsCredentials>, lifetimes: &[u64]) -> AgentCredentials {
        let plan = lifetimes.iter().map(|s| Duration::from_secs(*s)).collect();
        AgentCredentials::vended(held, Plan(StdMutex::new(plan)))
    }

    #[tokio::test]
    async fn fresh_credentials_are_kept_and_near_expiry_ones_replaced() {
        let fresh = creds("held", SystemTime::now() + Duration::from_secs(1800));
        let provider = vended(Some(fresh), &[3600]);
        assert_eq!(provider.current().await.unwrap().access_key_id, "held");

        let ending = creds("held", SystemTime::now() + Duration::from_secs(60));
        let provider = vended(Some(ending), &[3600]);
        assert_eq!(provider.current().await.unwrap().access_key_id, "vended");
        assert_eq!(
            provider.current().await.unwrap().access_key_id,
            "vended",
            "kept once fresh"
        );
    }

    #[tokio::test]
    async fn vended_credentials_longer_than_an_hour_are_refused() {
        let err = vended(None, &[2 * 3600]).current().await.unwrap_err();
        assert!(err.to_string().contains("longer than one hour"), "{err}");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", creds("AKIDEXAMPLE", SystemTime::UNIX_EPOCH));
        assert!(
            shown.contains("AKIDEXAMPLE") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_credential_file_in_the_wrong_shape_names_the_file_not_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aws");
        std::fs::write(
            &path,
            r#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "s3cr3t"}"#,
        )
        .unwrap();
        let err = AgentCredentials::from_file(path)
            .current()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Version is 2") && !err.contains("s3cr3t"),
            "{err}"
        );
    }
}
