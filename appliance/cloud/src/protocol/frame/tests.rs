#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::protocol::{Ack, ControlMessage, PROTOCOL_VERSION, Welcome};

#[test]
fn a_message_survives_encoding_and_decoding() {
    let message = ControlMessage::Ack(Ack {
        batch: 7,
        applied: 3,
        duplicates: 1,
    });
    let frame = encode(&message).unwrap();
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap());
    assert_eq!(len as usize, frame.len() - 4);
    assert_eq!(
        decode::<ControlMessage>(&frame[4..]).unwrap(),
        Decoded::Known(message)
    );
}

#[test]
fn an_unknown_type_is_skipped_and_unknown_fields_are_ignored() {
    let later = br#"{"type":"firmware-offer","url":"x"}"#;
    assert_eq!(
        decode::<ControlMessage>(later).unwrap(),
        Decoded::Unknown("firmware-offer".to_owned())
    );
    let richer = br#"{"type":"welcome","protocol":1,"max_batch":5,"window":2,"region":"eu"}"#;
    let expected = ControlMessage::Welcome(Welcome {
        protocol: PROTOCOL_VERSION,
        max_batch: 5,
        window: 2,
    });
    assert_eq!(
        decode::<ControlMessage>(richer).unwrap(),
        Decoded::Known(expected)
    );
}

#[test]
fn a_known_type_with_bad_fields_or_no_type_is_malformed() {
    let bad = br#"{"type":"ack","batch":"seven"}"#;
    assert!(matches!(
        decode::<ControlMessage>(bad),
        Err(FrameError::Malformed { kind, .. }) if kind == "ack"
    ));
    assert!(decode::<ControlMessage>(b"[1,2]").is_err());
    assert!(decode::<ControlMessage>(b"not json").is_err());
}

#[tokio::test]
async fn an_oversized_frame_is_refused_before_it_is_read() {
    let mut wire: &[u8] = &[0x00, 0x20, 0x00, 0x00, b'{'];
    assert!(matches!(
        read_frame(&mut wire).await,
        Err(FrameError::TooLarge(0x20_0000))
    ));
}

#[tokio::test]
async fn frames_are_read_back_in_order_then_end() {
    let mut wire = Vec::new();
    for batch in 1..=3 {
        let ack = ControlMessage::Ack(Ack {
            batch,
            applied: 1,
            duplicates: 0,
        });
        write_message(&mut wire, &ack).await.unwrap();
    }
    let mut reader = wire.as_slice();
    for batch in 1..=3 {
        let got = read_message::<ControlMessage, _>(&mut reader)
            .await
            .unwrap();
        assert!(matches!(got, Some(Decoded::Known(ControlMessage::Ack(a))) if a.batch == batch));
    }
    assert!(
        read_message::<ControlMessage, _>(&mut reader)
            .await
            .unwrap()
            .is_none()
    );
}
