//! Speech for the call: Polly's 16 kHz signed little-endian PCM, resampled to the call's 8 kHz
//! and encoded as G.711 frames of 20 ms, the size Twilio Media Streams and RTP carry.
//!
//! Pure and synchronous. It must never pace or send anything: the trunk does that.

use std::time::Duration;

use diala_media::g711::Law;
use diala_media::{ResampleError, Resampler};

/// The rate Polly is asked for (its PCM output offers 8 and 16 kHz).
pub const POLLY_RATE: u32 = 16_000;
/// The rate of a telephone call.
pub const CALL_RATE: u32 = 8_000;
/// The length of one frame.
pub const FRAME: Duration = Duration::from_millis(20);
/// Bytes (samples) in one 20 ms G.711 frame at 8 kHz.
pub const FRAME_BYTES: usize = 160;

/// Why speech could not be made into call audio.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// Polly's PCM is 16-bit; an odd length means a cut or corrupted answer.
    #[error("the speech service returned {0} bytes of PCM, not a whole number of 16-bit samples")]
    OddLength(usize),
    /// The resampler refused the rates (a bug in the constants above).
    #[error("cannot resample speech for the call: {0}")]
    Resample(#[from] ResampleError),
}

/// One sentence of speech, ready to play: 20 ms G.711 frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechAudio {
    /// The frames, each [`FRAME_BYTES`] long (the last padded with silence).
    pub frames: Vec<Vec<u8>>,
}

impl SpeechAudio {
    /// How long it plays.
    pub fn duration(&self) -> Duration {
        FRAME * u32::try_from(self.frames.len()).unwrap_or(u32::MAX)
    }
}

/// Turns Polly's PCM (`rate` Hz, s16le, mono) into call frames in `law`.
pub fn encode_speech(pcm: &[u8], rate: u32, law: Law) -> Result<SpeechAudio, AudioError> {
    if !pcm.len().is_multiple_of(2) {
        return Err(AudioError::OddLength(pcm.len()));
    }
    let samples: Vec<i16> = pcm
        .as_chunks::<2>()
        .0
        .iter()
        .map(|pair| i16::from_le_bytes(*pair))
        .collect();

    let samples = if rate == CALL_RATE {
        samples
    } else {
        Resampler::convert(rate, CALL_RATE, &samples)?
    };

    let mut codes = Vec::with_capacity(samples.len() + FRAME_BYTES);
    law.encode(&samples, &mut codes);
    let silence = law.encode_sample(0);
    let frames = codes
        .chunks(FRAME_BYTES)
        .map(|chunk| {
            let mut frame = chunk.to_vec();
            frame.resize(FRAME_BYTES, silence);
            frame
        })
        .collect();
    Ok(SpeechAudio { frames })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, millis: u32, hz: f32) -> Vec<u8> {
        let n = rate * millis / 1000;
        (0..n)
            .flat_map(|i| {
                let t = i as f32 / rate as f32;
                let s = (t * hz * std::f32::consts::TAU).sin() * 8000.0;
                (s as i16).to_le_bytes()
            })
            .collect()
    }

    #[test]
    fn a_second_at_16_khz_is_fifty_frames_of_mu_law() {
        let audio = encode_speech(&tone(16_000, 1000, 440.0), 16_000, Law::MuLaw).unwrap();
        assert_eq!(audio.frames.len(), 50);
        assert!(audio.frames.iter().all(|f| f.len() == FRAME_BYTES));
        assert_eq!(audio.duration(), Duration::from_secs(1));
    }

    #[test]
    fn the_tone_survives_resampling_and_encoding() {
        let audio = encode_speech(&tone(16_000, 500, 440.0), 16_000, Law::MuLaw).unwrap();
        let mut decoded = Vec::new();
        for frame in &audio.frames {
            Law::MuLaw.decode(frame, &mut decoded);
        }
        let mid = &decoded[1000..3000];
        let rms = (mid.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / 2000.0).sqrt();
        assert!((rms - 8000.0 / 2f64.sqrt()).abs() < 400.0, "rms {rms}");
        let crossings = mid.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!(
            (214..=226).contains(&crossings),
            "{crossings} zero crossings in 250 ms"
        );
    }

    #[test]
    fn a_short_tail_is_padded_with_silence_and_odd_bytes_refused() {
        let audio = encode_speech(&[0u8; 2 * 170], 8_000, Law::ALaw).unwrap();
        assert_eq!(audio.frames.len(), 2);
        assert_eq!(audio.frames[1][10], Law::ALaw.encode_sample(0));
        assert!(matches!(
            encode_speech(&[0u8; 3], 16_000, Law::MuLaw),
            Err(AudioError::OddLength(3))
        ));
    }
}
