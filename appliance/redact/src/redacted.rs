//! `Redacted<T>`: a value that has been through the redactor.
//!
//! Its constructor is private to this crate, so a `Redacted<String>` in another crate is proof
//! that the text went through detection and replacement. The sync and inference clients and the
//! vault take nothing else. This module must never grow a public way to wrap arbitrary values.

use std::fmt;

use crate::TranscriptText;

/// A value only this crate can make: text whose entities were replaced by the redactor.
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
