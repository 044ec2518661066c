//! Reading a WAV recording as the 16 kHz mono samples the recogniser takes, for the
//! command-line check, the tests and the benchmarks.
//!
// Limitation: a stopgap; WAV reading and resampling belong to the media crate and move there
// once it is in the workspace.

use std::path::{Path, PathBuf};

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::transcriber::SAMPLE_RATE;

/// Why a recording cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file is missing or not a readable WAV file.
    #[error("cannot read {path} as a WAV file: {detail}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The format is not one the tool takes.
    #[error(
        "{path} is {detail}; give 16-bit PCM mono at 8 kHz (telephone) or 16 kHz \
         (convert it first, e.g. with sox)"
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// What the file is.
        detail: String,
    },
    /// Resampling failed.
    #[error("cannot resample {path} to 16 kHz: {detail}")]
    Resample {
        /// The file.
        path: PathBuf,
        /// What rubato said.
        detail: String,
    },
}

/// Reads a 16-bit mono WAV file at 8 or 16 kHz as 16 kHz samples in [-1, 1].
pub fn read_16k(path: &Path) -> Result<Vec<f32>, WavError> {
    let read = |e: hound::Error| WavError::Read {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    let reader = hound::WavReader::open(path).map_err(read)?;
    let spec = reader.spec();
    let supported = spec.channels == 1
        && spec.bits_per_sample == 16
        && spec.sample_format == hound::SampleFormat::Int
        && matches!(spec.sample_rate, 8_000 | 16_000);
    if !supported {
        let detail = format!(
            "{} channel(s), {}-bit {:?} at {} Hz",
            spec.channels, spec.bits_per_sample, spec.sample_format, spec.sample_rate
        );
        return Err(WavError::Format {
            path: path.to_owned(),
            detail,
        });
    }

    let samples = reader
        .into_samples::<i16>()
        .map(|s| s.map(|v| f32::from(v) / 32_768.0))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(read)?;
    if spec.sample_rate == SAMPLE_RATE {
        return Ok(samples);
    }
    resample(&samples, spec.sample_rate).map_err(|detail| WavError::Resample {
        path: path.to_owned(),
        detail,
    })
}

/// Resamples mono `samples` from `rate` to 16 kHz.
pub fn resample(samples: &[f32], rate: u32) -> Result<Vec<f32>, String> {
    if samples.is_empty() {
        return Ok(Vec::new());
    }
    let mut resampler = Fft::<f32>::new(
        rate as usize,
        SAMPLE_RATE as usize,
        1024,
        1,
        FixedSync::Both,
    )
    .map_err(|e| e.to_string())?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| e.to_string())?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| e.to_string())?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn write(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        samples
            .iter()
            .for_each(|s| writer.write_sample(*s).unwrap());
        writer.finalize().unwrap();
    }

    #[test]
    fn upsamples_telephone_audio_keeping_length_and_tone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let tone: Vec<i16> = (0..8_000)
            .map(|i| {
                ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8_000.0).sin() * 16_000.0) as i16
            })
            .collect();
        write(&path, 8_000, 1, &tone);

        let out = read_16k(&path).unwrap();
        assert!((out.len() as i64 - 16_000).abs() <= 2, "{}", out.len());
        // The middle sample pairs follow the 440 Hz sine at the new rate.
        let expected = |i: usize| {
            (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin() * 16_000.0 / 32_768.0
        };
        let worst = (4_000..12_000)
            .map(|i| (out[i] - expected(i)).abs())
            .fold(0.0, f32::max);
        assert!(worst < 0.02, "{worst}");
    }

    #[test]
    fn refuses_stereo_and_other_rates_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stereo.wav");
        write(&path, 16_000, 2, &[0; 200]);
        let error = read_16k(&path).unwrap_err().to_string();
        assert!(
            error.contains("2 channel(s)") && error.contains("8 kHz"),
            "{error}"
        );

        write(&path, 44_100, 1, &[0; 200]);
        assert!(
            read_16k(&path)
                .unwrap_err()
                .to_string()
                .contains("44100 Hz")
        );
        let missing = read_16k(&dir.path().join("absent.wav")).unwrap_err();
        assert!(matches!(missing, WavError::Read { .. }));
    }
}
