//! Cutting a whole recording into utterances at its pauses, for the command-line check and
//! the benchmarks: Whisper takes at most 30 s at once and is fastest on short pieces.
//!
// Limitation: an offline splitter for whole files (it sees the entire recording before
// choosing a threshold); live calls are cut by the media pipeline's voice activity detector.

use std::ops::Range;

use crate::transcriber::SAMPLE_RATE;

const FRAME: usize = SAMPLE_RATE as usize / 50; // 20 ms
/// Frames of quiet that end an utterance (300 ms).
const PAUSE_FRAMES: usize = 15;
/// Frames kept before and after the speech (200 ms).
const PAD_FRAMES: usize = 10;

/// Ranges of `samples` (16 kHz) that hold speech, each at most `max_seconds` long.
pub fn utterances(samples: &[f32], max_seconds: usize) -> Vec<Range<usize>> {
    let energy: Vec<f32> = samples
        .chunks(FRAME)
        .map(|f| (f.iter().map(|s| s * s).sum::<f32>() / f.len() as f32).sqrt())
        .collect();
    if energy.is_empty() {
        return Vec::new();
    }
    // Speech is well above the noise floor (the quietest tenth of the frames).
    let mut sorted = energy.clone();
    sorted.sort_by(f32::total_cmp);
    let floor = sorted.get(sorted.len() / 10).copied().unwrap_or(0.0);
    let loudest = sorted.last().copied().unwrap_or(0.0);
    let threshold = (floor * 4.0).max(loudest * 0.02).max(1e-4);

    let mut spans: Vec<Range<usize>> = Vec::new();
    for (i, _) in energy.iter().enumerate().filter(|(_, e)| **e > threshold) {
        match spans.last_mut() {
            Some(last) if i - last.end <= PAUSE_FRAMES => last.end = i + 1,
            _ => spans.push(i..i + 1),
        }
    }

    let max_frames = (max_seconds * 50).max(2 * PAD_FRAMES + 1);
    let mut out = Vec::new();
    for span in spans {
        let padded =
            span.start.saturating_sub(PAD_FRAMES)..(span.end + PAD_FRAMES).min(energy.len());
        for piece in cut_long(&energy, padded, max_frames) {
            out.push(piece.start * FRAME..(piece.end * FRAME).min(samples.len()));
        }
    }
    out
}

/// Utterances joined back together, in order, into windows of at most `max_seconds`: whole
/// sentences with their context recognise better than phrases, when latency does not matter.
pub fn windows(samples: &[f32], max_seconds: usize) -> Vec<Range<usize>> {
    let max = max_seconds * SAMPLE_RATE as usize;
    let mut out: Vec<Range<usize>> = Vec::new();
    for piece in utterances(samples, max_seconds) {
        match out.last_mut() {
            Some(last) if piece.end - last.start <= max => last.end = piece.end,
            _ => out.push(piece),
        }
    }
    out
}

/// Splits a span longer than `max` frames at its quietest frames until every piece fits.
fn cut_long(energy: &[f32], span: Range<usize>, max: usize) -> Vec<Range<usize>> {
    if span.len() <= max {
        return vec![span];
    }
    // Look for the quietest frame in the middle half, so pieces stay balanced.
    let (from, to) = (span.start + span.len() / 4, span.end - span.len() / 4);
    let cut = (from..to)
        .min_by(|&a, &b| {
            let at = |i: usize| energy.get(i).copied().unwrap_or(0.0);
            at(a).total_cmp(&at(b))
        })
        .unwrap_or(span.start + span.len() / 2);
    let mut pieces = cut_long(energy, span.start..cut, max);
    pieces.extend(cut_long(energy, cut..span.end, max));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(seconds: f32) -> Vec<f32> {
        (0..(seconds * 16_000.0) as usize)
            .map(|i| (i as f32 * 0.07).sin() * 0.3)
            .collect()
    }

    #[test]
    fn cuts_at_pauses_and_keeps_pieces_short() {
        let mut audio = vec![0.0; 16_000];
        audio.extend(tone(2.0));
        audio.extend(vec![0.0; 16_000]);
        audio.extend(tone(3.0));
        audio.extend(vec![0.0; 8_000]);

        let pieces = utterances(&audio, 30);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        let first = &pieces[0];
        assert!(
            first.start <= 16_000 && first.start >= 16_000 - 4_000,
            "{first:?}"
        );
        assert!(
            first.end >= 48_000 && first.end <= 48_000 + 4_000,
            "{first:?}"
        );

        // 24 s of speech whose short gaps are no pause must still be cut to 10 s pieces.
        let mut long = vec![0.0; 3 * 16_000];
        for _ in 0..16 {
            long.extend(tone(1.4));
            long.extend(vec![0.0; 1_600]);
        }
        long.extend(vec![0.0; 3 * 16_000]);
        let pieces = utterances(&long, 10);
        assert!(pieces.len() >= 3, "{pieces:?}");
        assert!(pieces.iter().all(|p| p.len() <= 10 * 16_000), "{pieces:?}");
        let covered: usize = pieces.iter().map(|p| p.len()).sum();
        assert!(covered >= 24 * 16_000, "{pieces:?}");
    }

    #[test]
    fn windows_join_utterances_up_to_the_limit() {
        let mut audio = Vec::new();
        for _ in 0..4 {
            audio.extend(tone(2.0));
            audio.extend(vec![0.0; 16_000]);
        }
        assert_eq!(utterances(&audio, 30).len(), 4);
        let joined = windows(&audio, 7);
        assert_eq!(joined.len(), 2, "{joined:?}");
        assert!(joined.iter().all(|w| w.len() <= 7 * 16_000));
    }

    #[test]
    fn silence_has_no_utterances() {
        assert!(utterances(&vec![0.0; 32_000], 30).is_empty());
        assert!(utterances(&[], 30).is_empty());
    }
}
