//! WAV files: what we write reads back the same, other tools' formats read, bad files are refused.

// Test code: a failed unwrap is a failed test, and slices are indexed by what the test built.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Cursor;

use diala_media::wav::{self, Audio, WavError};

fn written(audio: &Audio) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    wav::write(&mut bytes, audio).unwrap();
    bytes.into_inner()
}

#[test]
fn mono_and_stereo_at_telephone_and_speech_rates_read_back_unchanged() {
    let ramp: Vec<i16> = (0..4000).map(|n| (n * 17 % 65536 - 32768) as i16).collect();
    let reversed: Vec<i16> = ramp.iter().rev().copied().collect();
    for rate in [8000, 16_000, 22_050, 48_000] {
        for audio in [
            Audio::mono(rate, ramp.clone()),
            Audio {
                sample_rate: rate,
                channels: vec![ramp.clone(), reversed.clone()],
            },
        ] {
            let bytes = written(&audio);
            assert_eq!(&bytes[..4], b"RIFF");
            assert_eq!(wav::read(Cursor::new(bytes)).unwrap(), audio);
        }
    }
}

#[test]
fn stereo_mixes_down_to_the_average() {
    let audio = Audio {
        sample_rate: 8000,
        channels: vec![vec![100, -32768, 7], vec![300, -32768, -8]],
    };
    assert_eq!(audio.to_mono(), vec![200, -32768, 0]);
    assert_eq!(Audio::mono(8000, vec![0; 8000]).duration_ms(), 1000);
}

#[test]
fn eight_bit_twenty_four_bit_and_float_files_read_as_sixteen_bit() {
    let cases: [(u16, hound::SampleFormat); 3] = [
        (8, hound::SampleFormat::Int),
        (24, hound::SampleFormat::Int),
        (32, hound::SampleFormat::Float),
    ];
    for (bits, format) in cases {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut bytes = Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
        match (bits, format) {
            (8, _) => [-128i8, 0, 64]
                .iter()
                .for_each(|&s| writer.write_sample(s).unwrap()),
            (24, _) => [-8_388_608i32, 0, 4_194_304]
                .iter()
                .for_each(|&s| writer.write_sample(s).unwrap()),
            _ => [-1.0f32, 0.0, 0.5]
                .iter()
                .for_each(|&s| writer.write_sample(s).unwrap()),
        }
        writer.finalize().unwrap();
        let audio = wav::read(Cursor::new(bytes.into_inner())).unwrap();
        assert_eq!(
            audio.channels,
            vec![vec![-32768, 0, 16384]],
            "{bits}-bit {format:?}"
        );
    }
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    let err = wav::read(Cursor::new(b"not a wav file at all".to_vec())).unwrap_err();
    assert!(matches!(err, WavError::Format(_)), "{err}");
    assert!(err.to_string().contains("RIFF/WAVE"), "{err}");

    let truncated = &written(&Audio::mono(8000, vec![1; 100]))[..30];
    assert!(wav::read(Cursor::new(truncated.to_vec())).is_err());

    let spec = hound::WavSpec {
        channels: 3,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut bytes, spec).unwrap();
    (0..3).for_each(|_| writer.write_sample(0i16).unwrap());
    writer.finalize().unwrap();
    assert!(matches!(
        wav::read(Cursor::new(bytes.into_inner())),
        Err(WavError::Channels(3))
    ));
}

#[test]
fn writing_refuses_what_a_wav_cannot_hold() {
    let mut sink = Cursor::new(Vec::new());
    let none = Audio {
        sample_rate: 8000,
        channels: vec![],
    };
    assert!(matches!(
        wav::write(&mut sink, &none),
        Err(WavError::NoChannels)
    ));
    let uneven = Audio {
        sample_rate: 8000,
        channels: vec![vec![0; 3], vec![0; 2]],
    };
    assert!(matches!(
        wav::write(&mut sink, &uneven),
        Err(WavError::UnequalChannels(3, 2))
    ));
    let three = Audio {
        sample_rate: 8000,
        channels: vec![vec![0]; 3],
    };
    assert!(matches!(
        wav::write(&mut sink, &three),
        Err(WavError::Channels(3))
    ));
}
