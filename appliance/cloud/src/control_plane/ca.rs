//! The reference control plane's small certificate authority: it issues its own server
//! certificate and signs the appliances' certificate requests at enrollment.
//!
//! The subject of an issued certificate is written here, from the appliance id the enrollment
//! token was bound to, never copied from the request: that is what binds one certificate to
//! one appliance. Only the public key is taken from the request.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use time::OffsetDateTime;

/// What can go wrong issuing a certificate.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// rcgen refused: a bad request, key or parameter.
    #[error("certificate authority: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A time outside what a certificate can hold.
    #[error("certificate validity out of range")]
    Validity,
}

/// A CA: its key and certificate.
pub struct Authority {
    key: KeyPair,
    cert: rcgen::Certificate,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

/// An issued certificate, PEM.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate.
    pub certificate_pem: String,
    /// Its serial number, hex, as [`crate::tls::certificate_facts`] reads it.
    pub serial: String,
}

fn at(ms: i64) -> Result<OffsetDateTime, CaError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| CaError::Validity)
}

fn serial() -> (SerialNumber, String) {
    let mut bytes: [u8; 16] = rand::random();
    // A positive DER integer without a leading zero byte.
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x7f) | 0x40;
    }
    let hex = bytes.iter().map(|b| format!("{b:02x}")).collect();
    (SerialNumber::from_slice(&bytes), hex)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

impl Authority {
    /// A new CA named `common_name`, valid from `from_ms` to `until_ms`.
    pub fn generate(common_name: &str, from_ms: i64, until_ms: i64) -> Result<Self, CaError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = at(from_ms)?;
        params.not_after = at(until_ms)?;
        let cert = params.self_signed(&key)?;
        Ok(Authority { key, cert })
    }

    /// The CA saved earlier by [`Authority::certificate_pem`] and [`Authority::key_pem`].
    pub fn from_pem(certificate_pem: &str, key_pem: &str) -> Result<Self, CaError> {
        let key = KeyPair::from_pem(key_pem)?;
        // rcgen signs with an issuer certificate object; rebuilt from the same parameters and
        // key it names the same subject and key, so what it signs verifies against the file.
        let cert = CertificateParams::from_ca_cert_pem(certificate_pem)?.self_signed(&key)?;
        Ok(Authority { key, cert })
    }

    /// The CA certificate, PEM: what appliances pin.
    pub fn certificate_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA's private key, PEM, to save with mode 0600.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A server certificate for `hosts` and its private key (PEM).
    pub fn issue_server(
        &self,
        hosts: &[String],
        from_ms: i64,
        until_ms: i64,
    ) -> Result<(Issued, String), CaError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(hosts.to_vec())?;
        params.distinguished_name = name(hosts.first().map_or("control-plane", String::as_str));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let (number, serial) = serial();
        params.serial_number = Some(number);
        params.not_before = at(from_ms)?;
        params.not_after = at(until_ms)?;
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        let issued = Issued {
            certificate_pem: cert.pem(),
            serial,
        };
        Ok((issued, key.serialize_pem()))
    }

    /// Signs `csr_pem` as the client certificate of `appliance_id`, valid from `from_ms` to
    /// `until_ms`. The subject is `appliance_id`, whatever the request asked for.
    pub fn sign_appliance(
        &self,
        csr_pem: &str,
        appliance_id: &str,
        from_ms: i64,
        until_ms: i64,
    ) -> Result<Issued, CaError> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(appliance_id);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let (number, serial) = serial();
        params.serial_number = Some(number);
        params.not_before = at(from_ms)?;
        params.not_after = at(until_ms)?;
        csr.params = params;
        let cert = csr.signed_by(&self.cert, &self.key)?;
        Ok(Issued {
            certificate_pem: cert.pem(),
            serial,
        })
    }
}
