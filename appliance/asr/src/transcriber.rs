//! What the rest of the appliance sees of speech recognition: an utterance goes in, timed
//! segments come out, and a full engine says so at once instead of queueing without bound.
//!
//! Segment text is a caller's words: nothing here logs or prints it, and `Debug` shows only
//! its length.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// The sample rate utterances are given at.
pub const SAMPLE_RATE: u32 = 16_000;

/// The longest utterance one recognition takes: Whisper's window.
pub const MAX_UTTERANCE: Duration = Duration::from_secs(30);

/// One stretch of speech on one track of a call.
#[derive(Clone)]
pub struct Utterance {
    /// Where the utterance starts, from the start of the call.
    pub start: Duration,
    /// Mono samples at [`SAMPLE_RATE`], full scale at ±1.0.
    pub samples: Vec<f32>,
}

impl Utterance {
    /// The utterance's length.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(SAMPLE_RATE))
    }
}

impl fmt::Debug for Utterance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Utterance")
            .field("start", &self.start)
            .field("duration", &self.duration())
            .finish()
    }
}

/// Recognised text with its place in the call.
#[derive(Clone, PartialEq)]
pub struct Segment {
    /// Where the speech starts, from the start of the call.
    pub start: Duration,
    /// Where it ends, from the start of the call.
    pub end: Duration,
    /// What was said.
    pub text: String,
    /// The recogniser's confidence, 0 to 1: the geometric mean of its text tokens'
    /// probabilities.
    pub confidence: f32,
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segment")
            .field("start", &self.start)
            .field("end", &self.end)
            .field("text_bytes", &self.text.len())
            .field("confidence", &self.confidence)
            .finish()
    }
}

/// Why an utterance was not transcribed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TranscribeError {
    /// Every slot is taken: the utterance was not accepted (backpressure).
    #[error(
        "speech recognition is full ({depth} utterances in flight); the utterance was not \
         accepted; raise asr.queue_depth or asr.workers, or take fewer calls"
    )]
    Busy {
        /// The configured number of slots.
        depth: usize,
    },
    /// The utterance is longer than one recognition window.
    #[error("an utterance of {0:?} is longer than the 30 s the recogniser takes at once")]
    TooLong(Duration),
    /// The engine has stopped.
    #[error("speech recognition has stopped")]
    Stopped,
    /// whisper.cpp reported a failure.
    #[error("whisper.cpp failed on an utterance: {0}")]
    Whisper(String),
}

/// Turns utterances into segments.
pub trait Transcriber: Send + Sync {
    /// Accepts an utterance for recognition, or refuses it at once when the engine is full.
    fn submit(&self, utterance: Utterance) -> Result<Pending, TranscribeError>;

    /// Recognises one utterance and waits for its segments.
    fn transcribe(&self, utterance: Utterance) -> Result<Vec<Segment>, TranscribeError> {
        self.submit(utterance)?.wait()
    }
}

/// An accepted utterance. It holds its slot until its result is taken or it is dropped, so
/// the slot count bounds queued, running and uncollected work together.
#[derive(Debug)]
pub struct Pending {
    result: mpsc::Receiver<Result<Vec<Segment>, TranscribeError>>,
    _slot: Slot,
}

impl Pending {
    pub(crate) fn new(
        result: mpsc::Receiver<Result<Vec<Segment>, TranscribeError>>,
        slot: Slot,
    ) -> Pending {
        Pending {
            result,
            _slot: slot,
        }
    }

    /// Blocks until the segments are ready.
    pub fn wait(self) -> Result<Vec<Segment>, TranscribeError> {
        self.result.recv().unwrap_or(Err(TranscribeError::Stopped))
    }
}

/// A fixed number of slots; a [`Slot`] gives its place back when dropped.
#[derive(Debug)]
pub(crate) struct Slots {
    used: AtomicUsize,
    depth: usize,
}

impl Slots {
    pub(crate) fn new(depth: usize) -> Arc<Slots> {
        Arc::new(Slots {
            used: AtomicUsize::new(0),
            depth,
        })
    }

    /// Takes a slot, or says the engine is busy.
    pub(crate) fn take(self: &Arc<Slots>) -> Result<Slot, TranscribeError> {
        let depth = self.depth;
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < depth).then_some(used + 1)
            })
            .map(|_| Slot(Arc::clone(self)))
            .map_err(|_| TranscribeError::Busy { depth })
    }

    /// Slots currently taken.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// One taken slot.
#[derive(Debug)]
pub(crate) struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::AcqRel);
    }
}
