//! Sample-rate conversion: SNR of a resampled sine sweep against the ideal sweep at the output
//! rate, anti-aliasing, frame-by-frame streaming, and exact output length.
// Test code: a failed unwrap is a failed test, and slices are indexed by what the test built.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diala_media::{ResampleError, Resampler};

const AMPLITUDE: f64 = 0.5 * 32768.0;

/// The phase, in cycles, of a logarithmic sweep from `f0` to `f1` Hz over `seconds`, at `t`.
fn sweep_cycles(t: f64, f0: f64, f1: f64, seconds: f64) -> f64 {
    let k = (f1 / f0).ln() / seconds;
    f0 * ((k * t).exp() - 1.0) / k
}

fn sweep(rate: u32, f0: f64, f1: f64, seconds: f64) -> Vec<f64> {
    let count = (f64::from(rate) * seconds) as usize;
    (0..count)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            AMPLITUDE * (2.0 * std::f64::consts::PI * sweep_cycles(t, f0, f1, seconds)).sin()
        })
        .collect()
}

fn quantise(signal: &[f64]) -> Vec<i16> {
    signal.iter().map(|&x| x.round() as i16).collect()
}

/// Resamples `input` in frames of `frame` samples, then flushes.
fn resample(from: u32, to: u32, input: &[i16], frame: usize) -> Vec<i16> {
    let mut resampler = Resampler::new(from, to).unwrap();
    let mut out = Vec::new();
    for chunk in input.chunks(frame) {
        resampler.process(chunk, &mut out).unwrap();
    }
    resampler.finish(&mut out).unwrap();
    out
}

/// SNR in dB of `output` against `ideal`, over all but the first and last 50 ms.
fn snr_db(output: &[i16], ideal: &[f64], rate: u32) -> f64 {
    let edge = rate as usize / 20;
    let (mut signal, mut noise) = (0.0, 0.0);
    for (&out, &want) in output
        .iter()
        .zip(ideal)
        .skip(edge)
        .take(ideal.len() - 2 * edge)
    {
        signal += want * want;
        noise += (f64::from(out) - want).powi(2);
    }
    10.0 * (signal / noise).log10()
}

/// Converts a 4 s sweep that stays inside both passbands and measures the SNR.
fn sweep_snr(from: u32, to: u32) -> f64 {
    let top = 0.85 * f64::from(from.min(to)) / 2.0;
    let input = quantise(&sweep(from, 100.0, top, 4.0));
    let output = resample(from, to, &input, from as usize / 50);
    let ideal = sweep(to, 100.0, top, 4.0);
    assert_eq!(output.len(), ideal.len(), "{from} -> {to} Hz output length");
    snr_db(&output, &ideal, to)
}

#[test]
fn sweeps_keep_a_high_snr_on_every_path_we_use() {
    // To 16 kHz for speech recognition, to 8 kHz for playback into a call.
    for (from, to) in [
        (8000, 16_000),
        (48_000, 16_000),
        (16_000, 8000),
        (22_050, 8000),
        (24_000, 8000),
    ] {
        let snr = sweep_snr(from, to);
        println!("sweep {from} -> {to} Hz: SNR {snr:.1} dB");
        assert!(
            snr >= 60.0,
            "{from} -> {to} Hz: SNR {snr:.1} dB is below the 60 dB floor"
        );
    }
}

#[test]
fn tones_above_the_new_nyquist_are_filtered_out() {
    // 6 kHz at 24 kHz has no place at 8 kHz: it must not fold down to 2 kHz.
    let tone: Vec<f64> = (0..24_000)
        .map(|n| AMPLITUDE * (2.0 * std::f64::consts::PI * 6000.0 * n as f64 / 24_000.0).sin())
        .collect();
    let output = resample(24_000, 8000, &quantise(&tone), 480);
    // Away from the abrupt start and end, whose clicks are broadband and do pass.
    let middle = &output[400..output.len() - 400];
    let rms =
        (middle.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / middle.len() as f64).sqrt();
    let attenuation = 20.0 * (rms / (AMPLITUDE / 2f64.sqrt())).log10();
    assert!(
        attenuation < -80.0,
        "aliased tone only {attenuation:.1} dB down"
    );
}

#[test]
fn frame_size_does_not_change_the_output() {
    let input = quantise(&sweep(8000, 100.0, 3000.0, 1.0));
    let whole = resample(8000, 16_000, &input, input.len());
    for frame in [1, 37, 160, 1000] {
        assert_eq!(
            resample(8000, 16_000, &input, frame),
            whole,
            "frames of {frame}"
        );
    }
}

#[test]
fn output_length_follows_the_input_duration() {
    for (from, to, samples) in [
        (8000, 16_000, 12_345),
        (22_050, 8000, 22_050),
        (48_000, 16_000, 7),
    ] {
        let out = resample(from, to, &vec![100; samples], 160);
        let expected = (samples as u64 * u64::from(to) + u64::from(from) / 2) / u64::from(from);
        assert_eq!(
            out.len() as u64,
            expected,
            "{from} -> {to} Hz, {samples} samples"
        );
    }
}

#[test]
fn a_whole_clip_converts_like_a_stream() {
    let input = quantise(&sweep(22_050, 100.0, 3000.0, 1.0));
    let clip = Resampler::convert(22_050, 8000, &input).unwrap();
    assert_eq!(clip, resample(22_050, 8000, &input, 441));
    assert_eq!(clip.len(), 8000);
}

#[test]
fn equal_rates_pass_samples_through() {
    let input: Vec<i16> = (0..1000).map(|n| (n * 31 % 2000 - 1000) as i16).collect();
    assert_eq!(resample(16_000, 16_000, &input, 160), input);
}

#[test]
fn rates_outside_call_audio_are_refused() {
    for (from, to) in [(4000, 16_000), (8000, 96_000), (0, 8000)] {
        let err = Resampler::new(from, to).unwrap_err();
        assert!(matches!(err, ResampleError::UnsupportedRate(_)), "{err}");
        assert!(err.to_string().contains("8000 to 48000"), "{err}");
    }
}
