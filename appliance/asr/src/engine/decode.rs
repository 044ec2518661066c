//! One recognition: the whisper.cpp parameters for a short utterance, the run on a worker's
//! own state, and the segments that survive the filter.
//!
//! Speed on telephone utterances comes from the encoder's audio context: Whisper pads every
//! input to 30 s (1500 encoder positions), and trimming that to the utterance (50 positions a
//! second) plus a margin cuts the encoder's work several-fold. Without the margin, or with
//! timestamp tokens off, the decoder loops; so timestamps stay on and a token cap and the
//! repeat filter guard the rest.

use std::time::Duration;

use whisper_rs::{FullParams, SamplingStrategy, WhisperState};

use super::filter::{self, FilterOptions, RawSegment};
use crate::transcriber::{MAX_UTTERANCE, SAMPLE_RATE, Segment, TranscribeError, Utterance};

/// Encoder positions per second of audio.
const AUDIO_CTX_PER_SECOND: usize = 50;
/// The encoder's full window.
const FULL_AUDIO_CTX: usize = 1500;
/// whisper.cpp ignores input shorter than one second, so shorter utterances get silence.
const MIN_SAMPLES: usize = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 20;

/// How each utterance is decoded.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Threads whisper.cpp uses for one utterance.
    pub threads: usize,
    /// The spoken language, e.g. `en`.
    pub language: String,
    /// 1 decodes greedily; more keeps that many beams.
    pub beam_size: usize,
    /// Encoder positions added to the trimmed context; below about 128 the decoder loops.
    pub audio_ctx_margin: usize,
    /// Text tokens allowed per second of audio before decoding stops.
    pub tokens_per_second: usize,
    /// What counts as no speech.
    pub filter: FilterOptions,
}

/// The encoder positions an utterance of `samples` needs.
pub fn audio_ctx(samples: usize, margin: usize) -> usize {
    let positions = samples.div_ceil(SAMPLE_RATE as usize / AUDIO_CTX_PER_SECOND);
    (positions + margin).min(FULL_AUDIO_CTX)
}

/// The most tokens an utterance of `samples` may produce.
fn token_cap(samples: usize, per_second: usize) -> usize {
    8 + (samples * per_second).div_ceil(SAMPLE_RATE as usize)
}

fn params(options: &DecodeOptions, samples: usize) -> FullParams<'_, '_> {
    let strategy = match options.beam_size {
        0 | 1 => SamplingStrategy::Greedy { best_of: 1 },
        n => SamplingStrategy::BeamSearch {
            beam_size: to_c(n),
            patience: -1.0,
        },
    };
    let mut p = FullParams::new(strategy);
    p.set_n_threads(to_c(options.threads));
    p.set_language(Some(&options.language));
    p.set_translate(false);
    p.set_no_context(true);
    p.set_single_segment(true);
    p.set_no_timestamps(false);
    p.set_audio_ctx(to_c(audio_ctx(samples, options.audio_ctx_margin)));
    p.set_max_tokens(to_c(token_cap(samples, options.tokens_per_second)));
    p.set_temperature(0.0);
    // No temperature fallback: a re-decode costs a whole decode, and the filter handles loops.
    p.set_temperature_inc(0.0);
    p.set_suppress_blank(true);
    p.set_suppress_nst(true);
    p.set_print_special(false);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    p
}

fn to_c(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Recognises `utterance` on `state` and returns the segments worth keeping.
pub fn run(
    state: &mut WhisperState,
    options: &DecodeOptions,
    utterance: &Utterance,
) -> Result<Vec<Segment>, TranscribeError> {
    if utterance.duration() > MAX_UTTERANCE {
        return Err(TranscribeError::TooLong(utterance.duration()));
    }
    let mut samples = utterance.samples.clone();
    if samples.len() < MIN_SAMPLES {
        samples.resize(MIN_SAMPLES, 0.0);
    }
    state
        .full(params(options, samples.len()), &samples)
        .map_err(|e| TranscribeError::Whisper(e.to_string()))?;

    let end_of_audio = utterance.duration();
    let mut segments = Vec::new();
    for segment in state.as_iter() {
        let avg_logprob = mean_logprob(&segment);
        let raw = RawSegment {
            text: segment
                .to_str_lossy()
                .map(|t| t.into_owned())
                .unwrap_or_default(),
            no_speech_prob: segment.no_speech_probability(),
            avg_logprob,
        };
        let Some(text) = filter::keep(&raw, options.filter) else {
            continue;
        };
        // whisper.cpp counts time in hundredths of a second from the start of the input.
        let at = |cs: i64| Duration::from_millis(u64::try_from(cs).unwrap_or(0) * 10);
        let start = at(segment.start_timestamp()).min(end_of_audio);
        let end = at(segment.end_timestamp()).clamp(start, end_of_audio);
        segments.push(Segment {
            start: utterance.start + start,
            end: utterance.start + end,
            text,
            confidence: avg_logprob.exp().clamp(0.0, 1.0),
        });
    }
    Ok(segments)
}

/// The mean log-probability of a segment's text tokens (timestamps and specials excluded).
fn mean_logprob(segment: &whisper_rs::WhisperSegment<'_>) -> f32 {
    let (mut sum, mut count) = (0.0f32, 0u32);
    for i in 0..segment.n_tokens() {
        let Some(token) = segment.get_token(i) else {
            continue;
        };
        let is_text = token
            .to_str()
            .is_ok_and(|t| !(t.starts_with("[_") || t.starts_with("<|")));
        if is_text {
            sum += token.token_data().plog;
            count += 1;
        }
    }
    if count == 0 { 0.0 } else { sum / count as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_the_encoder_context_to_the_utterance() {
        assert_eq!(audio_ctx(16_000, 128), 50 + 128);
        assert_eq!(audio_ctx(16_001, 128), 51 + 128);
        assert_eq!(audio_ctx(3 * 16_000, 0), 150);
        assert_eq!(audio_ctx(30 * 16_000, 128), 1500);
    }

    #[test]
    fn caps_tokens_in_proportion_to_the_audio() {
        assert_eq!(token_cap(16_000, 10), 18);
        assert_eq!(token_cap(8 * 16_000, 10), 88);
    }
}
