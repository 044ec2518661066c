//! Frames: short runs of 16-bit linear PCM from one track of a call, stamped with call time.
//!
//! A frame is what the trunk hands the media stage after decoding (20 ms of G.711 is the usual
//! size). Its timestamp is call-relative milliseconds, so everything downstream works on explicit
//! time and never reads a clock. This module must never hold audio from more than one track in
//! one frame: mixing the caller and the agent would break who-said-what.

/// Which side of a call a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Track {
    /// The person who placed the call.
    Caller,
    /// The person or system that was called.
    Callee,
    /// The voice agent's own speech played into the call.
    Agent,
}

impl Track {
    /// The lower-case name used in logs, metrics and stored segments.
    pub fn as_str(self) -> &'static str {
        match self {
            Track::Caller => "caller",
            Track::Callee => "callee",
            Track::Agent => "agent",
        }
    }
}

impl std::fmt::Display for Track {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Mono 16-bit linear PCM from one track, starting at a call-relative time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The side of the call this audio is from.
    pub track: Track,
    /// Call-relative time of the first sample, in milliseconds.
    pub start_ms: u64,
    /// Samples per second (8000 for G.711).
    pub sample_rate: u32,
    /// The samples, mono.
    pub samples: Vec<i16>,
}

impl Frame {
    /// A frame of `samples` at `sample_rate` from `track`, starting at `start_ms` into the call.
    pub fn new(track: Track, start_ms: u64, sample_rate: u32, samples: Vec<i16>) -> Self {
        Frame {
            track,
            start_ms,
            sample_rate,
            samples,
        }
    }

    /// Decodes a G.711 payload (one byte a sample, 8 kHz) into a frame.
    pub fn from_g711(track: Track, start_ms: u64, law: crate::g711::Law, payload: &[u8]) -> Self {
        let mut samples = Vec::with_capacity(payload.len());
        law.decode(payload, &mut samples);
        Frame::new(track, start_ms, 8000, samples)
    }

    /// How long the frame lasts, in milliseconds (rounded down; 0 for an empty frame or no rate).
    pub fn duration_ms(&self) -> u64 {
        samples_to_ms(self.samples.len() as u64, self.sample_rate)
    }

    /// Call-relative time just after the last sample, in milliseconds.
    pub fn end_ms(&self) -> u64 {
        self.start_ms + self.duration_ms()
    }
}

/// 16-bit samples as floats in [-1, 1), the form whisper.cpp takes.
pub fn to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| f32::from(s) / 32768.0).collect()
}

/// Milliseconds spanned by `samples` at `rate` samples per second, rounded down.
pub(crate) fn samples_to_ms(samples: u64, rate: u32) -> u64 {
    if rate == 0 {
        0
    } else {
        samples * 1000 / u64::from(rate)
    }
}
