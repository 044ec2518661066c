//! `Redacted<T>`: a value that has been through the redactor.
//!
//! Its constructor is private to this crate, so a `Redacted<String>` in another crate is proof
//! that the text went through detection and replacement. The sync and inference clients and the
//! vault take nothing else. This module must never grow a public way to wrap arbitrary values.

use std::fmt;

use crate::TranscriptText;

/// A value only this crate can make: text whose entities were replaced by the redactor.
///
/// Another crate cannot forge one:
///
/// ```compile_fail
/// let forged = diala_redact::Redacted("call 415 555 0134".to_owned());
/// ```
///
/// ```compile_fail
/// let forged = diala_redact::Redacted::new("call 415 555 0134".to_owned());
/// ```
///
/// It comes only out of a redactor:
///
/// ```
/// use diala_redact::{Policy, Redactor, TokenKey};
///
/// let redactor = Redactor::new(TokenKey::ephemeral(), Policy::keep_nothing());
/// let out = redactor.redact("call 415 555 0134");
/// assert!(out.forward.as_str().starts_with("call [PHONE:"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    pub(crate) fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The redacted value.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// The redacted value, unwrapped, for the last step before it leaves (serialising it).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Redacted<String> {
    /// The forwarded text, with every entity replaced by its token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Redacted<String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Redacted").field(&self.0).finish()
    }
}

impl fmt::Display for Redacted<String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// The local form may hold entities the tenant's policy keeps in clear, so it prints like
// `TranscriptText`: its length only.
impl fmt::Debug for Redacted<TranscriptText> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Redacted").field(&self.0).finish()
    }
}
