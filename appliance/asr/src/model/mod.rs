//! whisper.cpp's ggml model files: what they must contain, and the check the daemon runs on
//! one before it hands the file to whisper.cpp.
//!
//! whisper.cpp answers a damaged or foreign file with a log line and a null context, or worse
//! a crash; this module reads the file first and refuses it with a message the sysadmin can
//! act on. It never modifies a model file.

mod check;
pub mod layout;

use std::path::PathBuf;

pub use check::{ModelInfo, check};
pub use layout::{GgmlType, Hparams};

/// Why a model file is refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file cannot be opened or read.
    #[error(
        "cannot read the Whisper model {path}: {source}; set asr.model to a ggml model file \
         (make one with `diala-edge model import`)"
    )]
    Read {
        /// The model file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file does not start with the ggml magic.
    #[error(
        "{path} is not a whisper.cpp ggml model (it does not start with the ggml magic); \
         convert a CTranslate2 Whisper model with `diala-edge model import`"
    )]
    NotGgml {
        /// The model file.
        path: PathBuf,
    },
    /// The file is a ggml model but its contents do not add up.
    #[error("the Whisper model {path} is damaged or unsupported: {problem}; import it again")]
    Invalid {
        /// The model file.
        path: PathBuf,
        /// What is wrong, in the file's own terms.
        problem: String,
    },
}
