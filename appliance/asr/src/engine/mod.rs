//! The whisper-rs engine: one loaded model shared by a pool of worker threads, each with its
//! own whisper.cpp state, behind a bounded number of slots.
//!
//! Workers are OS threads because recognition is seconds of CPU-bound C code; they never touch
//! the async runtime. The model file is checked before whisper.cpp sees it. Nothing here logs
//! recognised text, and whisper.cpp's own log output is silenced for the same reason.

mod decode;
pub mod filter;
mod pool;

use std::path::PathBuf;

pub use decode::{DecodeOptions, audio_ctx};
pub use filter::FilterOptions;
pub use pool::WhisperEngine;

use crate::model::ModelError;

/// Everything the engine is configured with (`[asr]` in the appliance configuration).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The ggml model file.
    pub model: PathBuf,
    /// Utterances recognised at the same time, one worker thread each.
    pub workers: usize,
    /// Utterances accepted and not yet collected, running ones included; one more is refused.
    pub queue_depth: usize,
    /// How each utterance is decoded.
    pub decode: DecodeOptions,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            model: PathBuf::from("/var/lib/diala-edge/models/whisper.bin"),
            workers: 2,
            queue_depth: 16,
            decode: DecodeOptions {
                threads: 1,
                language: "en".to_owned(),
                beam_size: 1,
                audio_ctx_margin: 128,
                tokens_per_second: 10,
                filter: FilterOptions {
                    no_speech_threshold: 0.6,
                },
            },
        }
    }
}

/// Whether whisper.cpp knows `code` as a language (`en`, `de`, ...).
pub fn is_known_language(code: &str) -> bool {
    whisper_rs::get_lang_id(code).is_some()
}

/// Why the engine did not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The model file is missing or damaged.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// whisper.cpp could not load the model or make a worker's state.
    #[error(
        "whisper.cpp could not load {path}: {detail}; check the file with `diala-edge model check`"
    )]
    Load {
        /// The model file.
        path: PathBuf,
        /// What whisper.cpp reported.
        detail: String,
    },
    /// The configured language does not fit the model.
    #[error(
        "asr.language is `{0}` but the model only knows English; set it to `en` or use a multilingual model"
    )]
    Language(String),
    /// A worker thread could not be started.
    #[error("cannot start a speech recognition worker thread: {0}")]
    Thread(std::io::Error),
}
