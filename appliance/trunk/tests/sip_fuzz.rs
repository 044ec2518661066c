//! The parsers that face the network, fed random and mutated input: they must never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

use diala_media::Track;
use diala_media::g711::Law;
use diala_trunk::sip::rtp::RtpReceiver;
use diala_trunk::sip::sdp::{Direction, Negotiated, Offer};
use proptest::prelude::*;

const OFFER: &str = "v=0\r\no=pbx 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n\
m=video 4000 RTP/AVP 96\r\nm=audio 30000 RTP/AVP 9 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n\
a=sendonly\r\n";

#[test]
fn an_offer_with_video_first_is_answered_in_its_shape() {
    let offer = Offer::read(OFFER.as_bytes()).unwrap();
    let agreed = offer.negotiated().unwrap();
    assert_eq!(
        (agreed.law, agreed.payload_type, agreed.dtmf_payload_type),
        (Law::MuLaw, 0, Some(101))
    );
    assert_eq!(agreed.direction, Direction::SendOnly);
    let answer = offer.answer("10.0.0.1:40000".parse().unwrap(), 7, 1);
    let media: Vec<&str> = answer.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        media,
        ["m=video 0 RTP/AVP 96", "m=audio 40000 RTP/AVP 0 101"]
    );
    assert!(answer.contains("a=recvonly"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn sdp_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        cut in 0usize..OFFER.len(),
        flips in proptest::collection::vec((0usize..OFFER.len(), any::<u8>()), 0..6),
    ) {
        if let Ok(offer) = Offer::read(&bytes) {
            let _ = offer.answer("127.0.0.1:1".parse().unwrap(), 1, 1);
        }
        let mut mutated = OFFER.as_bytes().to_vec();
        for (at, byte) in flips {
            mutated[at] = byte;
        }
        mutated.truncate(cut);
        if let Ok(offer) = Offer::read(&mutated) {
            let _ = offer.negotiated();
            let _ = offer.answer("127.0.0.1:1".parse().unwrap(), 1, 1);
        }
    }

    #[test]
    fn rtp_and_rtcp_never_panic(packets in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..300), 1..20)
    ) {
        let media = Negotiated {
            law: Law::MuLaw,
            payload_type: 0,
            dtmf_payload_type: Some(101),
            remote: "127.0.0.1:1".parse().unwrap(),
            direction: Direction::SendRecv,
        };
        let mut receiver = RtpReceiver::new(Track::Caller, media, 1);
        let now = Instant::now();
        for mut packet in packets {
            receiver.rtcp(&packet, now);
            if packet.len() > 2 {
                // Mostly version 2, payload 0 or 101, so the packets reach the jitter buffer.
                packet[0] = (packet[0] & 0x3f) | 0x80;
                packet[1] = if packet[1] & 1 == 0 { 0 } else { 101 };
            }
            let _ = receiver.packet(&packet, now);
        }
        let _ = receiver.finish();
        let _ = receiver.report(now);
    }
}
