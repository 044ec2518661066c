//! `X-Twilio-Signature`: the HMAC Twilio puts on every webhook and stream upgrade.
//!
//! The signed string is the public URL Twilio called, followed, for a form body, by every
//! parameter name and value sorted by name; a JSON body is signed through a `bodySHA256` query
//! parameter holding the SHA-256 of the raw body. The MAC is HMAC-SHA1 under the account's auth
//! token, or HMAC-SHA256 where a webhook rule asks for it, in standard base64.
//!
//! The URL given here must be the one Twilio used, rebuilt from the configured public base URL,
//! never from the request line a proxy may have rewritten. This module must never answer `true`
//! for a signature it did not recompute, and never panic on what a caller sends.
//!
//! Decisions where Twilio's own libraries disagree:
//! - Scheme, host and credentials are compared byte for byte, never case-folded. The URL is our
//!   own configuration, spelled as the administrator typed it into Twilio, so folding would only
//!   widen what is accepted (twilio-node accepts a lower-case host signature; we do not).
//! - An apostrophe in the URL is accepted raw or as `%27`, whichever Twilio signed. Which
//!   spelling Twilio's backend signs has changed over time, both spell the same resource, and a
//!   forger still needs a MAC over one of them (as twilio-node; twilio-python refuses one).
//! - A port is tried as given, then without it if present, or with the scheme's default port
//!   if absent: Twilio has signed both forms (as every library).
//! - A JSON body without `bodySHA256` in the URL is refused as badly signed, never an error
//!   (twilio-python raises instead).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The query parameter that carries the SHA-256 of a JSON body into the signed URL.
pub const BODY_SHA256_PARAM: &str = "bodySHA256";

/// The MAC algorithm of a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1 under the auth token: every ordinary webhook.
    HmacSha1,
    /// HMAC-SHA256 under a webhook rule's shared key.
    HmacSha256,
}

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    /// The configuration names an algorithm Twilio does not sign with.
    #[error("unknown signature algorithm {0:?}: use HMAC_SHA1 or HMAC_SHA256")]
    UnknownAlgorithm(String),
}

impl std::str::FromStr for Algorithm {
    type Err = SignatureError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "HMAC_SHA1" => Ok(Self::HmacSha1),
            "HMAC_SHA256" => Ok(Self::HmacSha256),
            other => Err(SignatureError::UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// What a signed request carried besides its URL.
#[derive(Clone, Copy, Debug)]
pub enum SignedBody<'a> {
    /// Form parameters (`application/x-www-form-urlencoded`), already decoded, in any order.
    Form(&'a [(String, String)]),
    /// A raw JSON body, hashed byte for byte (never re-serialised).
    Json(&'a [u8]),
    /// No body: a WebSocket upgrade, where only the URL is signed.
    Empty,
}

/// The lower-case hex SHA-256 of a body, as Twilio writes it into `bodySHA256`.
pub fn body_sha256_hex(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The base64 signature of `url` and `params` under `key`: what Twilio would send.
pub fn sign(algorithm: Algorithm, key: &[u8], url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(algorithm, key, &signed_string(url, params)))
}

/// Whether `signature` (the header's value) signs the request under `key`.
///
/// Every URL spelling listed in the module documentation is tried; the MACs are compared in
/// constant time. A signature that is not base64 is simply not valid.
pub fn is_valid(
    algorithm: Algorithm,
    key: &[u8],
    url: &str,
    body: SignedBody<'_>,
    signature: &str,
) -> bool {
    let Ok(presented) = STANDARD.decode(signature) else {
        return false;
    };
    let params: &[(String, String)] = match body {
        SignedBody::Form(params) => params,
        SignedBody::Json(raw) if !body_hash_matches(url, raw) => return false,
        SignedBody::Json(_) | SignedBody::Empty => &[],
    };

    let mut valid = false;
    for candidate in url_variants(url) {
        let expected = mac(algorithm, key, &signed_string(&candidate, params));
        valid |= bool::from(expected.as_slice().ct_eq(&presented));
    }
    valid
}

/// Whether the URL's `bodySHA256` parameter is the hash of `raw`; false when it is absent.
fn body_hash_matches(url: &str, raw: &[u8]) -> bool {
    let Some(claimed) = query_param(url, BODY_SHA256_PARAM) else {
        return false;
    };
    bool::from(claimed.as_bytes().ct_eq(body_sha256_hex(raw).as_bytes()))
}

/// The first raw value of query parameter `name`, if the URL has one.
fn query_param<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The URL followed by each distinct name and value, sorted by name then value.
fn signed_string(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_unstable();
    sorted.dedup();

    let mut out = url.as_bytes().to_vec();
    for (name, value) in sorted {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

fn mac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::HmacSha1 => mac_with::<Hmac<sha1::Sha1>>(key, message),
        Algorithm::HmacSha256 => mac_with::<Hmac<Sha256>>(key, message),
    }
}

fn mac_with<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this never takes the empty branch.
    let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    m.update(message);
    m.finalize().into_bytes().to_vec()
}

/// Every spelling of `url` Twilio may have signed: apostrophe forms times port forms.
fn url_variants(url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(6);
    for quoted in [
        url.to_owned(),
        url.replace('\'', "%27"),
        url.replace("%27", "'"),
    ] {
        let ported = port_variant(&quoted);
        for candidate in [Some(quoted), ported].into_iter().flatten() {
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// The URL with its port removed if it has one, or with the scheme's default port added.
fn port_variant(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let (host, port) = split_port(host_port);

    let host_port = match port {
        Some(_) => host.to_owned(),
        None => format!("{host}:{}", default_port(scheme)?),
    };
    Some(format!("{scheme}://{userinfo}{host_port}{tail}"))
}

/// Splits `host:port`, leaving an IPv6 literal's colons alone.
fn split_port(host_port: &str) -> (&str, Option<&str>) {
    let search_from = host_port.rfind(']').unwrap_or(0);
    let colon = host_port
        .get(search_from..)
        .and_then(|tail| tail.rfind(':'))
        .map(|i| i + search_from);
    match colon {
        Some(i) => (
            host_port.get(..i).unwrap_or(host_port),
            host_port.get(i + 1..),
        ),
        None => (host_port, None),
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => Some(443),
        "http" | "ws" => Some(80),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_variants_add_and_remove_the_default_port() {
        assert_eq!(
            port_variant("https://u:p@h.example/x?a=1").as_deref(),
            Some("https://u:p@h.example:443/x?a=1")
        );
        assert_eq!(
            port_variant("HTTP://h.example").as_deref(),
            Some("HTTP://h.example:80")
        );
        assert_eq!(
            port_variant("wss://h.example:8443/s").as_deref(),
            Some("wss://h.example/s")
        );
        assert_eq!(
            port_variant("https://[::1]/s").as_deref(),
            Some("https://[::1]:443/s")
        );
        assert_eq!(
            port_variant("https://[::1]:9/s").as_deref(),
            Some("https://[::1]/s")
        );
        assert_eq!(port_variant("ftp://h.example/"), None);
        assert_eq!(port_variant("not a url"), None);
    }

    #[test]
    fn unknown_algorithm_names_are_refused() {
        assert_eq!("HMAC_SHA256".parse(), Ok(Algorithm::HmacSha256));
        assert!("SHA1".parse::<Algorithm>().is_err());
    }

    #[test]
    fn a_signature_for_one_key_fails_under_another() {
        let params = [("CallSid".to_owned(), "CA1".to_owned())];
        let sig = sign(Algorithm::HmacSha1, b"one", "https://h.example/v", &params);
        let url = "https://h.example/v";
        assert!(is_valid(
            Algorithm::HmacSha1,
            b"one",
            url,
            SignedBody::Form(&params),
            &sig
        ));
        assert!(!is_valid(
            Algorithm::HmacSha1,
            b"two",
            url,
            SignedBody::Form(&params),
            &sig
        ));
    }
}
