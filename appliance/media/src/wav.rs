//! WAV files for tools and tests: 16-bit PCM (and 8-bit or float input) in, 16-bit PCM out.
//!
//! The daemon never writes call audio to disk; these helpers serve the sysadmin's
//! `transcribe FILE.wav` check, the tests and the benchmarks. They work on any reader or writer
//! and never open a path themselves, so the caller decides where audio may live.

use std::io::{BufReader, BufWriter, Read, Seek, Write};

/// What can go wrong reading or writing a WAV file.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The bytes are not a WAV file hound can parse, or reading them failed.
    #[error("not a readable WAV file: {0}; give a RIFF/WAVE file with PCM or float samples")]
    Format(#[from] hound::Error),
    /// A WAV with a channel count we do not handle.
    #[error("the WAV file has {0} channels; only mono and stereo are supported")]
    Channels(u16),
    /// A sample format we do not handle.
    #[error("the WAV file has {0}-bit samples; use 8, 16, 24 or 32-bit PCM or 32-bit float")]
    SampleFormat(u16),
    /// Writing a file with no channels makes no sense.
    #[error("cannot write a WAV file with no channels")]
    NoChannels,
    /// The channels to write have different lengths.
    #[error("the channels to write have different lengths ({0} and {1} samples)")]
    UnequalChannels(usize, usize),
}

/// Audio read from a WAV file: one vector of 16-bit samples per channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// Samples per second.
    pub sample_rate: u32,
    /// One vector per channel (one for mono, two for stereo), all the same length.
    pub channels: Vec<Vec<i16>>,
}

impl Audio {
    /// Mono audio.
    pub fn mono(sample_rate: u32, samples: Vec<i16>) -> Self {
        Audio {
            sample_rate,
            channels: vec![samples],
        }
    }

    /// The channels mixed down to one, averaging them.
    pub fn to_mono(&self) -> Vec<i16> {
        match self.channels.as_slice() {
            [only] => only.clone(),
            [left, right] => left
                .iter()
                .zip(right)
                .map(|(&l, &r)| ((i32::from(l) + i32::from(r)) / 2) as i16)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Duration in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        let frames = self.channels.first().map_or(0, Vec::len) as u64;
        crate::frame::samples_to_ms(frames, self.sample_rate)
    }
}

/// Reads a mono or stereo WAV file, converting its samples to 16 bits.
pub fn read(reader: impl Read) -> Result<Audio, WavError> {
    let mut wav = hound::WavReader::new(BufReader::new(reader))?;
    let spec = wav.spec();
    let channel_count = spec.channels;
    if !(1..=2).contains(&channel_count) {
        return Err(WavError::Channels(channel_count));
    }

    let interleaved: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let shift = u32::from(bits).saturating_sub(16);
            let widen = 16u32.saturating_sub(u32::from(bits));
            wav.samples::<i32>()
                .map(|s| s.map(|v| ((v >> shift) << widen) as i16))
                .collect::<Result<_, _>>()?
        }
        (hound::SampleFormat::Float, 32) => wav
            .samples::<f32>()
            .map(|s| s.map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16))
            .collect::<Result<_, _>>()?,
        (_, bits) => return Err(WavError::SampleFormat(bits)),
    };

    let count = usize::from(channel_count);
    let mut channels = vec![Vec::with_capacity(interleaved.len() / count); count];
    for frame in interleaved.chunks_exact(count) {
        for (channel, &sample) in channels.iter_mut().zip(frame) {
            channel.push(sample);
        }
    }
    Ok(Audio {
        sample_rate: spec.sample_rate,
        channels,
    })
}

/// Writes 16-bit PCM, one channel per vector in `audio.channels` (mono or stereo).
pub fn write(writer: impl Write + Seek, audio: &Audio) -> Result<(), WavError> {
    let Some(first) = audio.channels.first() else {
        return Err(WavError::NoChannels);
    };
    let count = u16::try_from(audio.channels.len()).unwrap_or(u16::MAX);
    if count > 2 {
        return Err(WavError::Channels(count));
    }
    if let Some(other) = audio.channels.iter().find(|c| c.len() != first.len()) {
        return Err(WavError::UnequalChannels(first.len(), other.len()));
    }

    let spec = hound::WavSpec {
        channels: count,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    // Buffered here, so that a caller passing a bare file does not pay a system call a sample.
    let mut wav = hound::WavWriter::new(BufWriter::new(writer), spec)?;
    for index in 0..first.len() {
        for channel in &audio.channels {
            wav.write_sample(channel.get(index).copied().unwrap_or(0))?;
        }
    }
    wav.finalize()?;
    Ok(())
}
