//! What has been handed to the trunk to play, and what the caller has heard of it.
//!
//! Every sentence is sent with a mark after it; the trunk echoes the mark once the audio before
//! it has played. Between marks the time elapsed since the last one tells how far into the
//! current sentence playback is. This module never touches audio bytes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A sentence queued at the trunk.
#[derive(Debug, Clone)]
pub(super) struct Queued {
    /// Index of the sentence in its turn.
    pub sentence: usize,
    /// The mark sent after it.
    pub mark: String,
    /// How long it plays.
    pub duration: Duration,
    /// When it was handed to the trunk.
    pub queued_at: Instant,
}

/// The trunk's queue of sentences, oldest first.
#[derive(Debug, Default)]
pub(super) struct Playback {
    queue: VecDeque<Queued>,
    last_mark_at: Option<Instant>,
}

impl Playback {
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn push(&mut self, queued: Queued) {
        self.queue.push_back(queued);
    }

    /// A mark came back: every sentence up to it has played. Returns the last one's index.
    pub fn marked(&mut self, now: Instant, mark: &str) -> Option<usize> {
        let pos = self.queue.iter().position(|q| q.mark == mark)?;
        self.last_mark_at = Some(now);
        self.queue.drain(..=pos).next_back().map(|q| q.sentence)
    }

    /// The sentence playing at `now` and the fraction of it played, then forgets the queue.
    pub fn stop(&mut self, now: Instant) -> Option<(usize, f64)> {
        let head = self.queue.pop_front()?;
        self.queue.clear();
        let started = match self.last_mark_at {
            Some(mark) if mark > head.queued_at => mark,
            _ => head.queued_at,
        };
        let played = now.saturating_duration_since(started).as_secs_f64();
        let total = head.duration.as_secs_f64().max(f64::EPSILON);
        Some((head.sentence, (played / total).min(1.0)))
    }
}

/// The first `fraction` of `text`'s words: what the caller heard of an interrupted sentence.
pub(super) fn heard_words(text: &str, fraction: f64) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let heard = (words.len() as f64 * fraction).floor() as usize;
    words.get(..heard).unwrap_or(&words).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playback_position_counts_from_the_last_mark() {
        let t0 = Instant::now();
        let mut playback = Playback::default();
        for (i, secs) in [(0, 2), (1, 4)] {
            let mark = format!("m{i}");
            let duration = Duration::from_secs(secs);
            playback.push(Queued {
                sentence: i,
                mark,
                duration,
                queued_at: t0,
            });
        }
        assert_eq!(playback.marked(t0 + Duration::from_secs(2), "m0"), Some(0));
        let (sentence, fraction) = playback.stop(t0 + Duration::from_secs(3)).unwrap();
        assert_eq!(sentence, 1);
        assert!((fraction - 0.25).abs() < 1e-9);
        assert!(playback.is_empty());
    }

    #[test]
    fn heard_words_are_a_prefix() {
        assert_eq!(heard_words("one two three four", 0.5), "one two");
        assert_eq!(heard_words("one two three four", 0.2), "");
        assert_eq!(heard_words("one two", 1.0), "one two");
    }
}
