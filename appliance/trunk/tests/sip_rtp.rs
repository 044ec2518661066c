//! RTP receive: the jitter buffer's order, concealment, wraps and SSRC changes, DTMF, RTCP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use diala_media::Track;
use diala_media::g711::Law;
use diala_trunk::sip::rtp::{JitterBuffer, Media, RtpReceiver};
use diala_trunk::sip::sdp::{Direction, Negotiated};
use proptest::prelude::*;

/// 160 samples whose every value says which packet they came from.
fn packet_audio(n: u32) -> Vec<i16> {
    vec![i16::try_from(n % 30_000).unwrap() + 1; 160]
}

fn released(buffer: &mut JitterBuffer) -> Vec<(u64, Vec<i16>)> {
    let mut out: Vec<_> = std::iter::from_fn(|| buffer.pop()).collect();
    out.extend(buffer.drain());
    out
}

fn timeline(runs: &[(u64, Vec<i16>)]) -> Vec<i16> {
    let mut at = 0;
    let mut all = Vec::new();
    for (position, samples) in runs {
        assert_eq!(*position, at, "the timeline has no hole and no overlap");
        at += samples.len() as u64;
        all.extend_from_slice(samples);
    }
    all
}

#[test]
fn reordered_packets_come_out_in_order_across_the_timestamp_wrap() {
    let mut buffer = JitterBuffer::new(480);
    let start = u32::MAX - 160 * 5;
    for n in [0u32, 2, 1, 3, 5, 4, 6, 8, 7, 9] {
        buffer.push(7, start.wrapping_add(n * 160), packet_audio(n));
    }
    let audio = timeline(&released(&mut buffer));
    let expected: Vec<i16> = (0..10).flat_map(packet_audio).collect();
    assert_eq!(audio, expected);
    assert_eq!(buffer.counters().concealed_samples, 0);
}

#[test]
fn a_lost_packet_is_concealed_fading_and_late_or_duplicate_ones_are_dropped() {
    let mut buffer = JitterBuffer::new(480);
    for n in [0u32, 1, 3, 4, 5, 6, 7] {
        buffer.push(7, n * 160, packet_audio(n));
    }
    buffer.push(7, 5 * 160, packet_audio(5));
    let mut runs: Vec<_> = std::iter::from_fn(|| buffer.pop()).collect();
    buffer.push(7, 2 * 160, packet_audio(2)); // too late: already concealed
    runs.extend(buffer.drain());
    let audio = timeline(&runs);

    assert_eq!(audio.len(), 8 * 160);
    let hole = &audio[320..480];
    assert!(
        hole[0] > 0 && hole[0] <= 2 && hole[159] <= hole[0],
        "fades from the last audio"
    );
    assert_eq!(&audio[480..640], &packet_audio(3)[..]);
    let counters = buffer.counters();
    assert_eq!(
        (
            counters.late,
            counters.duplicate,
            counters.concealed_samples
        ),
        (1, 1, 160)
    );
}

#[test]
fn a_new_ssrc_continues_the_timeline_right_after_the_old_one() {
    let mut buffer = JitterBuffer::new(480);
    for n in 0..5u32 {
        buffer.push(1, 1000 + n * 160, packet_audio(n));
    }
    for n in 5..10u32 {
        buffer.push(2, 9_000_000 + n * 160, packet_audio(n));
    }
    let audio = timeline(&released(&mut buffer));
    assert_eq!(audio, (0..10).flat_map(packet_audio).collect::<Vec<_>>());
    assert_eq!(buffer.counters().restarts, 1);
}

proptest! {
    #[test]
    fn any_arrival_order_gives_one_gapless_timeline(
        order in Just((0u32..40).collect::<Vec<_>>()).prop_shuffle(),
        start in any::<u32>(),
    ) {
        let mut buffer = JitterBuffer::new(480);
        let mut runs = Vec::new();
        for n in order {
            buffer.push(3, start.wrapping_add(n * 160), packet_audio(n));
            runs.extend(std::iter::from_fn(|| buffer.pop()));
        }
        runs.extend(buffer.drain());
        // Whatever came too late was concealed; the timeline never has a hole or an overlap.
        let audio = timeline(&runs);
        prop_assert!(audio.len() >= 160);
    }
}

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn media() -> Negotiated {
    Negotiated {
        law: Law::ALaw,
        payload_type: 8,
        dtmf_payload_type: Some(101),
        remote: "127.0.0.1:4000".parse().unwrap(),
        direction: Direction::SendRecv,
    }
}

#[test]
fn the_receiver_decodes_counts_loss_and_reports_a_dtmf_press_once() {
    let (t0, mut receiver) = (Instant::now(), RtpReceiver::new(Track::Caller, media(), 99));
    let tone: Vec<i16> = (0..160)
        .map(|i| ((i as f32 / 5.0).sin() * 8000.0) as i16)
        .collect();
    let mut coded = Vec::new();
    Law::ALaw.encode(&tone, &mut coded);

    let mut frames = Vec::new();
    for seq in (0u16..12).filter(|s| *s != 6) {
        let at = t0 + Duration::from_millis(20 * u64::from(seq));
        for out in receiver.packet(
            &rtp(8, seq.wrapping_add(65_530), u32::from(seq) * 160, 5, &coded),
            at,
        ) {
            frames.push(out);
        }
    }
    for seq in 12u16..15 {
        let end = [5u8, 0x80 | 10, 0x03, 0x20];
        let seq = seq.wrapping_add(65_530);
        assert!(
            receiver
                .packet(&rtp(101, seq, 99, 5, &end), t0)
                .iter()
                .all(|m| !matches!(m, Media::Frame(_)))
        );
    }
    frames.extend(receiver.finish());

    let keys: Vec<_> = frames
        .iter()
        .filter_map(|m| match m {
            Media::Dtmf(d) => Some(d),
            _ => None,
        })
        .collect();
    assert!(
        keys.is_empty(),
        "the press was returned by packet(), not finish()"
    );
    let audio: Vec<i16> = frames
        .iter()
        .filter_map(|m| match m {
            Media::Frame(f) => Some(f),
            _ => None,
        })
        .flat_map(|f| f.samples.clone())
        .collect();
    assert_eq!(audio.len(), 12 * 160);
    let mut expected = Vec::new();
    Law::ALaw.decode(&coded, &mut expected);
    assert_eq!(&audio[..160], &expected[..]);
    assert_eq!(
        receiver.lost(),
        1,
        "sequence numbers wrapped and one was missing"
    );

    assert!(receiver.packet(b"\x00\x01", t0).is_empty());
    assert!(receiver.packet(&rtp(0, 1, 1, 5, &coded), t0).is_empty());
    let (counters, _) = receiver.counters();
    assert_eq!((counters.malformed, counters.unexpected_payload), (1, 1));

    let report = receiver.report(t0 + Duration::from_secs(5)).unwrap();
    assert_eq!(
        (report[0] >> 6, report[0] & 0x1f, report[1]),
        (2, 1, 201),
        "RTCP RR, one block"
    );
    assert_eq!(
        u32::from_be_bytes(report[8..12].try_into().unwrap()),
        5,
        "about the peer's SSRC"
    );
    assert_eq!(
        u32::from_be_bytes(report[12..16].try_into().unwrap()) & 0xff_ffff,
        1,
        "one lost"
    );
}

#[test]
fn a_dtmf_press_is_an_event_whose_debug_hides_the_key() {
    let (t0, mut receiver) = (Instant::now(), RtpReceiver::new(Track::Caller, media(), 99));
    let mut presses = Vec::new();
    for (seq, flags) in [(1u16, 0u8), (2, 0x80), (3, 0x80), (4, 0x80)] {
        presses.extend(receiver.packet(&rtp(101, seq, 800, 5, &[9, flags, 0x03, 0x20]), t0));
    }
    assert_eq!(presses.len(), 1);
    let Media::Dtmf(press) = &presses[0] else {
        panic!()
    };
    assert_eq!((press.event(), press.duration_ms), (9, 100));
    assert!(!format!("{press:?}").contains('9'));
}
