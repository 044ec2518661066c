//! The cutter's rules on generated signals, on explicit call time: pre-roll, hang-over, minimum
//! and maximum length, endpoints, gaps, and refused frames.
// Test code: a failed unwrap is a failed test, and slices are indexed by what the test built.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{feed, line_noise, mix, syllables, utterances};
use diala_media::vad::MAX_UTTERANCE_LIMIT_MS;
use diala_media::{Ended, Frame, Track, UtteranceCutter, VadConfig, VadError, VadEvent};

const RATE: u32 = 8000;

fn cutter() -> UtteranceCutter {
    UtteranceCutter::new(Track::Caller, VadConfig::default()).unwrap()
}

/// `before` seconds of line noise, `speech` seconds of syllables over it, `after` of noise.
fn noise_speech_noise(before: f32, speech: f32, after: f32) -> Vec<i16> {
    let total = before + speech + after;
    let noise = line_noise(RATE, total, -50.0, -55.0, 11);
    let mut voiced = vec![0; (before * RATE as f32) as usize];
    voiced.extend(syllables(RATE, speech, -20.0));
    mix(&noise, &voiced)
}

#[test]
fn one_burst_gives_one_turn_with_pre_roll_tail_and_endpoint() {
    let mut cutter = cutter();
    let mut events = feed(&mut cutter, RATE, &noise_speech_noise(2.0, 1.5, 2.0), 0);
    events.extend(cutter.finish().unwrap());

    let [started, VadEvent::Utterance(u), endpoint] = events.as_slice() else {
        panic!("expected started, utterance, endpoint: {events:?}")
    };
    let VadEvent::SpeechStarted { at_ms, .. } = started else {
        panic!("{started:?}")
    };
    assert!((2000..=2040).contains(at_ms), "speech started at {at_ms}");
    // 300 ms of pre-roll before the speech, 200 ms kept after it.
    assert!(
        (1700..=1740).contains(&u.start_ms),
        "utterance starts at {}",
        u.start_ms
    );
    assert!(
        (3600..=3760).contains(&u.end_ms()),
        "utterance ends at {}",
        u.end_ms()
    );
    assert_eq!(u.ended, Ended::Silence);
    let VadEvent::Endpoint {
        speech_end_ms,
        detected_ms,
        ..
    } = endpoint
    else {
        panic!()
    };
    assert!(
        (3400..=3520).contains(speech_end_ms),
        "speech ended at {speech_end_ms}"
    );
    assert_eq!(
        detected_ms - speech_end_ms,
        600,
        "the hang-over decides the endpoint"
    );
}

#[test]
fn call_time_carries_into_every_timestamp() {
    let mut events = common::cut(
        Track::Caller,
        RATE,
        &noise_speech_noise(2.0, 1.5, 2.0),
        90_000,
    );
    let endpoint = events.pop().unwrap();
    let VadEvent::Endpoint { detected_ms, .. } = endpoint else {
        panic!("{endpoint:?}")
    };
    assert!((93_000..=94_200).contains(&detected_ms));
    let found = utterances(&events);
    assert!(
        (91_700..=91_740).contains(&found[0].start_ms),
        "{}",
        found[0].start_ms
    );
}

#[test]
fn a_click_shorter_than_the_minimum_speech_gives_nothing() {
    let mut signal = line_noise(RATE, 4.0, -50.0, -55.0, 3);
    let click = syllables(RATE, 0.1, -10.0);
    signal.splice(16_000..16_000 + click.len(), click);
    assert_eq!(common::cut(Track::Caller, RATE, &signal, 0), vec![]);
}

#[test]
fn pauses_shorter_than_the_hang_over_stay_in_one_utterance() {
    let mut voiced = syllables(RATE, 1.0, -20.0);
    voiced.extend(vec![0; (0.4 * RATE as f32) as usize]);
    voiced.extend(syllables(RATE, 1.0, -20.0));
    voiced.extend(vec![0; (0.9 * RATE as f32) as usize]);
    voiced.extend(syllables(RATE, 1.0, -20.0));
    let mut padded = vec![0; 2 * RATE as usize];
    padded.extend(voiced);
    padded.extend(vec![0; 2 * RATE as usize]);
    let signal = mix(&line_noise(RATE, 9.0, -50.0, -55.0, 5), &padded);

    let events = common::cut(Track::Caller, RATE, &signal, 0);
    let found = utterances(&events);
    assert_eq!(
        found.len(),
        2,
        "a 400 ms pause joins, a 900 ms pause splits: {found:?}"
    );
    assert!(found[0].duration_ms() > 2400 && found[1].duration_ms() < 1600);
}

#[test]
fn long_speech_is_cut_below_the_maximum_without_losing_audio() {
    let signal = noise_speech_noise(1.0, 50.0, 2.0);
    let events = common::cut(Track::Caller, RATE, &signal, 0);
    let found = utterances(&events);

    assert_eq!(found.len(), 3, "50 s of speech in 20 s pieces: {found:?}");
    assert!(found.iter().all(|u| u.duration_ms() <= 20_000));
    assert_eq!(found[0].ended, Ended::MaxLength);
    assert_eq!(found[1].ended, Ended::MaxLength);
    assert_eq!(found[2].ended, Ended::Silence);
    for pair in found.windows(2) {
        assert_eq!(
            pair[0].end_ms(),
            pair[1].start_ms,
            "pieces of one turn are contiguous"
        );
    }
    let started = events
        .iter()
        .filter(|e| matches!(e, VadEvent::SpeechStarted { .. }))
        .count();
    let endpoints = events
        .iter()
        .filter(|e| matches!(e, VadEvent::Endpoint { .. }))
        .count();
    assert_eq!((started, endpoints), (1, 1), "one turn");
}

#[test]
fn the_maximum_may_not_exceed_whispers_window() {
    let config = VadConfig {
        max_utterance_ms: MAX_UTTERANCE_LIMIT_MS + 10,
        ..VadConfig::default()
    };
    let err = UtteranceCutter::new(Track::Agent, config).unwrap_err();
    assert!(
        matches!(
            err,
            VadError::InvalidConfig {
                field: "max_utterance_ms",
                ..
            }
        ),
        "{err}"
    );

    let config = VadConfig {
        max_utterance_ms: MAX_UTTERANCE_LIMIT_MS,
        ..VadConfig::default()
    };
    let mut cutter = UtteranceCutter::new(Track::Agent, config).unwrap();
    let mut events = feed(&mut cutter, RATE, &noise_speech_noise(1.0, 40.0, 1.0), 0);
    events.extend(cutter.finish().unwrap());
    let found = utterances(&events);
    assert!(found.iter().all(|u| u.samples_16k.len() <= 30 * 16_000));
    assert_eq!(found.len(), 2);
}

#[test]
fn speech_cut_off_by_the_end_of_the_call_is_kept() {
    let signal = noise_speech_noise(1.0, 2.0, 0.0);
    let mut cutter = cutter();
    let mut events = feed(&mut cutter, RATE, &signal, 0);
    assert!(cutter.in_turn());
    assert!(!events.iter().any(|e| matches!(e, VadEvent::Utterance(_))));

    events.extend(cutter.finish().unwrap());
    let found = utterances(&events);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].ended, Ended::EndOfStream);
    assert!(found[0].end_ms() >= 2900, "{}", found[0].end_ms());
    assert!(matches!(events.last(), Some(VadEvent::Endpoint { .. })));
}

#[test]
fn advancing_time_without_frames_ends_the_turn() {
    let signal = noise_speech_noise(1.0, 1.0, 0.0);
    let mut cutter = cutter();
    feed(&mut cutter, RATE, &signal, 0);

    assert_eq!(
        cutter.advance_to(2300).unwrap(),
        vec![],
        "the hang-over has not passed yet"
    );
    let events = cutter.advance_to(2700).unwrap();
    assert!(
        matches!(
            events.as_slice(),
            [VadEvent::Utterance(_), VadEvent::Endpoint { .. }]
        ),
        "{events:?}"
    );
    let VadEvent::Endpoint { detected_ms, .. } = events[1] else {
        panic!()
    };
    assert!((2590..=2700).contains(&detected_ms), "{detected_ms}");

    let late = Frame::new(Track::Caller, 2500, RATE, vec![0; 160]);
    assert!(matches!(cutter.push(&late), Err(VadError::Overlap { .. })));
}

#[test]
fn a_long_gap_ends_the_turn_and_time_jumps_ahead() {
    let mut cutter = cutter();
    let mut events = feed(&mut cutter, RATE, &noise_speech_noise(1.0, 1.0, 0.0), 0);
    // An hour on hold, then the same speech again.
    let hour = 3_600_000;
    events.extend(feed(
        &mut cutter,
        RATE,
        &noise_speech_noise(1.0, 1.0, 1.0),
        hour,
    ));
    events.extend(cutter.finish().unwrap());

    let found = utterances(&events);
    assert_eq!(found.len(), 2);
    assert!(found[0].end_ms() < 3000);
    assert!(
        (hour + 700..=hour + 740).contains(&found[1].start_ms),
        "{}",
        found[1].start_ms
    );
}

#[test]
fn refused_frames_change_nothing() {
    let signal = noise_speech_noise(1.0, 1.0, 1.0);
    let mut reference = cutter();
    let expected = feed(&mut reference, RATE, &signal, 0);

    let mut cutter = cutter();
    let mut events = Vec::new();
    for (index, chunk) in signal.chunks(160).enumerate() {
        let start_ms = 20 * index as u64;
        if index == 30 {
            let overlap = Frame::new(Track::Caller, start_ms - 20, RATE, chunk.to_vec());
            assert!(matches!(
                cutter.push(&overlap),
                Err(VadError::Overlap { .. })
            ));
            let other_rate = Frame::new(Track::Caller, start_ms, 16_000, chunk.to_vec());
            assert!(matches!(
                cutter.push(&other_rate),
                Err(VadError::RateChanged { .. })
            ));
            let other_track = Frame::new(Track::Agent, start_ms, RATE, chunk.to_vec());
            assert!(matches!(
                cutter.push(&other_track),
                Err(VadError::WrongTrack { .. })
            ));
        }
        events.extend(
            cutter
                .push(&Frame::new(Track::Caller, start_ms, RATE, chunk.to_vec()))
                .unwrap(),
        );
    }
    assert_eq!(events, expected);
}

#[test]
fn sixteen_and_forty_eight_khz_input_cut_like_eight() {
    let at_8k = noise_speech_noise(1.0, 1.5, 1.5);
    let expected = common::cut(Track::Caller, RATE, &at_8k, 0);
    for rate in [16_000, 48_000] {
        let mut resampler = diala_media::Resampler::new(RATE, rate).unwrap();
        let mut upsampled = Vec::new();
        resampler.process(&at_8k, &mut upsampled).unwrap();
        resampler.finish(&mut upsampled).unwrap();
        let events = common::cut(Track::Caller, rate, &upsampled, 0);
        let (a, b) = (utterances(&expected), utterances(&events));
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 1, "{rate} Hz");
        assert!(a[0].start_ms.abs_diff(b[0].start_ms) <= 20, "{rate} Hz");
        assert!(a[0].end_ms().abs_diff(b[0].end_ms()) <= 20, "{rate} Hz");
    }
}

#[test]
fn the_noise_floor_follows_the_line_up_and_down() {
    let mut vad = diala_media::Vad::new(&VadConfig::default());
    let mut classify = |signal: &[i16]| -> Vec<bool> {
        signal
            .chunks_exact(160)
            .map(|w| vad.classify(w, false).speech)
            .collect()
    };
    let quiet = line_noise(16_000, 2.0, -60.0, -80.0, 21);
    let loud = line_noise(16_000, 6.0, -40.0, -80.0, 22);

    assert!(classify(&quiet).iter().all(|&speech| !speech));
    let after_step = classify(&loud);
    // A 20 dB step looks like speech until the floor's 3 s memory has forgotten the quiet line.
    assert!(
        after_step[..250].iter().all(|&speech| speech),
        "the step itself stands out"
    );
    assert!(
        after_step[350..].iter().all(|&speech| !speech),
        "then the floor has risen"
    );
    // Back down: the floor drops at once, so quiet line noise is never speech.
    assert!(classify(&quiet).iter().all(|&speech| !speech));
}

#[test]
fn cutters_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<UtteranceCutter>();
    assert_send::<diala_media::Resampler>();
}
