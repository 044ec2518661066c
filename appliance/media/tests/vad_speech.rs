//! The cutter on real recordings, on silence and on generated line noise.
// Test code: a failed unwrap is a failed test, and slices are indexed by what the test built.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{cut, line_noise, recording, utterances};
use diala_media::{Ended, Track, VadEvent};

/// Every `SpeechStarted` is followed by its turn's utterances and exactly one `Endpoint`.
fn assert_turns_are_well_formed(events: &[VadEvent]) {
    let mut in_turn = false;
    for event in events {
        match event {
            VadEvent::SpeechStarted { .. } => {
                assert!(!in_turn, "a turn started inside a turn: {events:?}");
                in_turn = true;
            }
            VadEvent::Utterance(u) => {
                assert!(in_turn, "an utterance outside a turn at {} ms", u.start_ms);
                assert!(
                    u.duration_ms() <= 20_000,
                    "utterance of {} ms",
                    u.duration_ms()
                );
            }
            VadEvent::Endpoint {
                speech_end_ms,
                detected_ms,
                ..
            } => {
                assert!(in_turn, "an endpoint outside a turn");
                assert!(detected_ms >= speech_end_ms);
                in_turn = false;
            }
        }
    }
    assert!(!in_turn, "the stream finished inside a turn");
}

#[test]
fn a_telephone_recording_of_ten_sentences_gives_ten_utterances() {
    let (rate, samples) = recording("osr34_8k_orig.wav");
    assert_eq!(rate, 8000);
    let events = cut(Track::Caller, rate, &samples, 0);
    assert_turns_are_well_formed(&events);

    let found = utterances(&events);
    assert!(
        (9..=11).contains(&found.len()),
        "{} utterances, expected about ten",
        found.len()
    );
    for pair in found.windows(2) {
        assert!(pair[0].end_ms() <= pair[1].start_ms, "utterances overlap");
    }
    for u in &found {
        // A Harvard sentence read aloud lasts about two to four seconds.
        assert!(
            (1500..=5000).contains(&u.duration_ms()),
            "{} ms at {}",
            u.duration_ms(),
            u.start_ms
        );
        assert_eq!(u.samples_16k.len() as u64, u.duration_ms() * 16);
    }
    let total: u64 = found.iter().map(|u| u.duration_ms()).sum();
    let file_ms = samples.len() as u64 / 8;
    assert!(total > file_ms / 2, "only {total} ms of {file_ms} ms kept");
}

#[test]
fn a_speech_is_cut_at_its_pauses_and_keeps_its_words() {
    let (rate, samples) = recording("jfk.wav");
    let events = cut(Track::Callee, rate, &samples, 0);
    assert_turns_are_well_formed(&events);

    let found = utterances(&events);
    assert!((2..=4).contains(&found.len()), "{} utterances", found.len());
    assert!(
        found[0].start_ms < 500,
        "first utterance starts at {} ms",
        found[0].start_ms
    );
    assert!(found.last().unwrap().end_ms() >= 10_500);
    // Loud words at 0.8 s, 6.0 s and 8.4 s must be inside an utterance.
    for word_ms in [800, 6000, 8400] {
        assert!(
            found
                .iter()
                .any(|u| (u.start_ms..u.end_ms()).contains(&word_ms)),
            "{word_ms} ms"
        );
    }
    assert!(found.iter().all(|u| u.track == Track::Callee));
}

#[test]
fn digital_silence_gives_nothing() {
    let events = cut(Track::Caller, 8000, &vec![0; 8000 * 60], 0);
    assert_eq!(events, vec![]);
}

#[test]
fn line_noise_gives_nothing() {
    for (hiss, hum, seed) in [(-50.0, -45.0, 1), (-40.0, -60.0, 2), (-30.0, -35.0, 3)] {
        let noise = line_noise(8000, 60.0, hiss, hum, seed);
        let events = cut(Track::Caller, 8000, &noise, 0);
        assert_eq!(events, vec![], "hiss {hiss} dBFS, hum {hum} dBFS");
    }
}

#[test]
fn speech_over_line_noise_is_still_found() {
    let (rate, speech) = recording("osr34_8k_orig.wav");
    let noise = line_noise(rate, speech.len() as f32 / rate as f32, -45.0, -50.0, 7);
    let events = cut(Track::Caller, rate, &common::mix(&speech, &noise), 0);
    assert_turns_are_well_formed(&events);
    let found = utterances(&events);
    assert!(
        (9..=11).contains(&found.len()),
        "{} utterances in noise",
        found.len()
    );
    assert!(found.iter().all(|u| u.ended == Ended::Silence));
}
