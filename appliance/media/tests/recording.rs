//! A whole recording cut by the live cutter and joined into recogniser windows, on generated
//! speech-like syllables over line noise.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::{line_noise, mix, syllables};
use diala_media::VadConfig;
use diala_media::vad::recording::{utterance_spans, windows};

const RATE: u32 = 16_000;

#[test]
fn a_recording_is_cut_at_its_pauses_and_joined_into_windows() {
    // 1 s of line noise, then four times 2 s of syllables and 1.5 s of noise.
    let noise = line_noise(RATE, 15.0, -50.0, -55.0, 7);
    let mut voiced = vec![0; RATE as usize];
    for _ in 0..4 {
        voiced.extend(syllables(RATE, 2.0, -20.0));
        voiced.extend(vec![0; RATE as usize * 3 / 2]);
    }
    let audio = mix(&noise, &voiced);

    let spans = utterance_spans(&audio, VadConfig::default()).unwrap();
    assert_eq!(spans.len(), 4, "{spans:?}");
    // The first utterance holds the first burst (1 s to 3 s) with its pre-roll and tail.
    let first = &spans[0];
    assert!((10_000..=16_000).contains(&first.start), "{first:?}");
    assert!((48_000..=56_000).contains(&first.end), "{first:?}");
    assert!(
        spans.windows(2).all(|w| w[0].end <= w[1].start),
        "{spans:?}"
    );

    let joined = windows(&spans, 7 * RATE as usize);
    assert_eq!(joined.len(), 2, "{joined:?}");
    assert!(
        joined.iter().all(|w| w.len() <= 7 * RATE as usize),
        "{joined:?}"
    );
    assert_eq!(
        (joined[0].start, joined[1].end),
        (spans[0].start, spans[3].end)
    );
}
