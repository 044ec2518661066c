//! Sample-rate conversion for call audio, streaming frame by frame.
//!
//! Speech recognition wants 16 kHz; trunks deliver 8 kHz (G.711) or 48 kHz (Opus, WebRTC), and
//! synthesized speech comes back at 16, 22.05 or 24 kHz and must be played into an 8 kHz call.
//! [`Resampler`] wraps rubato, takes any number of samples per call, and keeps its output aligned
//! with its input: the filter's delay is trimmed at the start and flushed by [`Resampler::finish`],
//! so output sample `n` is at input time `n / to_hz`. It never reads a clock and never touches
//! I/O; after construction it allocates only to grow the caller's output vector.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, WindowFunction};

/// The lowest sample rate accepted, in Hz.
pub const MIN_RATE: u32 = 8000;
/// The highest sample rate accepted, in Hz.
pub const MAX_RATE: u32 = 48000;

/// What can go wrong when converting sample rates.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    /// A rate outside what call audio uses; the trunk or the caller passed a wrong rate.
    #[error("sample rate {0} Hz is not supported; use a rate from {MIN_RATE} to {MAX_RATE} Hz")]
    UnsupportedRate(u32),
    /// rubato refused the parameters; this is a bug in the media crate.
    #[error("the resampler could not be built ({0}); this is a bug, please report it")]
    Construction(#[from] rubato::ResamplerConstructionError),
    /// A chunk buffer did not have the size rubato asked for; this is a bug in the media crate.
    #[error("a resampler buffer has the wrong size; this is a bug, please report it")]
    Buffer,
    /// rubato failed on a chunk; this is a bug in the media crate.
    #[error("the resampler failed on a chunk ({0}); this is a bug, please report it")]
    Process(#[from] rubato::ResampleError),
}

/// A streaming converter from one sample rate to another for one mono track.
pub struct Resampler {
    from_hz: u32,
    to_hz: u32,
    /// `None` when both rates are equal: samples pass through untouched.
    inner: Option<Box<dyn rubato::Resampler<f32>>>,
    chunk: usize,
    /// Input that does not yet fill a chunk.
    pending: Vec<f32>,
    output: Vec<f32>,
    /// Output samples still to drop because they precede the first input sample.
    to_skip: usize,
    consumed: u64,
    produced: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from_hz", &self.from_hz)
            .field("to_hz", &self.to_hz)
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

impl Resampler {
    /// A converter from `from_hz` to `to_hz`.
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, ResampleError> {
        for rate in [from_hz, to_hz] {
            if !(MIN_RATE..=MAX_RATE).contains(&rate) {
                return Err(ResampleError::UnsupportedRate(rate));
            }
        }

        // About 40 ms of input a chunk: long enough for a good FFT filter, short enough for a
        // VAD. rubato may round it to fit the ratio, so its own figure is the one used.
        let inner = if from_hz == to_hz {
            None
        } else {
            Some(build(from_hz, to_hz, (from_hz / 25) as usize)?)
        };
        let chunk = inner.as_ref().map_or(0, |r| r.input_frames_next());
        let to_skip = inner.as_ref().map_or(0, |r| r.output_delay());
        let output_len = inner.as_ref().map_or(0, |r| r.output_frames_max());

        Ok(Resampler {
            from_hz,
            to_hz,
            inner,
            chunk,
            pending: Vec::with_capacity(chunk),
            output: vec![0.0; output_len],
            to_skip,
            consumed: 0,
            produced: 0,
        })
    }

    /// Converts a whole clip at once (a file, a test signal); streams use [`Resampler::process`].
    pub fn convert(from_hz: u32, to_hz: u32, samples: &[i16]) -> Result<Vec<i16>, ResampleError> {
        let mut resampler = Resampler::new(from_hz, to_hz)?;
        let mut out = Vec::with_capacity(samples.len() * to_hz as usize / from_hz as usize + 1);
        resampler.process(samples, &mut out)?;
        resampler.finish(&mut out)?;
        Ok(out)
    }

    /// The input rate, in Hz.
    pub fn from_hz(&self) -> u32 {
        self.from_hz
    }

    /// The output rate, in Hz.
    pub fn to_hz(&self) -> u32 {
        self.to_hz
    }

    /// Converts `input`, appending every output sample that is ready to `out`.
    ///
    /// Output lags input by up to one chunk (40 ms) plus the filter's delay; [`finish`] flushes
    /// what is held back.
    ///
    /// [`finish`]: Resampler::finish
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) -> Result<(), ResampleError> {
        self.consumed += input.len() as u64;
        if self.inner.is_none() {
            out.extend_from_slice(input);
            self.produced += input.len() as u64;
            return Ok(());
        }

        for &sample in input {
            self.pending.push(f32::from(sample) / 32768.0);
            if self.pending.len() == self.chunk {
                self.run_chunk(out)?;
            }
        }
        Ok(())
    }

    /// Flushes the held-back tail, so that the total output matches the total input's duration,
    /// and makes the converter ready for a new stream.
    pub fn finish(&mut self, out: &mut Vec<i16>) -> Result<(), ResampleError> {
        let target = self.expected_output();
        if let Some(inner) = &self.inner {
            // Each chunk of silence pushes at least one chunk of output past the delay line.
            let chunks_needed = inner.output_delay() / self.chunk.max(1) + 3;
            for _ in 0..chunks_needed {
                if self.produced >= target {
                    break;
                }
                self.pending.resize(self.chunk, 0.0);
                let before = out.len();
                self.run_chunk(out)?;
                let surplus = self.produced.saturating_sub(target) as usize;
                out.truncate(out.len().saturating_sub(surplus).max(before));
            }
        }
        self.reset();
        Ok(())
    }

    /// Forgets all input and history, as if newly built.
    pub fn reset(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.reset();
            self.to_skip = inner.output_delay();
        }
        self.pending.clear();
        self.consumed = 0;
        self.produced = 0;
    }

    /// Output samples the input so far stands for, rounded to the nearest sample.
    fn expected_output(&self) -> u64 {
        let from = u64::from(self.from_hz);
        (self.consumed * u64::from(self.to_hz) + from / 2) / from
    }

    fn run_chunk(&mut self, out: &mut Vec<i16>) -> Result<(), ResampleError> {
        let Some(inner) = &mut self.inner else {
            return Ok(());
        };
        let input = InterleavedSlice::new(&self.pending, 1, self.pending.len())
            .map_err(|_| ResampleError::Buffer)?;
        let capacity = self.output.len();
        let mut output = InterleavedSlice::new_mut(&mut self.output, 1, capacity)
            .map_err(|_| ResampleError::Buffer)?;
        let (_, written) = inner.process_into_buffer(&input, &mut output, None)?;
        self.pending.clear();

        let skip = self.to_skip.min(written);
        self.to_skip -= skip;
        let fresh = self.output.get(skip..written).unwrap_or_default();
        out.extend(fresh.iter().map(|&x| to_i16(x)));
        self.produced += fresh.len() as u64;
        Ok(())
    }
}

/// rubato's synchronous FFT resampler: for a fixed ratio it is both its fastest and its best.
fn build(
    from_hz: u32,
    to_hz: u32,
    chunk: usize,
) -> Result<Box<dyn rubato::Resampler<f32>>, ResampleError> {
    // One FFT a chunk: the longest filter this chunk allows, so a flat passband up to 0.85 of
    // Nyquist. rubato's default of 256-frame sub-chunks halves the delay but costs 40 dB of SNR
    // at the top of the band (measured with the sweep test).
    Ok(Box::new(Fft::new_custom(
        from_hz as usize,
        to_hz as usize,
        chunk,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )?))
}

/// Rounds a float sample back to 16 bits, clipping what overshoots full scale.
fn to_i16(x: f32) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}
