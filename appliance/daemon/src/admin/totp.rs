//! Time-based one-time passwords (RFC 6238) and the step-up they grant.
//!
//! A sysadmin proves presence with a code from an authenticator app; a correct code grants that
//! Unix user five minutes for sensitive commands. A code is accepted once: a code for a time
//! step at or before the last one accepted for that user is refused even when it is correct
//! (RFC 6238, section 5.2). Time comes from an injectable clock, so expiry is tested on explicit
//! time. This module must never log or return a secret or a code.

use std::collections::HashMap;
use std::sync::Arc;

use diala_vault::Clock;
use parking_lot::Mutex;
use subtle::ConstantTimeEq as _;
use totp_rs::{Algorithm, TOTP};

/// Seconds per time step, as every authenticator app uses.
pub const STEP_SECS: u64 = 30;
/// Digits in a code typed by a sysadmin.
pub const DIGITS: usize = 6;
/// Codes this many steps either side of now are accepted: a phone's clock drifts, and a code
/// typed at the end of its step arrives in the next one.
pub const SKEW_STEPS: u64 = 1;
/// How long a step-up lasts.
pub const STEP_UP_MS: i64 = 5 * 60 * 1000;

/// Why a code or a step-up was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    /// The secret is too short or the parameters are out of the RFC's range.
    #[error("the TOTP secret is unusable ({0}); enroll the user again")]
    BadSecret(String),
    /// Not the code of this moment.
    #[error("that code is not valid now; type the current code and check the phone's clock")]
    WrongCode,
    /// The code (or an older one) was already used.
    #[error("that code was already used; wait for the next code")]
    Replayed,
}

/// One user's TOTP secret with its parameters.
pub struct TotpKey {
    totp: TOTP,
}

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpKey").finish_non_exhaustive()
    }
}

impl TotpKey {
    /// The usual key: HMAC-SHA1, six digits, 30-second steps.
    pub fn new(secret: Vec<u8>) -> Result<Self, TotpError> {
        Self::with(Algorithm::SHA1, DIGITS, secret)
    }

    /// A key with another hash or number of digits (RFC 6238 allows SHA-256, SHA-512 and 6 to 8
    /// digits).
    pub fn with(algorithm: Algorithm, digits: usize, secret: Vec<u8>) -> Result<Self, TotpError> {
        // The crate's own skew check is not used: it does not say which step matched, and the
        // step is what makes a code single-use.
        let totp = TOTP::new(algorithm, digits, 0, STEP_SECS, secret)
            .map_err(|e| TotpError::BadSecret(e.to_string()))?;
        Ok(TotpKey { totp })
    }

    /// The code of the step holding `unix_secs`.
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp.generate(unix_secs)
    }

    /// The step whose code `code` is, among the steps within the skew of `unix_secs`.
    pub fn matching_step(&self, code: &str, unix_secs: u64) -> Option<u64> {
        let now = unix_secs / STEP_SECS;
        let first = now.saturating_sub(SKEW_STEPS);
        (first..=now + SKEW_STEPS).find(|step| {
            let expected = self.code_at(step * STEP_SECS);
            bool::from(expected.as_bytes().ct_eq(code.as_bytes()))
        })
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct UserState {
    last_step: Option<u64>,
    until_ms: Option<i64>,
}

/// The step-ups granted since the daemon started, per Unix user.
pub struct StepUp {
    clock: Arc<dyn Clock>,
    users: Mutex<HashMap<u32, UserState>>,
}

impl std::fmt::Debug for StepUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepUp").finish_non_exhaustive()
    }
}

impl StepUp {
    /// No step-up granted yet; time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        StepUp {
            clock,
            users: Mutex::new(HashMap::new()),
        }
    }

    /// Checks `code` for `uid` against the user's `key`; on success grants five minutes and
    /// returns when they end, in milliseconds since the Unix epoch.
    pub fn login(&self, uid: u32, key: &TotpKey, code: &str) -> Result<i64, TotpError> {
        let now_ms = self.clock.now_ms();
        let now_secs = u64::try_from(now_ms / 1000).unwrap_or(0);
        // One lock around check and record: two connections racing with the same code cannot
        // both be accepted.
        let mut users = self.users.lock();
        let state = users.entry(uid).or_default();
        let step = key
            .matching_step(code.trim(), now_secs)
            .ok_or(TotpError::WrongCode)?;
        if state.last_step.is_some_and(|last| step <= last) {
            return Err(TotpError::Replayed);
        }
        let until = now_ms + STEP_UP_MS;
        state.last_step = Some(step);
        state.until_ms = Some(until);
        Ok(until)
    }

    /// When the step-up of `uid` ends, while they hold one: from a login until five minutes
    /// later, exclusive. Sensitive commands run only while this is `Some`.
    pub fn active_until(&self, uid: u32) -> Option<i64> {
        let now = self.clock.now_ms();
        let users = self.users.lock();
        users
            .get(&uid)
            .and_then(|s| s.until_ms)
            .filter(|until| now < *until)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use diala_vault::ManualClock;
    use serde_json::Value;

    use super::*;

    const VECTORS: &str = include_str!("../../testdata/totp_vectors.json");
    const SEED: &[u8] = b"12345678901234567890";

    fn vectors() -> Value {
        serde_json::from_str(VECTORS).unwrap()
    }

    fn algorithm(mode: &str) -> Algorithm {
        match mode {
            "SHA1" => Algorithm::SHA1,
            "SHA256" => Algorithm::SHA256,
            "SHA512" => Algorithm::SHA512,
            other => panic!("unknown mode {other}"),
        }
    }

    #[test]
    fn rfc6238_appendix_b_vectors() {
        let vectors = vectors();
        let rows = vectors["totp"].as_array().unwrap();
        assert_eq!(rows.len(), 18);
        for row in rows {
            let seed = row["seed_ascii"].as_str().unwrap().as_bytes().to_vec();
            let digits = usize::try_from(row["digits"].as_u64().unwrap()).unwrap();
            let mode = row["mode"].as_str().unwrap();
            let key = TotpKey::with(algorithm(mode), digits, seed).unwrap();
            let time = row["time"].as_u64().unwrap();
            assert_eq!(
                key.code_at(time),
                row["expected"].as_str().unwrap(),
                "{row}"
            );
        }
    }

    #[test]
    fn rfc4226_hotp_vectors_are_the_codes_of_successive_steps() {
        let key = TotpKey::new(SEED.to_vec()).unwrap();
        for row in vectors()["hotp_rfc4226"].as_array().unwrap() {
            let counter = row["counter"].as_u64().unwrap();
            let expected = row["expected"].as_str().unwrap();
            assert_eq!(key.code_at(counter * STEP_SECS), expected, "{row}");
        }
    }

    #[test]
    fn codes_one_step_either_side_are_accepted_two_are_not() {
        let key = TotpKey::new(SEED.to_vec()).unwrap();
        for row in vectors()["derived_window_tests"].as_array().unwrap() {
            let now = row["now"].as_u64().unwrap();
            let code = row["code"].as_str().unwrap();
            let accepted = row["accept_if_window_is_plus_minus_1"].as_bool().unwrap();
            let step = key.matching_step(code, now);
            assert_eq!(step.is_some(), accepted, "{row}");
            if accepted {
                assert_eq!(step, row["T"].as_u64());
            }
        }
    }

    #[test]
    fn a_short_secret_is_refused() {
        let error = TotpKey::new(vec![1; 10]).unwrap_err();
        assert!(matches!(error, TotpError::BadSecret(_)), "{error}");
    }

    const T0_MS: i64 = 1_111_111_109_000;

    fn step_up() -> (Arc<ManualClock>, StepUp, TotpKey) {
        let clock = Arc::new(ManualClock::at(T0_MS));
        let step_up = StepUp::new(clock.clone());
        (clock, step_up, TotpKey::new(SEED.to_vec()).unwrap())
    }

    #[test]
    fn step_up_lasts_five_minutes_and_the_sixth_refuses() {
        let (clock, step_up, key) = step_up();
        assert_eq!(step_up.active_until(0), None);
        let until = step_up.login(0, &key, "081804").unwrap();
        assert_eq!(until, T0_MS + STEP_UP_MS);
        assert_eq!(step_up.active_until(0), Some(until));
        // Another user is not stepped up by it.
        assert_eq!(step_up.active_until(1000), None);

        clock.set(T0_MS + STEP_UP_MS - 1);
        assert_eq!(step_up.active_until(0), Some(until));
        clock.set(T0_MS + STEP_UP_MS);
        assert_eq!(step_up.active_until(0), None);
        clock.set(T0_MS + 6 * 60 * 1000);
        assert_eq!(step_up.active_until(0), None);
    }

    #[test]
    fn a_code_is_accepted_once_and_older_codes_never_again() {
        let (clock, step_up, key) = step_up();
        step_up.login(0, &key, "081804").unwrap();
        assert_eq!(step_up.login(0, &key, "081804"), Err(TotpError::Replayed));
        // The previous step's code is still within the skew, but older than the one used.
        assert_eq!(step_up.login(0, &key, "731029"), Err(TotpError::Replayed));
        // The next step's code is new.
        clock.advance(30_000);
        assert!(step_up.login(0, &key, "050471").is_ok());
        // Each user has their own codes.
        clock.set(T0_MS);
        assert!(step_up.login(1000, &key, "081804").is_ok());
    }

    #[test]
    fn a_wrong_code_grants_nothing() {
        let (_clock, step_up, key) = step_up();
        assert_eq!(step_up.login(0, &key, "000000"), Err(TotpError::WrongCode));
        assert_eq!(step_up.login(0, &key, "266759"), Err(TotpError::WrongCode));
        assert_eq!(step_up.login(0, &key, ""), Err(TotpError::WrongCode));
        assert_eq!(step_up.active_until(0), None);
    }
}
