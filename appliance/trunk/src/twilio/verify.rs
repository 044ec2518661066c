//! From a signed request to a call of one tenant.
//!
//! [`Verifier`] is the only maker of [`VerifiedCall`] and [`VerifiedStream`]: holding one
//! proves Twilio signed the request under the token of the account it names, and the tenant in
//! it is that account's, never a value the caller chose. The AccountSid read from the form
//! before the check only says which tokens to try.

use std::time::SystemTime;

use super::account::{Account, Accounts, TokenSlot};
use super::public_url::{PublicBase, STREAM_PATH};
use super::signature::{SignedBody, is_valid};
use super::stream_token::{StreamGrant, StreamTokenError, StreamTokens};

/// Why a request was refused; every one is answered 403 and changes nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// No `X-Twilio-Signature` header.
    #[error("request has no X-Twilio-Signature: it did not come from Twilio")]
    MissingSignature,
    /// The form lacks a field every voice webhook has.
    #[error("webhook has no {0}: it did not come from Twilio's voice webhook")]
    MissingField(&'static str),
    /// A Twilio identifier that is not one (and could not be written into a stream token).
    #[error("webhook has a malformed {0}")]
    MalformedSid(&'static str),
    /// The AccountSid is not configured here.
    #[error("webhook is for an account not configured here: add it to a tenant's twilio accounts")]
    UnknownAccount,
    /// No configured token of the account verifies the signature.
    #[error(
        "signature does not verify: check the account's auth tokens and that the public base URL \
         is exactly the one configured in Twilio"
    )]
    BadSignature,
    /// The upgrade is not to a stream path.
    #[error("upgrade is not to a stream URL we hand out")]
    NotAStreamPath,
    /// The stream token was refused.
    #[error(transparent)]
    Token(#[from] StreamTokenError),
}

/// A voice webhook whose signature verified: the call and the tenant it belongs to.
///
/// Nothing outside this module can make one:
///
/// ```compile_fail
/// let call = diala_trunk::twilio::VerifiedCall {
///     tenant: "acme".into(),
///     account_sid: "AC1".into(),
///     call_sid: "CA1".into(),
///     slot: diala_trunk::twilio::TokenSlot::Primary,
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCall {
    tenant: String,
    account_sid: String,
    call_sid: String,
    slot: TokenSlot,
}

impl VerifiedCall {
    /// The tenant of the account whose token verified the call.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
    /// The verified AccountSid.
    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }
    /// The verified CallSid.
    pub fn call_sid(&self) -> &str {
        &self.call_sid
    }
    /// Which of the account's tokens verified it.
    pub fn slot(&self) -> TokenSlot {
        self.slot
    }
}

/// A stream upgrade Twilio signed, carrying a live token issued for a verified call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedStream {
    tenant: String,
    grant: StreamGrant,
}

impl VerifiedStream {
    /// The tenant the stream's call belongs to.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
    /// The call the token was issued for; the stream's `start` message must name it.
    pub fn call_sid(&self) -> &str {
        &self.grant.call_sid
    }
    /// The account of the call.
    pub fn account_sid(&self) -> &str {
        &self.grant.account_sid
    }
}

/// Checks signatures against the configured accounts and public base URL.
#[derive(Clone, Debug)]
pub struct Verifier {
    base: PublicBase,
    accounts: Accounts,
}

impl Verifier {
    /// A verifier for `accounts`, reached by Twilio at `base`.
    pub fn new(base: PublicBase, accounts: Accounts) -> Self {
        Self { base, accounts }
    }

    /// The public base URL.
    pub fn base(&self) -> &PublicBase {
        &self.base
    }

    /// Checks against `accounts` from now on.
    pub fn replace_accounts(&mut self, accounts: Accounts) {
        self.accounts = accounts;
    }

    pub(crate) fn account(&self, sid: &str) -> Option<&Account> {
        self.accounts.get(sid)
    }

    /// Verifies a voice webhook: the request line's `path_and_query`, the signature header and
    /// the decoded form parameters.
    pub fn verify_call(
        &self,
        path_and_query: &str,
        signature: Option<&str>,
        params: &[(String, String)],
    ) -> Result<VerifiedCall, VerifyError> {
        let signature = signature.ok_or(VerifyError::MissingSignature)?;
        let account_sid = field(params, "AccountSid")?;
        let account = self
            .accounts
            .get(account_sid)
            .ok_or(VerifyError::UnknownAccount)?;

        let url = self.base.webhook_url(path_and_query);
        let slot = verified_slot(account, &url, SignedBody::Form(params), signature)?;

        let call_sid = field(params, "CallSid")?;
        check_sid(account_sid, "AccountSid")?;
        check_sid(call_sid, "CallSid")?;
        Ok(VerifiedCall {
            tenant: account.tenant.clone(),
            account_sid: account_sid.to_owned(),
            call_sid: call_sid.to_owned(),
            slot,
        })
    }

    /// Verifies a stream upgrade to `path` (the request line, ending in the stream token).
    pub fn verify_stream(
        &self,
        path: &str,
        signature: Option<&str>,
        tokens: &StreamTokens,
        now: SystemTime,
    ) -> Result<VerifiedStream, VerifyError> {
        let signature = signature.ok_or(VerifyError::MissingSignature)?;
        let token = match path.rsplit_once(STREAM_PATH) {
            Some(("", token)) if !token.contains(['/', '?']) => token,
            _ => return Err(VerifyError::NotAStreamPath),
        };
        let grant = tokens.check(token, now)?;
        let account = self
            .accounts
            .get(&grant.account_sid)
            .ok_or(VerifyError::UnknownAccount)?;

        let url = self.base.stream_url(token);
        verified_slot(account, &url, SignedBody::Empty, signature)?;
        Ok(VerifiedStream {
            tenant: account.tenant.clone(),
            grant,
        })
    }
}

/// The slot of the first of the account's tokens that verifies the signature.
fn verified_slot(
    account: &Account,
    url: &str,
    body: SignedBody<'_>,
    signature: &str,
) -> Result<TokenSlot, VerifyError> {
    account
        .tokens()
        .find(|(_, token)| is_valid(account.algorithm, token.expose(), url, body, signature))
        .map(|(slot, _)| slot)
        .ok_or(VerifyError::BadSignature)
}

fn field<'p>(params: &'p [(String, String)], name: &'static str) -> Result<&'p str, VerifyError> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .ok_or(VerifyError::MissingField(name))
}

/// Twilio SIDs are two letters and hex digits; anything else cannot go into a stream token.
fn check_sid(sid: &str, name: &'static str) -> Result<(), VerifyError> {
    let shaped = (2..=64).contains(&sid.len()) && sid.bytes().all(|b| b.is_ascii_alphanumeric());
    if shaped {
        Ok(())
    } else {
        Err(VerifyError::MalformedSid(name))
    }
}
