//! The keys the stand-ins accept, with their expiry, and the SigV4 check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use diala_agent::credentials::AwsCredentials;
use zeroize::Zeroizing;

/// An issued key's secret, session token and expiry.
type Issued = (String, Option<String>, SystemTime);

#[derive(Debug, Clone, Default)]
pub struct Keys {
    issued: Arc<Mutex<HashMap<String, Issued>>>,
}

/// Why a request's signature was refused: the AWS error type and its message.
pub type Refusal = (&'static str, String);

impl Keys {
    pub fn issue(&self, expires: SystemTime) -> AwsCredentials {
        let mut issued = self.issued.lock().unwrap();
        let id = format!("ASIATEST{:08}", issued.len());
        let secret = format!("secret-{}-{}", issued.len(), rand_word());
        let token = format!("token-{}", issued.len());
        issued.insert(id.clone(), (secret.clone(), Some(token.clone()), expires));
        AwsCredentials {
            access_key_id: id,
            secret_access_key: Zeroizing::new(secret),
            session_token: Some(Zeroizing::new(token)),
            expires: Some(expires),
        }
    }

    /// Checks the request's SigV4 signature; returns the access key id that signed it.
    pub fn verify(
        &self,
        service: &str,
        method: &str,
        path_and_query: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<String, Refusal> {
        let auth = header(headers, "authorization").ok_or(missing("Authorization"))?;
        let fields = parse_authorization(&auth).ok_or(bad("malformed Authorization"))?;
        let [key_id, date, region, scope_service, _] = &fields.scope[..] else {
            return Err(bad("malformed credential scope"));
        };
        if scope_service != service {
            return Err(bad("wrong service in the credential scope"));
        }
        let (secret, token, expires) = self
            .issued
            .lock()
            .unwrap()
            .get(key_id)
            .cloned()
            .ok_or(("UnrecognizedClientException", "unknown key".into()))?;
        if expires <= SystemTime::now() {
            return Err((
                "ExpiredTokenException",
                "The security token included in the request is expired".into(),
            ));
        }

        let amz_date = header(headers, "x-amz-date").ok_or(missing("X-Amz-Date"))?;
        if !amz_date.starts_with(date.as_str()) {
            return Err(bad("date and scope differ"));
        }
        let time = parse_amz_date(&amz_date).ok_or(bad("malformed X-Amz-Date"))?;
        let signed: Vec<(String, String)> = fields
            .signed_headers
            .iter()
            .map(|name| (name.clone(), header(headers, name).unwrap_or_default()))
            .collect();
        let identity = Credentials::new(key_id, secret, token, Some(expires), "stand-in").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let request = SignableRequest::new(
            method,
            path_and_query,
            signed.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|_| bad("unsignable request"))?;
        let expected = sign(request, &params).map_err(|_| bad("cannot sign"))?;
        if expected.signature() != fields.signature {
            return Err((
                "InvalidSignatureException",
                "The request signature we calculated does not match".into(),
            ));
        }
        Ok(key_id.clone())
    }
}

fn rand_word() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        .into()
}

fn header(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn missing(name: &str) -> Refusal {
    (
        "MissingAuthenticationTokenException",
        format!("missing {name}"),
    )
}

fn bad(what: &str) -> Refusal {
    ("InvalidSignatureException", what.to_owned())
}

struct Authorization {
    scope: Vec<String>,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut scope = None;
    let mut signed_headers = None;
    let mut signature = None;
    for field in rest.split(',') {
        let (name, value) = field.trim().split_once('=')?;
        match name {
            "Credential" => scope = Some(value.split('/').map(str::to_owned).collect()),
            "SignedHeaders" => signed_headers = Some(value.split(';').map(str::to_owned).collect()),
            "Signature" => signature = Some(value.to_owned()),
            _ => return None,
        }
    }
    Some(Authorization {
        scope: scope?,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// `20261204T104000Z`.
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        text.get(0..4)?,
        text.get(4..6)?,
        text.get(6..8)?,
        text.get(9..11)?,
        text.get(11..13)?,
        text.get(13..15)?
    );
    let at =
        aws_smithy_types::DateTime::from_str(&iso, aws_smithy_types::date_time::Format::DateTime)
            .ok()?;
    SystemTime::try_from(at).ok()
}
