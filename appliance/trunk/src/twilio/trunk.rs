//! The Twilio trunk's door: a webhook or upgrade in, an answer or a refusal out.
//!
//! This is what the listener calls. It verifies, consults the replay guard, and for a new call
//! issues the stream token and writes the TwiML; a refusal has changed nothing, and its
//! [`Refusal::reason`] is the label the listener counts it under.

use std::time::SystemTime;

use super::replay::{CallAdmission, ReplayError, ReplayGuard};
use super::stream_token::StreamTokens;
use super::twiml;
use super::verify::{VerifiedCall, VerifiedStream, Verifier, VerifyError};

/// Why a request was refused (403).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// Not signed, badly signed, or for no configured account.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Already accepted once.
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

impl Refusal {
    /// A short, fixed label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Verify(VerifyError::MissingSignature) => "unsigned",
            Self::Verify(VerifyError::BadSignature) => "bad_signature",
            Self::Verify(VerifyError::UnknownAccount) => "unknown_account",
            Self::Verify(VerifyError::Token(_)) => "bad_token",
            Self::Verify(_) => "malformed",
            Self::Replay(_) => "replayed",
        }
    }
}

/// The answer to a verified voice webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallAnswer {
    /// The verified call.
    pub call: VerifiedCall,
    /// The TwiML to send back (200, `text/xml`).
    pub twiml: String,
    /// True when this was Twilio retrying a call already answered: start nothing new.
    pub retry: bool,
}

/// The Twilio trunk's verifier, replay guard and stream tokens.
#[derive(Debug)]
pub struct TwilioTrunk {
    verifier: Verifier,
    guard: ReplayGuard,
    tokens: StreamTokens,
}

impl TwilioTrunk {
    /// A trunk from its parts.
    pub fn new(verifier: Verifier, guard: ReplayGuard, tokens: StreamTokens) -> Self {
        Self {
            verifier,
            guard,
            tokens,
        }
    }

    /// Answers for `accounts` from now on (a reload: rotated tokens, new tenants). Stream tokens
    /// already issued and the replay guard's memory stay, so calls in progress are unaffected.
    pub fn replace_accounts(&mut self, accounts: super::Accounts) {
        self.verifier.replace_accounts(accounts);
    }

    /// Answers a voice webhook at `now`.
    ///
    /// A retry gets the first answer's stream token, which lives shorter than the replay
    /// window: Twilio retries within its webhook timeout (15 s), well inside the token's life.
    pub fn answer_call(
        &mut self,
        path_and_query: &str,
        signature: Option<&str>,
        params: &[(String, String)],
        now: SystemTime,
    ) -> Result<CallAnswer, Refusal> {
        let call = self
            .verifier
            .verify_call(path_and_query, signature, params)?;
        let (account_sid, call_sid) = (call.account_sid(), call.call_sid());
        if let CallAdmission::Retry(twiml) = self.guard.admit_call(account_sid, call_sid, now) {
            return Ok(CallAnswer {
                call,
                twiml,
                retry: true,
            });
        }

        let account = self
            .verifier
            .account(account_sid)
            .ok_or(VerifyError::UnknownAccount)?;
        let token = self.tokens.issue(account_sid, call_sid, now);
        // `To` is covered by the signature just checked, so it may choose the answer.
        let to = params
            .iter()
            .find(|(k, _)| k == "To")
            .map(|(_, v)| v.as_str());
        let mode = account.mode_for(to);
        let twiml = twiml::answer(mode, &self.verifier.base().stream_url(&token));
        self.guard.record_answer(account_sid, call_sid, &twiml, now);
        Ok(CallAnswer {
            call,
            twiml,
            retry: false,
        })
    }

    /// Accepts a status callback at `now`, once: Twilio only retries a callback that failed,
    /// so a second delivery of one already accepted is refused as a replay.
    pub fn accept_status(
        &mut self,
        path_and_query: &str,
        signature: Option<&str>,
        params: &[(String, String)],
        now: SystemTime,
    ) -> Result<VerifiedCall, Refusal> {
        let call = self
            .verifier
            .verify_call(path_and_query, signature, params)?;
        self.guard.admit_once(signature.unwrap_or_default(), now)?;
        Ok(call)
    }

    /// Accepts a stream upgrade at `now`, once.
    pub fn accept_stream(
        &mut self,
        path: &str,
        signature: Option<&str>,
        now: SystemTime,
    ) -> Result<VerifiedStream, Refusal> {
        let stream = self
            .verifier
            .verify_stream(path, signature, &self.tokens, now)?;
        // The signature is known to be present and valid here.
        self.guard.admit_once(signature.unwrap_or_default(), now)?;
        Ok(stream)
    }
}
