//! Short-lived stream tokens: the path segment of the `<Stream url>` handed to Twilio.
//!
//! A token names the account and call it was issued for and when it expires, under an
//! HMAC-SHA256 keyed by a per-process random key: only this process can issue one, and a
//! restart invalidates every token still unused. Twilio refuses query strings in a stream URL,
//! so the token travels in the path, in URL-safe base64. The upgrade is still checked for
//! Twilio's signature; the token binds that upgrade to the call its webhook verified. A token
//! must never carry anything but Twilio identifiers and a time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

const VERSION: &str = "v1";

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StreamTokenError {
    /// The token is not one this process issued (forged, mangled or from before a restart).
    #[error("stream token is not valid: the upgrade did not come from a call we answered")]
    Invalid,
    /// The token was issued but its lifetime is over.
    #[error("stream token expired: Twilio connected later than the token lifetime allows")]
    Expired,
}

/// What a valid token was issued for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamGrant {
    /// The AccountSid whose signature verified the call.
    pub account_sid: String,
    /// The CallSid of the verified call; the stream's `start` message must name the same one.
    pub call_sid: String,
}

/// Issues and checks stream tokens under one process-wide key.
pub struct StreamTokens {
    key: Zeroizing<[u8; 32]>,
    lifetime: Duration,
}

impl std::fmt::Debug for StreamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StreamTokens {{ key: [redacted], lifetime: {:?} }}",
            self.lifetime
        )
    }
}

impl StreamTokens {
    /// Tokens under a fresh random key, valid for `lifetime` after issue.
    pub fn random(lifetime: Duration) -> Self {
        Self::with_key(rand::random(), lifetime)
    }

    /// Tokens under `key`; tests use a fixed one.
    pub fn with_key(key: [u8; 32], lifetime: Duration) -> Self {
        Self {
            key: Zeroizing::new(key),
            lifetime,
        }
    }

    /// A token for the call `call_sid` of `account_sid`, issued at `now`.
    pub(crate) fn issue(&self, account_sid: &str, call_sid: &str, now: SystemTime) -> String {
        let expires = unix_secs(now).saturating_add(self.lifetime.as_secs());
        let payload = format!("{VERSION}.{account_sid}.{call_sid}.{expires}");
        let body = URL_SAFE_NO_PAD.encode(payload.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(self.tag(body.as_bytes()));
        format!("{body}.{tag}")
    }

    /// The grant of `token` if this process issued it and it has not expired at `now`.
    pub fn check(&self, token: &str, now: SystemTime) -> Result<StreamGrant, StreamTokenError> {
        let (body, tag) = token.split_once('.').ok_or(StreamTokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| StreamTokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| StreamTokenError::Invalid)?;

        let payload = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| StreamTokenError::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| StreamTokenError::Invalid)?;
        let mut fields = payload.split('.');
        let (Some(VERSION), Some(account), Some(call), Some(expires), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(StreamTokenError::Invalid);
        };
        let expires: u64 = expires.parse().map_err(|_| StreamTokenError::Invalid)?;
        if unix_secs(now) >= expires {
            return Err(StreamTokenError::Expired);
        }
        Ok(StreamGrant {
            account_sid: account.to_owned(),
            call_sid: call.to_owned(),
        })
    }

    fn tag(&self, body: &[u8]) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    fn mac(&self) -> Hmac<Sha256> {
        // A 32-byte key is always accepted by HMAC.
        <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn tokens() -> StreamTokens {
        StreamTokens::with_key([7; 32], Duration::from_secs(30))
    }

    #[test]
    fn a_token_grants_its_call_until_it_expires() {
        let token = tokens().issue("AC1", "CA1", at(1_000));
        let grant = tokens().check(&token, at(1_029)).unwrap();
        assert_eq!(
            grant,
            StreamGrant {
                account_sid: "AC1".into(),
                call_sid: "CA1".into()
            }
        );
        assert_eq!(
            tokens().check(&token, at(1_030)),
            Err(StreamTokenError::Expired)
        );
    }

    #[test]
    fn tokens_are_path_safe() {
        let token = tokens().issue("AC1", "CA1", at(1_000));
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }

    #[test]
    fn another_key_or_an_edit_is_refused() {
        let token = tokens().issue("AC1", "CA1", at(1_000));
        let other = StreamTokens::with_key([8; 32], Duration::from_secs(30));
        assert_eq!(
            other.check(&token, at(1_001)),
            Err(StreamTokenError::Invalid)
        );

        let forged_body = URL_SAFE_NO_PAD.encode("v1.AC1.CA2.99999");
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{forged_body}.{tag}");
        assert_eq!(
            tokens().check(&forged, at(1_001)),
            Err(StreamTokenError::Invalid)
        );
        for junk in ["", ".", "abc", "a.b.c", "%%.%%"] {
            assert_eq!(
                tokens().check(junk, at(1_001)),
                Err(StreamTokenError::Invalid)
            );
        }
    }
}
