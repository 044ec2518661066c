//! Cutting a whole recording at once, for tools that transcribe a file rather than a call.
//!
//! The same [`UtteranceCutter`] that serves live calls runs over the recording, so a file is cut
//! exactly as a call with that audio would be. [`windows`] then joins the utterances back into
//! pieces of at most Whisper's window: when latency does not matter, whole sentences with their
//! context recognise better than single phrases. Nothing here touches files; callers read them.

use std::ops::Range;

use super::{UtteranceCutter, VadConfig, VadError, VadEvent};
use crate::frame::{Frame, Track};

/// 16 kHz samples per millisecond.
const PER_MS: usize = 16;

/// The sample ranges of `samples_16k` (mono, 16 kHz) that the cutter makes utterances of, in
/// order, each at most `config.max_utterance_ms` long.
pub fn utterance_spans(
    samples_16k: &[i16],
    config: VadConfig,
) -> Result<Vec<Range<usize>>, VadError> {
    let mut cutter = UtteranceCutter::new(Track::Caller, config)?;
    let frame = Frame::new(Track::Caller, 0, 16_000, samples_16k.to_vec());
    let mut events = cutter.push(&frame)?;
    events.extend(cutter.finish()?);
    let spans = events
        .into_iter()
        .filter_map(|event| match event {
            VadEvent::Utterance(u) => {
                let start = (u.start_ms as usize * PER_MS).min(samples_16k.len());
                let end = (start + u.samples_16k.len()).min(samples_16k.len());
                Some(start..end)
            }
            _ => None,
        })
        .filter(|span| !span.is_empty())
        .collect();
    Ok(spans)
}

/// Consecutive `spans` joined, pauses included, into windows of at most `max_samples`; a span
/// longer than that on its own stays one window.
pub fn windows(spans: &[Range<usize>], max_samples: usize) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for span in spans {
        match out.last_mut() {
            Some(last) if span.end.saturating_sub(last.start) <= max_samples => {
                last.end = last.end.max(span.end);
            }
            _ => out.push(span.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 300 Hz tone at about -16 dBFS for `seconds`.
    fn tone(seconds: f32) -> Vec<i16> {
        (0..(seconds * 16_000.0) as usize)
            .map(|i| ((i as f32 * 0.1178).sin() * 5_000.0) as i16)
            .collect()
    }

    fn quiet(seconds: f32) -> Vec<i16> {
        vec![0; (seconds * 16_000.0) as usize]
    }

    #[test]
    fn windows_join_spans_up_to_the_limit() {
        let spans = [0..10, 20..30, 40..50, 90..100, 100..130];
        assert_eq!(windows(&spans, 50), vec![0..50, 90..130]);
        // A span longer than the limit stays whole.
        assert_eq!(windows(&[0..10, 10..80], 50), vec![0..10, 10..80]);
        assert!(windows(&[], 50).is_empty());
    }

    #[test]
    fn silence_has_no_utterances_and_a_bad_setting_is_refused() {
        assert!(
            utterance_spans(&quiet(3.0), VadConfig::default())
                .unwrap()
                .is_empty()
        );
        assert!(
            utterance_spans(&[], VadConfig::default())
                .unwrap()
                .is_empty()
        );
        let config = VadConfig {
            max_utterance_ms: 40_000,
            ..VadConfig::default()
        };
        assert!(matches!(
            utterance_spans(&tone(1.0), config),
            Err(VadError::InvalidConfig { .. })
        ));
    }
}
