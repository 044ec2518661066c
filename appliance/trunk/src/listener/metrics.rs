//! Counters of the Twilio trunk, kept as atomics so the daemon can export them as it likes.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::twilio::sequence::SequenceCounter;

/// The refusal reasons, as [`crate::twilio::Refusal::reason`] names them.
pub const REFUSAL_REASONS: [&str; 6] = [
    "unsigned",
    "bad_signature",
    "unknown_account",
    "bad_token",
    "malformed",
    "replayed",
];

/// What the trunk has answered and refused since start.
#[derive(Debug, Default)]
pub struct TrunkMetrics {
    calls: AtomicU64,
    retries: AtomicU64,
    status_callbacks: AtomicU64,
    refusals: [AtomicU64; REFUSAL_REASONS.len()],
    streams: AtomicU64,
    stream_refusals: AtomicU64,
    sequence_gaps: AtomicU64,
    missing_messages: AtomicU64,
}

impl TrunkMetrics {
    /// New calls answered.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Twilio retries answered with the first answer.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Status callbacks accepted.
    pub fn status_callbacks(&self) -> u64 {
        self.status_callbacks.load(Ordering::Relaxed)
    }

    /// Requests refused for `reason` (one of [`REFUSAL_REASONS`]).
    pub fn refusals(&self, reason: &str) -> u64 {
        let index = REFUSAL_REASONS.iter().position(|r| *r == reason);
        index
            .and_then(|i| self.refusals.get(i))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Streams opened after a verified upgrade.
    pub fn streams(&self) -> u64 {
        self.streams.load(Ordering::Relaxed)
    }

    /// Streams closed by us for a bad frame.
    pub fn stream_refusals(&self) -> u64 {
        self.stream_refusals.load(Ordering::Relaxed)
    }

    /// Jumps in stream sequence numbers, and the messages they skipped, over closed streams.
    pub fn sequence_gaps(&self) -> (u64, u64) {
        let gaps = self.sequence_gaps.load(Ordering::Relaxed);
        (gaps, self.missing_messages.load(Ordering::Relaxed))
    }

    pub(crate) fn stream_opened(&self) {
        self.streams.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stream_refused(&self) {
        self.stream_refusals.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stream_closed(&self, sequence: &SequenceCounter) {
        self.sequence_gaps
            .fetch_add(sequence.gaps, Ordering::Relaxed);
        self.missing_messages
            .fetch_add(sequence.missing, Ordering::Relaxed);
    }

    pub(crate) fn call(&self, retry: bool) {
        let counter = if retry { &self.retries } else { &self.calls };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn status_callback(&self) {
        self.status_callbacks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self, reason: &str) {
        let index = REFUSAL_REASONS.iter().position(|r| *r == reason);
        if let Some(counter) = index.and_then(|i| self.refusals.get(i)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}
