//! Helpers shared by the integration tests: real recordings, generated signals, feeding frames.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(dead_code)]

use std::path::PathBuf;

use diala_media::{Frame, Track, Utterance, UtteranceCutter, VadConfig, VadEvent};

/// The recordings kept as test data in `tests/data/audio`.
pub fn audio_path(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/audio");
    let path = root.join(name);
    assert!(path.exists(), "missing recording {}", path.display());
    path
}

/// Reads a recording as mono samples and its rate.
pub fn recording(name: &str) -> (u32, Vec<i16>) {
    let file = std::fs::File::open(audio_path(name)).unwrap();
    let audio = diala_media::wav::read(std::io::BufReader::new(file)).unwrap();
    (audio.sample_rate, audio.to_mono())
}

/// Feeds `samples` to a fresh cutter as 20 ms frames from call time `start_ms`, then finishes.
pub fn cut(track: Track, rate: u32, samples: &[i16], start_ms: u64) -> Vec<VadEvent> {
    let mut cutter = UtteranceCutter::new(track, VadConfig::default()).unwrap();
    let mut events = feed(&mut cutter, rate, samples, start_ms);
    events.extend(cutter.finish().unwrap());
    events
}

/// Feeds `samples` as 20 ms frames starting at `start_ms`, without finishing.
pub fn feed(
    cutter: &mut UtteranceCutter,
    rate: u32,
    samples: &[i16],
    start_ms: u64,
) -> Vec<VadEvent> {
    let per_frame = rate as usize / 50;
    let mut events = Vec::new();
    for (index, chunk) in samples.chunks(per_frame).enumerate() {
        let frame = Frame::new(
            cutter.track(),
            start_ms + 20 * index as u64,
            rate,
            chunk.to_vec(),
        );
        events.extend(cutter.push(&frame).unwrap());
    }
    events
}

/// The utterances among `events`.
pub fn utterances(events: &[VadEvent]) -> Vec<&Utterance> {
    events
        .iter()
        .filter_map(|e| match e {
            VadEvent::Utterance(u) => Some(u),
            _ => None,
        })
        .collect()
}

/// A deterministic pseudo-random generator (xorshift), so generated noise is the same every run.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Self {
        Noise(seed.max(1))
    }

    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// Telephone line noise: white hiss, mains hum with harmonics, and a slow level wobble.
pub fn line_noise(rate: u32, seconds: f32, hiss_dbfs: f32, hum_dbfs: f32, seed: u64) -> Vec<i16> {
    let mut noise = Noise::new(seed);
    let hiss = 10f32.powf(hiss_dbfs / 20.0) * 32768.0 * 3f32.sqrt();
    let hum = 10f32.powf(hum_dbfs / 20.0) * 32768.0 * 2f32.sqrt();
    let count = (rate as f32 * seconds) as usize;
    (0..count)
        .map(|n| {
            let t = n as f32 / rate as f32;
            let wobble = 1.0 + 0.2 * (2.0 * std::f32::consts::PI * 0.3 * t).sin();
            let mains = (2.0 * std::f32::consts::PI * 60.0 * t).sin()
                + 0.3 * (2.0 * std::f32::consts::PI * 180.0 * t).sin();
            (hiss * noise.next() * wobble + hum * mains / 1.3).clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// A voiced, speech-like signal: a 140 Hz buzz with harmonics in 200 ms syllables separated by
/// 60 ms pauses, at about `dbfs`.
pub fn syllables(rate: u32, seconds: f32, dbfs: f32) -> Vec<i16> {
    let amplitude = 10f32.powf(dbfs / 20.0) * 32768.0;
    let count = (rate as f32 * seconds) as usize;
    (0..count)
        .map(|n| {
            let t = n as f32 / rate as f32;
            let in_syllable = (t % 0.26) < 0.2;
            if !in_syllable {
                return 0;
            }
            let buzz: f32 = (1..=8)
                .map(|h| (2.0 * std::f32::consts::PI * 140.0 * h as f32 * t).sin() / h as f32)
                .sum();
            (amplitude * buzz / 1.5) as i16
        })
        .collect()
}

/// Adds two signals sample by sample, saturating; the result is as long as the longer one.
pub fn mix(a: &[i16], b: &[i16]) -> Vec<i16> {
    (0..a.len().max(b.len()))
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .saturating_add(b.get(i).copied().unwrap_or(0))
        })
        .collect()
}
