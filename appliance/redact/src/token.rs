//! Keyed tokens that stand in for a detected value.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{EntityKind, numbers, words};

/// The key under which tokens are computed. The same value under the same key always gives the
/// same token; under another key it gives an unrelated one.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// A key from 32 bytes of key material (a tenant's derived token key).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TokenKey(bytes)
    }

    /// A fresh random key, for tokens that need only be stable within one process run (logs).
    pub fn ephemeral() -> Self {
        TokenKey(rand::random())
    }

    /// The token for `value`, e.g. `[PHONE:7f3a]`. The value is normalised first so that
    /// `+1 (415) 555-0134` and `+14155550134` give the same token.
    pub fn token(&self, kind: EntityKind, value: &str) -> String {
        let normalised = normalise(kind, value);
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(kind.label().as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!(
            "[{}:{}]",
            kind.label(),
            hex::encode(tag.get(..2).unwrap_or_default())
        )
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

/// The value in one canonical form, so every way of writing or saying it gives one token.
fn normalise(kind: EntityKind, value: &str) -> String {
    match kind {
        EntityKind::Email => spoken_email(value),
        EntityKind::Iban => value
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        EntityKind::IpAddress => value.to_ascii_lowercase(),
        EntityKind::Phone => {
            let digits = digits_of(value);
            // +1 415 555 0134 and (415) 555-0134 are one number.
            match digits.strip_prefix('1') {
                Some(national) if digits.len() == 11 => national.to_owned(),
                _ => digits,
            }
        }
        _ => digits_of(value),
    }
}

/// Every digit the value reads as, written or spoken.
fn digits_of(value: &str) -> String {
    let mut tokens = Vec::new();
    words::tokenize(value, &mut tokens);
    let read = numbers::read(value, &tokens, &[]);
    String::from_utf8_lossy(&read.digits).into_owned()
}

/// `J o h n dot Smith at gmail dot com` as `john.smith@gmail.com`.
fn spoken_email(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        out.push_str(match lower.as_str() {
            "dot" | "period" => ".",
            "at" => "@",
            "underscore" => "_",
            "dash" | "hyphen" => "-",
            other => other,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_number_same_token_across_forms() {
        let key = TokenKey::from_bytes([7; 32]);
        let a = key.token(EntityKind::Phone, "+1 (415) 555-0134");
        let b = key.token(EntityKind::Phone, "+14155550134");
        assert_eq!(a, b);
        assert!(
            a.starts_with("[PHONE:") && a.len() == "[PHONE:7f3a]".len(),
            "{a}"
        );
    }

    #[test]
    fn spoken_and_written_forms_share_a_token() {
        let key = TokenKey::from_bytes([7; 32]);
        let written = key.token(EntityKind::Phone, "(415) 555-0134");
        let spoken = key.token(
            EntityKind::Phone,
            "four one five five five five oh one three four",
        );
        assert_eq!(written, spoken);
        let email = key.token(EntityKind::Email, "John.Smith@gmail.com");
        assert_eq!(
            email,
            key.token(EntityKind::Email, "j o h n dot smith at gmail dot com")
        );
    }

    #[test]
    fn other_key_other_token() {
        let a = TokenKey::from_bytes([1; 32]).token(EntityKind::Email, "a@b.example");
        let b = TokenKey::from_bytes([2; 32]).token(EntityKind::Email, "a@b.example");
        assert_ne!(a, b);
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(
            format!("{:?}", TokenKey::from_bytes([9; 32])),
            "TokenKey([redacted])"
        );
    }
}
