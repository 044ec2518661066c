//! G.711 against the ITU tables and against sox's encoder and decoder, byte for byte.
//!
//! sox (Debian's package, installed by `make deps`) encodes a WAV holding every 16-bit value
//! once, and decodes a raw stream holding every code once; our tables must agree on all of them.
// Test code: a failed unwrap is a failed test, and slices are indexed by what the test built.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;

use diala_media::g711::{Law, alaw, ulaw};
use diala_media::wav::{self, Audio};

fn every_sample() -> Vec<i16> {
    (i16::MIN..=i16::MAX).collect()
}

fn sox(args: &[&str]) {
    let status = Command::new("sox")
        .args(args)
        .status()
        .expect("sox is not installed: run `make deps` (Debian package sox)");
    assert!(status.success(), "sox {args:?} failed: {status}");
}

fn sox_encode(dir: &Path, encoding: &str) -> Vec<u8> {
    let input = dir.join("every-sample.wav");
    let output = dir.join(format!("{encoding}.raw"));
    let file = std::fs::File::create(&input).unwrap();
    wav::write(
        std::io::BufWriter::new(file),
        &Audio::mono(8000, every_sample()),
    )
    .unwrap();

    // -D: no dither, so sox quantises exactly as its G.711 tables say.
    sox(&[
        "-D",
        input.to_str().unwrap(),
        "-t",
        "raw",
        "-e",
        encoding,
        "-b",
        "8",
        output.to_str().unwrap(),
    ]);
    std::fs::read(output).unwrap()
}

fn sox_decode(dir: &Path, encoding: &str) -> Vec<i16> {
    let input = dir.join(format!("codes-{encoding}.raw"));
    let output = dir.join(format!("codes-{encoding}.wav"));
    std::fs::write(&input, (0..=255u8).collect::<Vec<_>>()).unwrap();

    let raw = [
        "-t", "raw", "-r", "8000", "-c", "1", "-e", encoding, "-b", "8",
    ];
    let mut args = vec!["-D"];
    args.extend(raw);
    args.extend([
        input.to_str().unwrap(),
        "-e",
        "signed-integer",
        "-b",
        "16",
        output.to_str().unwrap(),
    ]);
    sox(&args);
    wav::read(std::fs::File::open(output).unwrap())
        .unwrap()
        .to_mono()
}

#[test]
fn mu_law_encoding_matches_sox_for_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let expected = sox_encode(dir.path(), "u-law");

    let mut ours = Vec::new();
    Law::MuLaw.encode(&every_sample(), &mut ours);

    assert_eq!(expected.len(), 65536);
    let differing = ours.iter().zip(&expected).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing, 0,
        "{differing} of 65536 mu-law codes differ from sox"
    );
}

#[test]
fn a_law_encoding_matches_sox_for_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let expected = sox_encode(dir.path(), "a-law");

    let mut ours = Vec::new();
    Law::ALaw.encode(&every_sample(), &mut ours);

    assert_eq!(expected.len(), 65536);
    let differing = ours.iter().zip(&expected).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing, 0,
        "{differing} of 65536 A-law codes differ from sox"
    );
}

#[test]
fn decoding_matches_sox_for_every_code() {
    let dir = tempfile::tempdir().unwrap();
    for (law, encoding) in [(Law::MuLaw, "u-law"), (Law::ALaw, "a-law")] {
        let expected = sox_decode(dir.path(), encoding);
        let mut ours = Vec::new();
        law.decode(&(0..=255u8).collect::<Vec<_>>(), &mut ours);
        assert_eq!(ours, expected, "{encoding} decoding differs from sox");
    }
}

/// Values from the G.711 tables, scaled from 14-bit (mu-law) and 13-bit (A-law) to 16-bit.
#[test]
fn decoder_outputs_are_the_itu_table_values() {
    // mu-law: largest output 8031, smallest non-zero step 2 (14-bit units); code 0xFF is +0.
    assert_eq!(ulaw::decode_sample(0x80), 8031 * 4);
    assert_eq!(ulaw::decode_sample(0x00), -8031 * 4);
    assert_eq!(ulaw::decode_sample(0xFF), 0);
    assert_eq!(ulaw::decode_sample(0x7F), 0);
    assert_eq!(ulaw::decode_sample(0xFE), 2 * 4);
    assert_eq!(ulaw::decode_sample(0xEF), 33 * 4);
    // A-law (even bits inverted on the line): largest output 4032, smallest 1 (13-bit units).
    assert_eq!(alaw::decode_sample(0xAA), 4032 * 8);
    assert_eq!(alaw::decode_sample(0x2A), -4032 * 8);
    assert_eq!(alaw::decode_sample(0xD5), 8);
    assert_eq!(alaw::decode_sample(0x55), -8);
}

#[test]
fn every_code_survives_decode_then_encode() {
    for code in 0..=255u8 {
        // mu-law has two zeros; the negative one re-encodes as the positive one.
        let expected_mu = if code == 0x7F { 0xFF } else { code };
        assert_eq!(
            ulaw::encode_sample(ulaw::decode_sample(code)),
            expected_mu,
            "mu-law {code:#04x}"
        );
        assert_eq!(
            alaw::encode_sample(alaw::decode_sample(code)),
            code,
            "A-law {code:#04x}"
        );
    }
}

#[test]
fn both_laws_are_symmetric_and_monotonic() {
    for code in 0..=127u8 {
        assert_eq!(ulaw::decode_sample(code), -ulaw::decode_sample(code | 0x80));
        assert_eq!(alaw::decode_sample(code ^ 0x80), -alaw::decode_sample(code));
    }
    let mu: Vec<i16> = (0x80..=0xFFu8).rev().map(ulaw::decode_sample).collect();
    assert!(
        mu.windows(2).all(|w| w[0] < w[1]),
        "positive mu-law outputs must rise"
    );
    let mut samples: Vec<i16> = (0..=32767).step_by(7).collect();
    samples.push(i16::MAX);
    let decoded: Vec<i16> = samples
        .iter()
        .map(|&s| alaw::decode_sample(alaw::encode_sample(s)))
        .collect();
    assert!(
        decoded.windows(2).all(|w| w[0] <= w[1]),
        "A-law must preserve order"
    );
}

#[test]
fn a_g711_payload_becomes_a_frame_of_the_call() {
    let mut payload = Vec::new();
    Law::ALaw.encode(&[0, 1000, -1000, 32767], &mut payload);
    let payload: Vec<u8> = payload.iter().copied().cycle().take(160).collect();

    let frame = diala_media::Frame::from_g711(diala_media::Track::Callee, 40, Law::ALaw, &payload);
    assert_eq!(frame.sample_rate, 8000);
    assert_eq!(
        (frame.start_ms, frame.duration_ms(), frame.end_ms()),
        (40, 20, 60)
    );
    assert_eq!(&frame.samples[..4], &[8, 1008, -1008, 32256]);
}
