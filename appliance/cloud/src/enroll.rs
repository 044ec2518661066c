//! Enrollment on the appliance: a key pair made on the box, a certificate request sent with
//! the one-time token, the issued certificate stored beside the key.
//!
//! The private key is written 0600 before anything is sent and never leaves the box: only the
//! request, which holds the public key, crosses. The server is checked against the CA file the
//! sysadmin gave, which becomes the pinned CA of every later sync connection.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

use crate::identity::{IdentityError, IdentityFiles};
use crate::net::{DialError, dial};
use crate::protocol::{Decoded, read_message, write_message};
use crate::protocol::{EnrollAnswer, EnrollMessage, EnrollRequest, FrameError};
use crate::tls::{self, CertificateFacts, TlsError};

/// What can go wrong enrolling.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// The key pair or request could not be made.
    #[error("cannot make the key pair or certificate request: {0}")]
    Key(#[from] rcgen::Error),
    /// The identity files could not be written.
    #[error(transparent)]
    Files(#[from] IdentityError),
    /// The CA file or the issued certificate is not what it should be.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The control plane could not be reached.
    #[error(transparent)]
    Dial(#[from] DialError),
    /// The exchange failed midway.
    #[error("enrollment exchange failed: {0}")]
    Frame(#[from] FrameError),
    /// The stream failed.
    #[error("enrollment exchange failed: {0}")]
    Stream(String),
    /// The control plane refused.
    #[error("the control plane refused enrollment ({code}): {message}")]
    Refused {
        /// Its error code.
        code: String,
        /// Its explanation.
        message: String,
    },
    /// The certificate issued names another appliance.
    #[error("the control plane issued a certificate for `{0}`, not for this appliance")]
    WrongAppliance(String),
}

/// Enrolls `appliance_id` with the control plane at `control_plane` (`host:port`), trusting
/// only `ca_pem`, and stores the identity in `files`.
pub async fn enroll(
    files: &IdentityFiles,
    control_plane: &str,
    ca_pem: &str,
    token: &str,
    appliance_id: &str,
) -> Result<CertificateFacts, EnrollError> {
    let ca = tls::certificates_from_pem(ca_pem)?;
    let key = KeyPair::generate()?;
    files.write_key(&key.serialize_pem())?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, appliance_id);
    params.distinguished_name = dn;
    let csr_pem = params.serialize_request(&key)?.pem()?;

    let (endpoint, connection) = dial(control_plane, tls::enroll_client(&ca)?).await?;
    let answer = exchange(&connection, token, appliance_id, csr_pem).await;
    connection.close(0u32.into(), b"done");
    endpoint.wait_idle().await;

    let certificate_pem = answer?;
    let first = tls::certificates_from_pem(&certificate_pem)?;
    let facts = tls::certificate_facts(first.first().map_or(&[][..], |c| c.as_ref()))?;
    if facts.appliance_id != appliance_id {
        return Err(EnrollError::WrongAppliance(facts.appliance_id));
    }
    files.write_enrollment(control_plane, ca_pem, &certificate_pem)?;
    Ok(facts)
}

async fn exchange(
    connection: &quinn::Connection,
    token: &str,
    appliance_id: &str,
    csr_pem: String,
) -> Result<String, EnrollError> {
    let stream = |e: &dyn std::fmt::Display| EnrollError::Stream(e.to_string());
    let (mut send, mut recv) = connection.open_bi().await.map_err(|e| stream(&e))?;
    let request = EnrollMessage::EnrollRequest(EnrollRequest {
        token: token.to_owned(),
        appliance_id: appliance_id.to_owned(),
        csr_pem,
    });
    write_message(&mut send, &request).await?;
    send.finish().map_err(|e| stream(&e))?;
    match read_message::<EnrollAnswer, _>(&mut recv).await? {
        Some(Decoded::Known(EnrollAnswer::Enrolled { certificate_pem })) => Ok(certificate_pem),
        Some(Decoded::Known(EnrollAnswer::Error(e))) => Err(EnrollError::Refused {
            code: e.code,
            message: e.message,
        }),
        Some(Decoded::Unknown(kind)) => Err(EnrollError::Stream(format!("unexpected `{kind}`"))),
        None => Err(EnrollError::Stream(
            "the control plane closed the stream".to_owned(),
        )),
    }
}
