//! Voice activity detection and utterance cutting, one track at a time.
//!
//! [`UtteranceCutter`] takes a track's frames (any supported rate), converts them to 16 kHz,
//! decides speech or not for every 10 ms window with [`Vad`], and cuts the stream into
//! [`Utterance`]s ready for speech recognition: with some audio before the speech starts
//! (pre-roll), a short tail after it, never shorter than the minimum speech and never longer
//! than the maximum (at most Whisper's 30 s window). It also tells when a speaker starts and
//! when they have finished their turn (the endpoint), which the voice agent uses to answer and
//! to stop talking over the caller. All time is the frames' call-relative time: nothing here
//! reads a clock, sleeps or does I/O, so the same input always gives the same cuts.

mod cutter;
mod level;
mod open;
pub mod recording;

pub use cutter::UtteranceCutter;
pub use level::{Vad, WindowDecision};

use crate::frame::Track;
use crate::resample::ResampleError;

/// The longest utterance speech recognition accepts: Whisper's window, in milliseconds.
pub const MAX_UTTERANCE_LIMIT_MS: u32 = 30_000;

/// How the detector and the cutter behave. The defaults suit telephone speech.
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// How far above the noise floor a window must be to start speech, in dB.
    pub onset_db: f32,
    /// How far above the noise floor a window must be to continue speech, in dB.
    pub hold_db: f32,
    /// Windows quieter than this are never speech, whatever the floor, in dBFS.
    pub min_level_dbfs: f32,
    /// How long the noise floor remembers its minimum, in milliseconds.
    pub floor_memory_ms: u32,
    /// Audio kept before the first speech window, in milliseconds.
    pub pre_roll_ms: u32,
    /// Audio kept after the last speech window, in milliseconds (at most `hang_over_ms`).
    pub post_roll_ms: u32,
    /// Silence that ends an utterance and the speaker's turn, in milliseconds.
    pub hang_over_ms: u32,
    /// Speech shorter than this (clicks, coughs, noise bursts) makes no utterance, in milliseconds.
    pub min_speech_ms: u32,
    /// The longest utterance, pre-roll included; longer speech is cut into several, in
    /// milliseconds. At most [`MAX_UTTERANCE_LIMIT_MS`].
    pub max_utterance_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            onset_db: 10.0,
            hold_db: 6.0,
            min_level_dbfs: -55.0,
            floor_memory_ms: 3000,
            pre_roll_ms: 300,
            post_roll_ms: 200,
            hang_over_ms: 600,
            min_speech_ms: 200,
            max_utterance_ms: 20_000,
        }
    }
}

impl VadConfig {
    /// Checks the settings against each other and against Whisper's window.
    pub fn validate(&self) -> Result<(), VadError> {
        let invalid = |field, value, reason| {
            Err(VadError::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if self.max_utterance_ms > MAX_UTTERANCE_LIMIT_MS {
            return invalid(
                "max_utterance_ms",
                self.max_utterance_ms,
                "more than 30000 (Whisper's window)",
            );
        }
        if self.max_utterance_ms < self.pre_roll_ms + self.min_speech_ms + 1000 {
            return invalid(
                "max_utterance_ms",
                self.max_utterance_ms,
                "leaves less than 1 s after pre-roll and minimum speech",
            );
        }
        if self.hang_over_ms < 10 {
            return invalid(
                "hang_over_ms",
                self.hang_over_ms,
                "shorter than one 10 ms window",
            );
        }
        if self.post_roll_ms > self.hang_over_ms {
            return invalid(
                "post_roll_ms",
                self.post_roll_ms,
                "longer than hang_over_ms",
            );
        }
        if self.floor_memory_ms < 250 {
            return invalid(
                "floor_memory_ms",
                self.floor_memory_ms,
                "shorter than 250 ms",
            );
        }
        if !(self.onset_db >= self.hold_db && self.hold_db >= 0.0) {
            return invalid(
                "onset_db",
                self.onset_db as u32,
                "must be at least hold_db, and hold_db at least 0",
            );
        }
        Ok(())
    }
}

/// Why an utterance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The speaker fell silent for the hang-over: the end of their turn.
    Silence,
    /// The utterance reached the maximum length while the speaker went on; the next utterance
    /// continues the same turn. The cut is at the quietest moment of its last second.
    MaxLength,
    /// The stream ended (the call hung up) during speech.
    EndOfStream,
}

/// A stretch of one track's speech, at 16 kHz, ready for speech recognition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    /// The track it was cut from.
    pub track: Track,
    /// Call-relative time of the first sample, in milliseconds.
    pub start_ms: u64,
    /// Mono 16-bit samples at 16 kHz.
    pub samples_16k: Vec<i16>,
    /// Why it ended.
    pub ended: Ended,
}

impl Utterance {
    /// Length in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples_16k.len() as u64 / 16
    }

    /// Call-relative time just after the last sample, in milliseconds.
    pub fn end_ms(&self) -> u64 {
        self.start_ms + self.duration_ms()
    }

    /// The samples as floats in [-1, 1), the form whisper.cpp takes.
    pub fn to_f32(&self) -> Vec<f32> {
        crate::frame::to_f32(&self.samples_16k)
    }
}

/// What the cutter reports, in call-time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VadEvent {
    /// A speaker started talking (reported once the minimum speech has been heard); a turn
    /// begins. Barge-in listens for this.
    SpeechStarted {
        /// The track.
        track: Track,
        /// Call-relative time the speech began, in milliseconds.
        at_ms: u64,
    },
    /// An utterance to transcribe.
    Utterance(Utterance),
    /// The speaker's turn is over: after the turn's last utterance, once the hang-over of
    /// silence has passed or the stream ended. The voice agent answers on this.
    Endpoint {
        /// The track.
        track: Track,
        /// Call-relative time the last speech ended, in milliseconds.
        speech_end_ms: u64,
        /// Call-relative time the endpoint was decided, in milliseconds.
        detected_ms: u64,
    },
}

/// What can go wrong feeding a cutter. A refused frame changes nothing: the cutter is as before.
#[derive(Debug, thiserror::Error)]
pub enum VadError {
    /// A setting is out of range; fix the configuration.
    #[error("VAD setting {field} = {value} is invalid: {reason}")]
    InvalidConfig {
        /// The setting's name.
        field: &'static str,
        /// Its value.
        value: u32,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A frame from another track was given to this track's cutter; a wiring bug.
    #[error("a {got} frame was given to the {expected} track's cutter")]
    WrongTrack {
        /// The cutter's track.
        expected: Track,
        /// The frame's track.
        got: Track,
    },
    /// The sample rate changed within a stream; finish the stream before changing codecs.
    #[error("the sample rate changed from {from} to {to} Hz within a stream; finish it first")]
    RateChanged {
        /// The stream's rate.
        from: u32,
        /// The frame's rate.
        to: u32,
    },
    /// A frame starts before the end of audio already given: a jitter buffer must order frames.
    #[error("a frame starts at {start_ms} ms, before the stream's end at {expected_ms} ms")]
    Overlap {
        /// The frame's start.
        start_ms: u64,
        /// Where the stream ends so far.
        expected_ms: u64,
    },
    /// The rate conversion failed.
    #[error(transparent)]
    Resample(#[from] ResampleError),
}
