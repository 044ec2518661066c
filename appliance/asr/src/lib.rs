//! Speech recognition on the box with whisper.cpp (through whisper-rs).
//!
//! Audio goes in, timed text comes out, and nothing leaves the process. This crate knows
//! nothing of the network, never logs recognised text, and never fetches a model at run time:
//! models are imported from a CTranslate2 package by [`convert`] and checked by [`model`].
#![forbid(unsafe_code)]

pub mod convert;
pub mod engine;
pub mod model;
mod transcriber;
pub mod wer;

pub use engine::{EngineConfig, EngineError, WhisperEngine};
pub use transcriber::{
    MAX_UTTERANCE, Pending, SAMPLE_RATE, Segment, TranscribeError, Transcriber, Utterance,
};

/// The version of whisper.cpp this binary links, e.g. `1.8.3`.
pub fn whisper_cpp_version() -> &'static str {
    whisper_rs::get_whisper_version()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reports_linked_whisper_cpp() {
        let version = super::whisper_cpp_version();
        assert!(version.split('.').count() == 3, "{version}");
    }
}
