//! An utterance being collected: its windows and what the cutter needs to know about them.
//!
//! Kept apart from the state machine so that the counting rules (speech windows, the first and
//! last of them, the current run of silence) live in one place. It never decides anything.

use super::level::{WINDOW, WindowDecision};

/// 16 kHz samples per millisecond.
pub(super) const PER_MS: u64 = 16;

/// One analysed 10 ms window.
#[derive(Debug, Clone)]
pub(super) struct Window {
    pub(super) samples: [i16; WINDOW],
    pub(super) decision: WindowDecision,
}

/// An utterance being collected.
#[derive(Debug, Default)]
pub(super) struct Open {
    /// 16 kHz sample position of its first window.
    pub(super) start: u64,
    pub(super) windows: Vec<Window>,
    pub(super) speech_windows: usize,
    pub(super) first_speech: Option<usize>,
    pub(super) last_speech: Option<usize>,
    pub(super) silence_run: usize,
    pub(super) announced: bool,
}

impl Open {
    pub(super) fn push(&mut self, window: Window) {
        let index = self.windows.len();
        if window.decision.speech {
            self.speech_windows += 1;
            self.first_speech.get_or_insert(index);
            self.last_speech = Some(index);
            self.silence_run = 0;
        } else {
            self.silence_run += 1;
        }
        self.windows.push(window);
    }

    pub(super) fn time_ms(&self, window_index: usize) -> u64 {
        (self.start + (window_index * WINDOW) as u64) / PER_MS
    }
}
