//! Digest authentication of a trunk's INVITEs (RFC 3261 section 22, RFC 7616 and RFC 8760):
//! MD5 and SHA-256, `qop=auth`, stateless nonces.
//!
//! A nonce is the time it was made and an HMAC of that time and the peer's address under a key
//! of this run, so a nonce needs no table, cannot be forged, and expires after five minutes
//! (then the answer says `stale=true` and the peer retries without asking its user). The
//! password is held in a zeroizing type and compared only through its hashes, in constant
//! time. Nothing here may log a password, a response or a username.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// How long a nonce is good for, in seconds.
pub const NONCE_LIFE_SECS: u64 = 300;

/// A trunk's digest password, from a credential file; never printed.
#[derive(Clone)]
pub struct DigestPassword(Zeroizing<String>);

impl DigestPassword {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(Zeroizing::new(password.into()))
    }
}

impl std::fmt::Debug for DigestPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestPassword([redacted])")
    }
}

/// A trunk's digest credentials.
#[derive(Clone, Debug)]
pub struct DigestCredentials {
    /// The realm the challenge names.
    pub realm: String,
    /// The username the trunk must send.
    pub username: String,
    /// Its password.
    pub password: DigestPassword,
}

/// The outcome of checking an `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The credentials are right.
    Authorized,
    /// No credentials, or wrong ones: challenge.
    Challenge,
    /// Right credentials on an expired nonce: challenge with `stale=true`.
    Stale,
}

/// Makes and checks nonces with a key of this run.
#[derive(Clone)]
pub struct Nonces {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonces([redacted])")
    }
}

impl Nonces {
    /// Nonces under `key` (random, made at start).
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(key),
        }
    }

    /// A nonce for `peer` made at `now_secs`.
    pub fn make(&self, peer: IpAddr, now_secs: u64) -> String {
        format!("{now_secs:x}.{}", self.tag(peer, now_secs))
    }

    fn tag(&self, peer: IpAddr, secs: u64) -> String {
        #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_slice())
            .expect("HMAC takes a key of any length");
        mac.update(&secs.to_be_bytes());
        mac.update(peer.to_string().as_bytes());
        hex(mac.finalize().into_bytes().get(..16).unwrap_or_default())
    }

    /// Whether `nonce` was made by us for `peer`, and if so whether it is still fresh.
    fn check(&self, nonce: &str, peer: IpAddr, now_secs: u64) -> Option<bool> {
        let (time, tag) = nonce.split_once('.')?;
        let made = u64::from_str_radix(time, 16).ok()?;
        let ours: bool = self.tag(peer, made).as_bytes().ct_eq(tag.as_bytes()).into();
        ours.then(|| now_secs.saturating_sub(made) <= NONCE_LIFE_SECS && made <= now_secs)
    }
}

/// The `WWW-Authenticate` values of a challenge: SHA-256 first, then MD5 (RFC 8760 section 2.4).
pub fn challenges(realm: &str, nonce: &str, stale: bool) -> [String; 2] {
    let stale = if stale { ", stale=true" } else { "" };
    ["SHA-256", "MD5"].map(|algorithm| {
        format!(
            "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={algorithm}, qop=\"auth\"{stale}"
        )
    })
}

/// Checks the `Authorization` header of a `method` request from `peer` at `now_secs`.
pub fn verify(
    authorization: Option<&str>,
    method: &str,
    credentials: &DigestCredentials,
    nonces: &Nonces,
    peer: IpAddr,
    now_secs: u64,
) -> Verdict {
    let Some(fields) = authorization.and_then(|a| a.trim().strip_prefix("Digest ")) else {
        return Verdict::Challenge;
    };
    let field = |name: &str| field(fields, name);
    let (Some(username), Some(realm), Some(nonce), Some(uri), Some(response)) = (
        field("username"),
        field("realm"),
        field("nonce"),
        field("uri"),
        field("response"),
    ) else {
        return Verdict::Challenge;
    };
    if username != credentials.username || realm != credentials.realm {
        return Verdict::Challenge;
    }
    let Some(fresh) = nonces.check(&nonce, peer, now_secs) else {
        return Verdict::Challenge;
    };

    let hash: fn(&str) -> String = match field("algorithm").as_deref() {
        None | Some("MD5") => |s| hex(&Md5::digest(s.as_bytes())),
        Some("SHA-256") => |s| hex(&Sha256::digest(s.as_bytes())),
        Some(_) => return Verdict::Challenge,
    };
    let secret = Zeroizing::new(format!(
        "{username}:{realm}:{}",
        credentials.password.0.as_str()
    ));
    let ha1 = Zeroizing::new(hash(&secret));
    let ha2 = hash(&format!("{method}:{uri}"));
    let expected = match (field("qop").as_deref(), field("nc"), field("cnonce")) {
        (Some("auth"), Some(nc), Some(cnonce)) => hash(&format!(
            "{}:{nonce}:{nc}:{cnonce}:auth:{ha2}",
            ha1.as_str()
        )),
        (None, _, _) => hash(&format!("{}:{nonce}:{ha2}", ha1.as_str())),
        _ => return Verdict::Challenge,
    };

    let matches: bool = expected
        .as_bytes()
        .ct_eq(response.to_ascii_lowercase().as_bytes())
        .into();
    match (matches, fresh) {
        (true, true) => Verdict::Authorized,
        (true, false) => Verdict::Stale,
        (false, _) => Verdict::Challenge,
    }
}

/// One field of a digest header (`name=value` or `name="value"`, comma-separated), unquoted.
fn field(fields: &str, name: &str) -> Option<String> {
    let mut rest = fields;
    loop {
        let (key, after) = rest.trim_start_matches([' ', ',', '\t']).split_once('=')?;
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (quoted.get(..end)?, quoted.get(end + 1..)?)
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (after.get(..end)?.trim(), after.get(end..)?)
            }
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(value.to_owned());
        }
        rest = next;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
