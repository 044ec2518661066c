//! Sequence-gap counting on a stream: how many messages Twilio sent that never arrived.
//!
//! Twilio numbers every message of a stream after `connected` from 1. Over one WebSocket
//! nothing should be lost, so a gap means frames dropped somewhere on the way and is counted
//! for metrics; a number at or below one already seen is counted as stale and its message must
//! not be fed to the pipeline twice. This never refuses a stream by itself.

/// What one sequence number says about the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sequenced {
    /// The next number expected.
    InOrder,
    /// Ahead of the expected number by this many missing messages.
    Gap(u64),
    /// At or below a number already seen: a duplicate or a late message.
    Stale,
}

/// Counts gaps, missing and stale messages on one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceCounter {
    last: Option<u64>,
    /// Times the numbering jumped ahead.
    pub gaps: u64,
    /// Messages skipped over by those jumps.
    pub missing: u64,
    /// Messages at or below a number already seen.
    pub stale: u64,
}

impl SequenceCounter {
    /// A counter for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next message's sequence number.
    pub fn observe(&mut self, sequence: u64) -> Sequenced {
        let expected = self.last.map_or(1, |last| last.saturating_add(1));
        if self.last.is_some_and(|last| sequence <= last) {
            self.stale += 1;
            return Sequenced::Stale;
        }
        self.last = Some(sequence);
        if sequence <= expected {
            return Sequenced::InOrder;
        }

        let missing = sequence - expected;
        self.gaps += 1;
        self.missing = self.missing.saturating_add(missing);
        Sequenced::Gap(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_stale_messages_are_counted() {
        let mut counter = SequenceCounter::new();
        let seen: Vec<Sequenced> = [1, 2, 5, 5, 3, 6, 10].map(|s| counter.observe(s)).to_vec();
        assert_eq!(
            seen,
            [
                Sequenced::InOrder,
                Sequenced::InOrder,
                Sequenced::Gap(2),
                Sequenced::Stale,
                Sequenced::Stale,
                Sequenced::InOrder,
                Sequenced::Gap(3),
            ]
        );
        assert_eq!((counter.gaps, counter.missing, counter.stale), (2, 5, 2));
    }

    #[test]
    fn a_stream_that_starts_late_counts_what_it_missed() {
        let mut counter = SequenceCounter::new();
        assert_eq!(counter.observe(4), Sequenced::Gap(3));
        assert_eq!(counter.observe(u64::MAX), Sequenced::Gap(u64::MAX - 5));
        assert_eq!(counter.observe(u64::MAX), Sequenced::Stale);
    }
}
