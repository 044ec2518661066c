//! The whisper-rs engine on real weights and real recordings: accuracy on the recordings in
//! `tests/data/audio`, nothing from silence and line noise, call-relative times, backpressure,
//! and a clear refusal of a bad model or language.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::time::Duration;

use diala_asr::convert::Quant;
use diala_asr::engine::EngineError;
use diala_asr::model::ModelError;
use diala_asr::{
    EngineConfig, Segment, TranscribeError, Transcriber, Utterance, WhisperEngine, wer,
};

/// Transcribes a whole recording cut at its pauses, in windows of whole sentences, the way
/// `diala-edge transcribe` does.
fn transcribe_recording(engine: &WhisperEngine, samples: &[f32]) -> Vec<Segment> {
    let mut segments = Vec::new();
    for range in common::windows(samples) {
        let start = Duration::from_secs_f64(range.start as f64 / 16_000.0);
        let utterance = Utterance {
            start,
            samples: samples[range].to_vec(),
        };
        segments.extend(engine.transcribe(utterance).unwrap());
    }
    segments
}

fn text(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn transcribes_the_real_recordings_within_five_percent_wer() {
    let engine = common::engine(2, 4);
    for (file, id) in [("jfk.wav", "jfk"), ("osr34_8k_orig.wav", "osr34")] {
        let segments = transcribe_recording(&engine, &common::recording(file));
        let hypothesis = text(&segments);
        let rate = wer::wer(&common::reference(id), &hypothesis);
        eprintln!("{file}: WER {:.1}%", rate * 100.0);
        assert!(
            rate <= 0.05,
            "{file}: WER {:.1}% for: {hypothesis}",
            rate * 100.0
        );
        assert!(
            segments.windows(2).all(|w| w[0].start <= w[1].start),
            "{file}: out of order"
        );
    }
}

#[test]
fn segment_times_are_relative_to_the_call() {
    let engine = common::engine(1, 2);
    let samples = common::recording("jfk.wav");
    let start = Duration::from_secs(125);
    let segments = engine
        .transcribe(Utterance {
            start,
            samples: samples.clone(),
        })
        .unwrap();
    assert!(!segments.is_empty());
    let end = start + Duration::from_secs_f64(samples.len() as f64 / 16_000.0);
    for segment in &segments {
        assert!(segment.start >= start && segment.end <= end, "{segment:?}");
        assert!(segment.start < segment.end, "{segment:?}");
    }
}

/// A deterministic noise source (xorshift), so the test hears the same noise every run.
fn noise(seconds: f32, level: f32, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..(seconds * 16_000.0) as usize)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0) * level
        })
        .collect()
}

#[test]
fn silence_and_line_noise_give_no_text() {
    let engine = common::engine(2, 8);
    let hum = |seconds: f32| -> Vec<f32> {
        (0..(seconds * 16_000.0) as usize)
            .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * 50.0 / 16_000.0).sin() * 0.02)
            .collect()
    };
    let mut inputs: Vec<(&str, Vec<f32>)> = vec![
        ("digital silence 1 s", vec![0.0; 16_000]),
        ("digital silence 5 s", vec![0.0; 80_000]),
        ("hiss -40 dBFS", noise(3.0, 0.01, 7)),
        ("hiss -26 dBFS", noise(6.0, 0.05, 11)),
        ("mains hum", hum(4.0)),
    ];
    let mut hum_and_hiss = hum(2.5);
    hum_and_hiss
        .iter_mut()
        .zip(noise(2.5, 0.02, 3))
        .for_each(|(h, n)| *h += n);
    inputs.push(("hum and hiss", hum_and_hiss));

    for (name, samples) in inputs {
        let segments = engine
            .transcribe(Utterance {
                start: Duration::ZERO,
                samples,
            })
            .unwrap();
        assert!(
            segments.is_empty(),
            "{name} became text: {:?}",
            text(&segments)
        );
    }
}

#[test]
fn a_full_engine_refuses_work_until_a_result_is_collected() {
    let engine = common::engine(1, 2);
    let utterance = Utterance {
        start: Duration::ZERO,
        samples: common::recording("jfk.wav"),
    };

    let first = engine.submit(utterance.clone()).unwrap();
    let second = engine.submit(utterance.clone()).unwrap();
    let refused = engine.submit(utterance.clone()).unwrap_err();
    assert_eq!(refused, TranscribeError::Busy { depth: 2 });
    assert!(refused.to_string().contains("queue_depth"));

    let first_text = text(&first.wait().unwrap());
    let third = engine.submit(utterance.clone()).unwrap();
    drop(second);
    assert_eq!(
        text(&third.wait().unwrap()),
        first_text,
        "same audio, same text"
    );
    assert_eq!(engine.in_flight(), 0);
}

#[test]
fn parallel_workers_give_the_same_text_as_one() {
    let samples = common::recording("osr34_8k_orig.wav");
    let utterances: Vec<Utterance> = common::utterances(&samples, 30)
        .into_iter()
        .map(|r| Utterance {
            start: Duration::ZERO,
            samples: samples[r].to_vec(),
        })
        .collect();
    assert!(utterances.len() >= 5, "the recording has ten sentences");

    let one = common::engine(1, 16);
    let serial: Vec<String> = utterances
        .iter()
        .map(|u| text(&one.transcribe(u.clone()).unwrap()))
        .collect();

    let two = common::engine(2, 16);
    let pending: Vec<_> = utterances
        .iter()
        .map(|u| two.submit(u.clone()).unwrap())
        .collect();
    let parallel: Vec<String> = pending
        .into_iter()
        .map(|p| text(&p.wait().unwrap()))
        .collect();
    assert_eq!(parallel, serial);
}

#[test]
fn refuses_a_damaged_model_and_a_language_the_model_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(common::imported_model(Quant::Q8_0)).unwrap();
    let cut = dir.path().join("cut.bin");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();

    let config = EngineConfig {
        model: cut,
        ..EngineConfig::default()
    };
    let error = WhisperEngine::start(&config).unwrap_err();
    assert!(
        matches!(error, EngineError::Model(ModelError::Invalid { .. })),
        "{error}"
    );
    assert!(error.to_string().contains("import it again"), "{error}");

    let mut config = EngineConfig {
        model: common::imported_model(Quant::Q8_0),
        ..EngineConfig::default()
    };
    config.decode.language = "de".to_owned();
    let error = WhisperEngine::start(&config).unwrap_err();
    assert!(matches!(error, EngineError::Language(_)), "{error}");
}

#[test]
fn refuses_an_utterance_longer_than_the_window() {
    let engine = common::engine(1, 1);
    let samples = vec![0.0; 31 * 16_000];
    let error = engine
        .transcribe(Utterance {
            start: Duration::ZERO,
            samples,
        })
        .unwrap_err();
    assert!(matches!(error, TranscribeError::TooLong(_)), "{error}");
}
