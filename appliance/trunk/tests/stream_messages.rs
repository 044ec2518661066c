//! The Media Streams parser on messages shaped like Twilio's, on every kind of bad input, and
//! under random and mutated input, which must never make it panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diala_trunk::twilio::sequence::{SequenceCounter, Sequenced};
use diala_trunk::twilio::stream_message::{
    MessageError, StreamEvent, StreamTrack, outbound_clear, outbound_mark, outbound_media, parse,
};
use proptest::prelude::*;

const START: &str = r#"{"event":"start","sequenceNumber":"1","start":{
    "accountSid":"AC0001","streamSid":"MZ0001","callSid":"CA0001",
    "tracks":["inbound","outbound"],
    "customParameters":{"campaign":"spring"},
    "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},
    "streamSid":"MZ0001"}"#;

fn media(seq: u64, track: &str, payload: &str) -> String {
    format!(
        r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"MZ0001","media":{{
            "track":"{track}","chunk":"{seq}","timestamp":"{ts}","payload":"{payload}"}}}}"#,
        ts = seq * 20
    )
}

#[test]
fn a_whole_stream_parses_in_order() {
    let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
    assert_eq!(parse(connected).unwrap(), StreamEvent::Connected);

    let StreamEvent::Start { sequence: 1, start } = parse(START).unwrap() else {
        panic!()
    };
    assert_eq!(
        (start.call_sid.as_str(), start.stream_sid.as_str()),
        ("CA0001", "MZ0001")
    );
    assert_eq!(start.tracks, [StreamTrack::Inbound, StreamTrack::Outbound]);
    assert_eq!(
        start.custom_parameters,
        [("campaign".to_owned(), "spring".to_owned())]
    );

    let StreamEvent::Media { sequence: 2, media } =
        parse(&media(2, "outbound", "/39/fw==")).unwrap()
    else {
        panic!()
    };
    assert_eq!(media.track, StreamTrack::Outbound);
    assert_eq!((media.chunk, media.timestamp_ms), (2, 40));
    assert_eq!(media.payload, [0xff, 0x7f, 0x7f, 0x7f]);

    let dtmf = r##"{"event":"dtmf","streamSid":"MZ0001","sequenceNumber":"3",
        "dtmf":{"track":"inbound_track","digit":"#"}}"##;
    let expected = StreamEvent::Dtmf {
        sequence: 3,
        track: StreamTrack::Inbound,
        digit: '#',
    };
    assert_eq!(parse(dtmf).unwrap(), expected);

    let mark = r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ0001","mark":{"name":"m1"}}"#;
    assert_eq!(
        parse(mark).unwrap(),
        StreamEvent::Mark {
            sequence: 4,
            name: "m1".into()
        }
    );

    let stop = r#"{"event":"stop","sequenceNumber":"5","streamSid":"MZ0001",
        "stop":{"accountSid":"AC0001","callSid":"CA0001"}}"#;
    assert_eq!(parse(stop).unwrap(), StreamEvent::Stop { sequence: 5 });
}

#[test]
fn bad_messages_get_the_error_that_names_what_is_wrong() {
    let malformed = |text: &str| matches!(parse(text), Err(MessageError::Malformed { .. }));
    assert!(malformed(""));
    assert!(malformed("{"));
    assert!(malformed(r#"{"event":"dance","sequenceNumber":"1"}"#));
    assert!(malformed(r#"{"event":"media","sequenceNumber":"2"}"#));
    assert!(malformed(r#"[1,2,3]"#));

    assert_eq!(
        parse(&media(2, "sideways", "AA==")),
        Err(MessageError::BadTrack)
    );
    assert_eq!(
        parse(&media(2, "inbound", "not base64!")),
        Err(MessageError::BadPayload)
    );
    assert_eq!(
        parse(&media(2, "inbound", &"A".repeat(20_000))),
        Err(MessageError::BadPayload)
    );
    let bad_seq = media(2, "inbound", "AA==").replace("\"2\"", "\"-2\"");
    assert_eq!(
        parse(&bad_seq),
        Err(MessageError::BadNumber("sequenceNumber"))
    );
    let alaw = START.replace("audio/x-mulaw", "audio/x-alaw");
    assert_eq!(parse(&alaw), Err(MessageError::UnsupportedFormat));
    let dtmf = r#"{"event":"dtmf","streamSid":"M","sequenceNumber":"3",
        "dtmf":{"track":"inbound_track","digit":"12"}}"#;
    assert_eq!(parse(dtmf), Err(MessageError::BadDigit));
    let huge = format!(
        "{{\"event\":\"connected\",\"x\":\"{}\"}}",
        "a".repeat(70_000)
    );
    assert!(matches!(parse(&huge), Err(MessageError::TooLarge(_))));
}

#[test]
fn what_we_send_back_is_what_twilio_expects() {
    let sent: serde_json::Value = serde_json::from_str(&outbound_media("MZ1", &[0xff, 0])).unwrap();
    assert_eq!(sent["event"], "media");
    assert_eq!(sent["streamSid"], "MZ1");
    assert_eq!(sent["media"]["payload"], "/wA=");
    let mark: serde_json::Value = serde_json::from_str(&outbound_mark("MZ1", "end\"1")).unwrap();
    assert_eq!(mark["mark"]["name"], "end\"1");
    let clear: serde_json::Value = serde_json::from_str(&outbound_clear("MZ1")).unwrap();
    assert_eq!(
        clear,
        serde_json::json!({"event": "clear", "streamSid": "MZ1"})
    );
}

#[test]
fn a_stream_with_lost_messages_is_counted() {
    let mut counter = SequenceCounter::new();
    for seq in [1, 2, 3, 7, 8, 8] {
        let event = parse(&media(seq, "inbound", "AA==")).unwrap();
        counter.observe(event.sequence().unwrap());
    }
    assert_eq!((counter.gaps, counter.missing, counter.stale), (1, 3, 1));
    assert_eq!(counter.observe(9), Sequenced::InOrder);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_text_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn mangled_messages_never_panic(
        which in 0usize..3,
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let base = [START.to_owned(), media(9, "inbound", "/39/fw=="), outbound_mark("MZ", "m")];
        let mut bytes = base[which].clone().into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn any_payload_survives_the_round_trip(payload in prop::collection::vec(any::<u8>(), 0..400)) {
        use base64::Engine as _;
        let text = media(4, "inbound", &base64::engine::general_purpose::STANDARD.encode(&payload));
        let StreamEvent::Media { media, .. } = parse(&text).unwrap() else { panic!() };
        prop_assert_eq!(media.payload, payload);
    }
}
