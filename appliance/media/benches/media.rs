//! What the media stage costs per second of call audio, beside baselines run on the same audio.
//!
//! Figures are `name: value unit` lines. "x_realtime" is seconds of audio handled per second of
//! one CPU core (higher is faster); a call needs 1 per track. Baselines in the same run: sox
//! (Debian's build, as a process, startup included, on audio long enough to make startup small)
//! for G.711 and rate conversion, and rubato's asynchronous sinc and polynomial resamplers for
//! rate conversion. Resampling quality is the SNR of a sine sweep against the ideal sweep.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use audioadapter_buffers::direct::InterleavedSlice;
use diala_media::g711::Law;
use diala_media::wav::{self, Audio};
use diala_media::{Frame, Resampler, Track, UtteranceCutter, VadConfig};
use rubato::{
    Async, FixedAsync, PolynomialDegree, Resampler as _, SincInterpolationParameters,
    WindowFunction,
};

/// Times `work` over enough rounds to last about half a second; returns seconds per round.
fn seconds_per_round(mut work: impl FnMut()) -> f64 {
    work();
    let mut rounds = 0u32;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < 0.5 {
        work();
        rounds += 1;
    }
    start.elapsed().as_secs_f64() / f64::from(rounds)
}

fn recording(name: &str) -> Audio {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/audio")
        .join(name);
    wav::read(std::fs::File::open(&path).expect("the recordings in tests/data/audio")).unwrap()
}

fn report_x_realtime(name: &str, audio_seconds: f64, seconds: f64) {
    println!("{name}: {:.0} x_realtime", audio_seconds / seconds);
}

/// Runs sox and returns its wall time in seconds.
fn time_sox(args: &[&str]) -> f64 {
    let start = Instant::now();
    let status = Command::new("sox")
        .args(args)
        .status()
        .expect("sox (run `make deps`)");
    assert!(status.success(), "sox {args:?}");
    start.elapsed().as_secs_f64()
}

fn g711(samples: &[i16], rate: u32, dir: &Path) {
    let audio_seconds = samples.len() as f64 / f64::from(rate);
    let mut codes = Vec::with_capacity(samples.len());
    Law::MuLaw.encode(samples, &mut codes);

    let mut out = Vec::with_capacity(samples.len());
    let decode = seconds_per_round(|| {
        out.clear();
        Law::MuLaw.decode(black_box(&codes), &mut out);
        black_box(&out);
    });
    let mut encoded = Vec::with_capacity(samples.len());
    let encode = seconds_per_round(|| {
        encoded.clear();
        Law::MuLaw.encode(black_box(samples), &mut encoded);
        black_box(&encoded);
    });
    let encode_a = seconds_per_round(|| {
        encoded.clear();
        Law::ALaw.encode(black_box(samples), &mut encoded);
        black_box(&encoded);
    });
    report_x_realtime("g711_ulaw_decode", audio_seconds, decode);
    report_x_realtime("g711_ulaw_encode", audio_seconds, encode);
    report_x_realtime("g711_alaw_encode", audio_seconds, encode_a);
    println!(
        "g711_ulaw_decode_per_sample: {:.2} ns",
        decode * 1e9 / samples.len() as f64
    );

    // sox on ten minutes of the same audio, so that its start-up is a small part of the time.
    let repeats = (600.0 / audio_seconds).ceil() as usize;
    let long: Vec<u8> = codes
        .iter()
        .copied()
        .cycle()
        .take(codes.len() * repeats)
        .collect();
    let raw = dir.join("long.ulaw");
    std::fs::write(&raw, &long).unwrap();
    let out_path = dir.join("long-decoded.wav");
    let sox = time_sox(&[
        "-t",
        "raw",
        "-r",
        "8000",
        "-c",
        "1",
        "-e",
        "u-law",
        raw.to_str().unwrap(),
        "-e",
        "signed-integer",
        "-b",
        "16",
        out_path.to_str().unwrap(),
    ]);
    report_x_realtime(
        "sox_ulaw_decode_baseline",
        audio_seconds * repeats as f64,
        sox,
    );
}

/// Resamples all of `input` in 20 ms frames with our streaming resampler.
fn ours(from: u32, to: u32, input: &[i16]) -> Vec<i16> {
    let mut resampler = Resampler::new(from, to).unwrap();
    let mut out = Vec::with_capacity(input.len() * to as usize / from as usize + 4096);
    for frame in input.chunks(from as usize / 50) {
        resampler.process(frame, &mut out).unwrap();
    }
    resampler.finish(&mut out).unwrap();
    out
}

/// Resamples all of `input` in 20 ms chunks with one of rubato's asynchronous resamplers.
fn rubato_async(sinc: bool, from: u32, to: u32, input: &[i16]) -> Vec<i16> {
    let ratio = f64::from(to) / f64::from(from);
    let chunk = from as usize / 50;
    let mut resampler = if sinc {
        let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2);
        Async::<f32>::new_sinc(ratio, 1.0, &params, chunk, 1, FixedAsync::Input).unwrap()
    } else {
        Async::<f32>::new_poly(
            ratio,
            1.0,
            PolynomialDegree::Cubic,
            chunk,
            1,
            FixedAsync::Input,
        )
        .unwrap()
    };
    let delay = resampler.output_delay();
    let mut buffer = vec![0f32; chunk];
    let mut output = vec![0f32; resampler.output_frames_max()];
    let mut out = Vec::with_capacity(input.len() * to as usize / from as usize + 4096);
    for frame in input.chunks(chunk) {
        buffer.fill(0.0);
        for (b, &s) in buffer.iter_mut().zip(frame) {
            *b = f32::from(s) / 32768.0;
        }
        let input = InterleavedSlice::new(&buffer, 1, chunk).unwrap();
        let capacity = output.len();
        let mut adapter = InterleavedSlice::new_mut(&mut output, 1, capacity).unwrap();
        let (_, written) = resampler
            .process_into_buffer(&input, &mut adapter, None)
            .unwrap();
        out.extend(
            output[..written]
                .iter()
                .map(|&x| (x * 32768.0).round() as i16),
        );
    }
    out.drain(..delay.min(out.len()));
    out
}

fn sox_resample(from: u32, to: u32, input: &[i16], dir: &Path, tag: &str) -> (Vec<i16>, f64) {
    let in_path = dir.join(format!("{tag}-in.wav"));
    let out_path = dir.join(format!("{tag}-out.wav"));
    wav::write(
        std::fs::File::create(&in_path).unwrap(),
        &Audio::mono(from, input.to_vec()),
    )
    .unwrap();
    let rate = to.to_string();
    let seconds = time_sox(&[
        "-D",
        in_path.to_str().unwrap(),
        out_path.to_str().unwrap(),
        "rate",
        "-h",
        &rate,
    ]);
    let out = wav::read(std::fs::File::open(&out_path).unwrap())
        .unwrap()
        .to_mono();
    (out, seconds)
}

/// A logarithmic sweep from 100 Hz to `top` at half full scale, sampled `offset` samples late.
fn sweep(rate: u32, seconds: f64, top: f64, offset: f64) -> Vec<f64> {
    let k = (top / 100.0).ln() / seconds;
    (0..(f64::from(rate) * seconds) as usize)
        .map(|n| {
            let t = (n as f64 + offset) / f64::from(rate);
            let cycles = 100.0 * ((k * t).exp() - 1.0) / k;
            16384.0 * (2.0 * std::f64::consts::PI * cycles).sin()
        })
        .collect()
}

/// SNR of a resampled sweep against the ideal one, at the best alignment within +-4 samples,
/// found to 1/20 sample: rubato's asynchronous resamplers report their delay rounded to a whole
/// sample, and quality, not alignment, is what is compared here.
fn sweep_snr_db(output: &[i16], rate: u32, top: f64) -> f64 {
    let at = |offset: f64| {
        let ideal = sweep(rate, 4.0, top, offset);
        let edge = 800;
        let (mut signal, mut noise) = (0.0, 0.0);
        for (&got, &want) in output
            .iter()
            .zip(&ideal)
            .skip(edge)
            .take(ideal.len() - 2 * edge)
        {
            signal += want * want;
            noise += (f64::from(got) - want).powi(2);
        }
        10.0 * (signal / noise).log10()
    };
    let best_whole = (-4..=4)
        .map(f64::from)
        .max_by(|a, b| at(*a).total_cmp(&at(*b)));
    let centre = best_whole.unwrap_or(0.0);
    (-20..=20)
        .map(|step| at(centre + f64::from(step) / 20.0))
        .fold(f64::MIN, f64::max)
}

fn resampling(name: &str, from: u32, to: u32, input: &[i16], dir: &Path) {
    let audio_seconds = input.len() as f64 / f64::from(from);
    report_x_realtime(
        &format!("resample_{name}"),
        audio_seconds,
        seconds_per_round(|| {
            black_box(ours(from, to, black_box(input)));
        }),
    );
    report_x_realtime(
        &format!("rubato_sinc_{name}_baseline"),
        audio_seconds,
        seconds_per_round(|| {
            black_box(rubato_async(true, from, to, black_box(input)));
        }),
    );
    report_x_realtime(
        &format!("rubato_poly_{name}_baseline"),
        audio_seconds,
        seconds_per_round(|| {
            black_box(rubato_async(false, from, to, black_box(input)));
        }),
    );
    let repeats = (600.0 / audio_seconds).ceil() as usize;
    let long: Vec<i16> = input
        .iter()
        .copied()
        .cycle()
        .take(input.len() * repeats)
        .collect();
    let (_, sox) = sox_resample(from, to, &long, dir, name);
    report_x_realtime(
        &format!("sox_rate_{name}_baseline"),
        audio_seconds * repeats as f64,
        sox,
    );

    let top = 0.85 * f64::from(from.min(to)) / 2.0;
    let input: Vec<i16> = sweep(from, 4.0, top, 0.0)
        .iter()
        .map(|&x| x.round() as i16)
        .collect();
    let snr = |output: Vec<i16>| sweep_snr_db(&output, to, top);
    println!(
        "resample_{name}_sweep_snr: {:.1} dB",
        snr(ours(from, to, &input))
    );
    let sinc = snr(rubato_async(true, from, to, &input));
    println!("rubato_sinc_{name}_sweep_snr_baseline: {sinc:.1} dB");
    let poly = snr(rubato_async(false, from, to, &input));
    println!("rubato_poly_{name}_sweep_snr_baseline: {poly:.1} dB");
    let (by_sox, _) = sox_resample(from, to, &input, dir, &format!("{name}-sweep"));
    println!("sox_rate_{name}_sweep_snr_baseline: {:.1} dB", snr(by_sox));
}

fn cutting(name: &str, audio: &Audio) {
    let samples = audio.to_mono();
    let rate = audio.sample_rate;
    let audio_seconds = samples.len() as f64 / f64::from(rate);
    let per_frame = rate as usize / 50;
    let frames: Vec<Frame> = samples
        .chunks(per_frame)
        .enumerate()
        .map(|(i, c)| Frame::new(Track::Caller, 20 * i as u64, rate, c.to_vec()))
        .collect();

    let mut utterances = 0;
    let cut = seconds_per_round(|| {
        let mut cutter = UtteranceCutter::new(Track::Caller, VadConfig::default()).unwrap();
        utterances = 0;
        for frame in &frames {
            utterances += cutter.push(black_box(frame)).unwrap().len();
        }
        utterances += cutter.finish().unwrap().len();
    });
    report_x_realtime(&format!("vad_cut_{name}"), audio_seconds, cut);
    if rate != 16_000 {
        // The rate conversion the cutter does inside, alone: what is left is the VAD's own cost.
        let convert = seconds_per_round(|| {
            black_box(ours(rate, 16_000, black_box(&samples)));
        });
        report_x_realtime(
            &format!("vad_cut_{name}_resampling_alone_baseline"),
            audio_seconds,
            convert,
        );
    }
    println!("vad_cut_{name}_events: {utterances} events");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let phone = recording("osr34_8k_orig.wav");
    let speech = recording("jfk.wav");
    let phone_samples = phone.to_mono();

    g711(&phone_samples, phone.sample_rate, dir.path());

    let mut at_48k = Vec::new();
    let mut up = Resampler::new(8000, 48_000).unwrap();
    up.process(&phone_samples, &mut at_48k).unwrap();
    up.finish(&mut at_48k).unwrap();
    let mut at_24k = Vec::new();
    let mut up = Resampler::new(8000, 24_000).unwrap();
    up.process(&phone_samples, &mut at_24k).unwrap();
    up.finish(&mut at_24k).unwrap();
    resampling("8k_to_16k", 8000, 16_000, &phone_samples, dir.path());
    resampling("48k_to_16k", 48_000, 16_000, &at_48k, dir.path());
    resampling("24k_to_8k", 24_000, 8000, &at_24k, dir.path());

    cutting("8k_phone", &phone);
    cutting("16k_speech", &speech);
}
