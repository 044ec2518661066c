//! The replay guard: a verified request is acted on once.
//!
//! Twilio's webhooks carry no timestamp or nonce, so a captured request stays validly signed
//! forever. The guard remembers, for a window, every signature it has let through and the
//! answer given to each call:
//! - a voice webhook for a CallSid already answered within the window is a Twilio retry (its
//!   parameters, and so its signature, are those of the first attempt): it gets the very same
//!   TwiML, stream token included, and starts nothing new;
//! - any other request whose signature was already seen within the window (a stream upgrade, a
//!   status callback) is a replay and is refused.
//!
//! After the window a replayed voice webhook is answered as a new call. That answer is harmless:
//! its fresh stream token can only be used by an upgrade Twilio signed over the URL holding that
//! token, which no one but Twilio can produce. Memory is bounded: when full, the entries that
//! expire first are dropped.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReplayError {
    /// The request was already accepted once within the window.
    #[error("request replayed: its signature was already accepted; nothing was done")]
    Replayed,
}

/// What the guard decided for a voice webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallAdmission {
    /// A call not seen before: answer it and [`ReplayGuard::record_answer`] the TwiML.
    New,
    /// A retry of a call answered within the window: send this TwiML again.
    Retry(String),
}

/// Remembers accepted signatures and call answers for a window.
#[derive(Debug)]
pub struct ReplayGuard {
    window: Duration,
    capacity: usize,
    signatures: HashMap<[u8; 32], SystemTime>,
    answers: HashMap<(String, String), (SystemTime, String)>,
}

impl ReplayGuard {
    /// A guard remembering each entry for `window`, at most `capacity` of each kind.
    pub fn new(window: Duration, capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            window,
            capacity,
            signatures: HashMap::new(),
            answers: HashMap::new(),
        }
    }

    /// Admits a request other than a voice webhook once per window.
    pub fn admit_once(&mut self, signature: &str, now: SystemTime) -> Result<(), ReplayError> {
        self.forget_expired(now);
        let digest: [u8; 32] = Sha256::digest(signature.as_bytes()).into();
        if self.signatures.contains_key(&digest) {
            return Err(ReplayError::Replayed);
        }
        if self.signatures.len() >= self.capacity {
            evict_oldest(&mut self.signatures, |expiry| *expiry);
        }
        self.signatures.insert(digest, now + self.window);
        Ok(())
    }

    /// Whether the voice webhook for `call_sid` of `account_sid` is new or a retry.
    pub fn admit_call(
        &mut self,
        account_sid: &str,
        call_sid: &str,
        now: SystemTime,
    ) -> CallAdmission {
        self.forget_expired(now);
        match self
            .answers
            .get(&(account_sid.to_owned(), call_sid.to_owned()))
        {
            Some((_, twiml)) => CallAdmission::Retry(twiml.clone()),
            None => CallAdmission::New,
        }
    }

    /// Remembers the TwiML given to a new call, for its retries.
    pub fn record_answer(
        &mut self,
        account_sid: &str,
        call_sid: &str,
        twiml: &str,
        now: SystemTime,
    ) {
        if self.answers.len() >= self.capacity {
            evict_oldest(&mut self.answers, |(expiry, _)| *expiry);
        }
        let key = (account_sid.to_owned(), call_sid.to_owned());
        self.answers
            .insert(key, (now + self.window, twiml.to_owned()));
    }

    fn forget_expired(&mut self, now: SystemTime) {
        self.signatures.retain(|_, expiry| *expiry > now);
        self.answers.retain(|_, (expiry, _)| *expiry > now);
    }
}

/// Drops the entry that expires first.
fn evict_oldest<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    expiry: impl Fn(&V) -> SystemTime,
) {
    let oldest = map
        .iter()
        .min_by_key(|(_, v)| expiry(v))
        .map(|(k, _)| k.clone());
    if let Some(key) = oldest {
        map.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_signature_is_refused_within_the_window_and_forgotten_after() {
        let mut guard = ReplayGuard::new(Duration::from_secs(300), 16);
        assert_eq!(guard.admit_once("sig", at(0)), Ok(()));
        assert_eq!(guard.admit_once("sig", at(299)), Err(ReplayError::Replayed));
        assert_eq!(guard.admit_once("other", at(299)), Ok(()));
        assert_eq!(guard.admit_once("sig", at(300)), Ok(()));
    }

    #[test]
    fn a_retried_call_gets_the_same_answer() {
        let mut guard = ReplayGuard::new(Duration::from_secs(300), 16);
        assert_eq!(guard.admit_call("AC1", "CA1", at(0)), CallAdmission::New);
        guard.record_answer("AC1", "CA1", "<Response/>", at(0));
        assert_eq!(
            guard.admit_call("AC1", "CA1", at(10)),
            CallAdmission::Retry("<Response/>".into())
        );
        assert_eq!(guard.admit_call("AC2", "CA1", at(10)), CallAdmission::New);
        assert_eq!(guard.admit_call("AC1", "CA1", at(300)), CallAdmission::New);
    }

    #[test]
    fn memory_stays_bounded_by_dropping_the_oldest() {
        let mut guard = ReplayGuard::new(Duration::from_secs(300), 2);
        for (i, sig) in ["a", "b", "c"].into_iter().enumerate() {
            guard.admit_once(sig, at(i as u64)).unwrap();
        }
        assert_eq!(guard.signatures.len(), 2);
        assert_eq!(guard.admit_once("c", at(5)), Err(ReplayError::Replayed));
        assert_eq!(guard.admit_once("a", at(5)), Ok(()));
    }
}
