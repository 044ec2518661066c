//! Call audio between the trunk and speech recognition: G.711, sample-rate conversion, voice
//! activity detection and utterance cutting, and WAV files for tools and tests.
//!
//! The trunk decodes packets into [`Frame`]s of one [`Track`]; an [`UtteranceCutter`] per track
//! turns them into 16 kHz [`Utterance`]s for the recogniser and tells the voice agent when a
//! speaker starts and ends a turn. Everything here is pure and synchronous: no threads, no
//! clocks (time is the frames' call time), no network and no files (the WAV helpers take
//! readers and writers). It must never log audio or anything derived from what was said.
#![forbid(unsafe_code)]

mod frame;
pub mod g711;
pub mod resample;
pub mod vad;
pub mod wav;

pub use frame::{Frame, Track, to_f32};
pub use resample::{ResampleError, Resampler};
pub use vad::{Ended, Utterance, UtteranceCutter, Vad, VadConfig, VadError, VadEvent};
