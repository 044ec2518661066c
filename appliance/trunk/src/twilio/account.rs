//! The Twilio accounts the appliance answers for, each bound to one tenant.
//!
//! An account holds a primary and an optional secondary auth token, so a token can be rotated
//! in Twilio's console without refusing a single call. Tokens never leave this module's types
//! in printable form: `Debug` shows `[redacted]` and the bytes are wiped on drop.

use std::collections::HashMap;
use std::fmt;

use zeroize::Zeroizing;

use super::signature::Algorithm;
use super::twiml::StreamMode;

/// An auth token (or a webhook rule's shared key): the HMAC key of an account's signatures.
#[derive(Clone)]
pub struct AuthToken(Zeroizing<Vec<u8>>);

impl AuthToken {
    /// Wraps the token as read from the secrets directory.
    pub fn new(token: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(token.into()))
    }

    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken([redacted])")
    }
}

/// Which of an account's tokens verified a request: a call verified by the secondary one tells
/// the sysadmin the rotation is still under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSlot {
    /// The account's current token.
    Primary,
    /// The token being rotated in or out.
    Secondary,
}

/// One Twilio account (`AC...`) and the tenant its calls belong to.
#[derive(Clone, Debug)]
pub struct Account {
    /// The tenant every call of this account is stored under.
    pub tenant: String,
    /// The current auth token.
    pub primary: AuthToken,
    /// A second accepted token during a rotation.
    pub secondary: Option<AuthToken>,
    /// The signature algorithm Twilio uses for this account's webhooks.
    pub algorithm: Algorithm,
    /// How this tenant's calls are answered.
    pub mode: StreamMode,
    /// Called numbers (E.164, as Twilio's `To`) answered another way than `mode`.
    pub numbers: Vec<(String, StreamMode)>,
}

impl Account {
    /// How a call to `to` is answered: its number's own mode, else the account's.
    pub fn mode_for(&self, to: Option<&str>) -> &StreamMode {
        let own = to.and_then(|to| self.numbers.iter().find(|(number, _)| number == to));
        own.map_or(&self.mode, |(_, mode)| mode)
    }

    /// The tokens to try, primary first.
    pub(crate) fn tokens(&self) -> impl Iterator<Item = (TokenSlot, &AuthToken)> {
        let primary = std::iter::once((TokenSlot::Primary, &self.primary));
        primary.chain(self.secondary.iter().map(|t| (TokenSlot::Secondary, t)))
    }
}

/// The accounts by AccountSid.
#[derive(Clone, Debug, Default)]
pub struct Accounts(HashMap<String, Account>);

impl Accounts {
    /// No accounts: every request is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the account `sid`.
    pub fn insert(&mut self, sid: impl Into<String>, account: Account) {
        self.0.insert(sid.into(), account);
    }

    pub(crate) fn get(&self, sid: &str) -> Option<&Account> {
        self.0.get(sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let token = AuthToken::new("hunter2-token");
        assert!(!format!("{token:?}").contains("hunter2"));
    }
}
