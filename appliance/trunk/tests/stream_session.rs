//! A verified stream driven message by message as Twilio sends it: audio only between start
//! and stop, only for the call the token was issued for, gaps counted, bad frames end it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use diala_trunk::twilio::stream_message::StreamTrack;
use diala_trunk::twilio::stream_session::SessionError;
use diala_trunk::twilio::{SessionEvent, StreamSession};
use support::{ACME, CALL, GLOBEX, TwilioStream, open_stream, trunk};

fn session() -> StreamSession {
    StreamSession::new(open_stream(&mut trunk(), ACME, "acme-new"))
}

#[test]
fn a_call_streams_both_tracks_until_stop() {
    let mut session = session();
    let mut twilio = TwilioStream::new(ACME, CALL);
    assert_eq!(
        session.on_text(&twilio.connected()).unwrap(),
        SessionEvent::Nothing
    );
    let started = session
        .on_text(&twilio.start(&["inbound", "outbound"]))
        .unwrap();
    let expected = vec![StreamTrack::Inbound, StreamTrack::Outbound];
    assert_eq!(
        started,
        SessionEvent::Started {
            stream_sid: "MZ1".into(),
            tracks: expected
        }
    );

    let mut audio = Vec::new();
    for chunk in 1..=3 {
        for track in ["inbound", "outbound"] {
            match session
                .on_text(&twilio.media(track, chunk, &[0xff; 160]))
                .unwrap()
            {
                SessionEvent::Audio(media) => audio.push((media.track, media.payload.len())),
                other => panic!("expected audio, got {other:?}"),
            }
        }
    }
    assert_eq!(audio.len(), 6);
    assert!(audio.iter().all(|(_, len)| *len == 160));
    assert_eq!(
        session.on_text(&twilio.stop()).unwrap(),
        SessionEvent::Stopped
    );
    assert!(session.is_stopped());
    assert_eq!(session.stream().tenant(), "acme");
    assert_eq!(session.sequence().gaps, 0);
}

#[test]
fn lost_and_duplicated_messages_are_counted_not_fed_twice() {
    let mut session = session();
    let mut twilio = TwilioStream::new(ACME, CALL);
    session.on_text(&twilio.start(&["inbound"])).unwrap();
    let first = twilio.media("inbound", 1, &[1; 160]);
    assert!(matches!(
        session.on_text(&first).unwrap(),
        SessionEvent::Audio(_)
    ));
    assert_eq!(session.on_text(&first).unwrap(), SessionEvent::Nothing);
    twilio.lose(4);
    assert!(matches!(
        session
            .on_text(&twilio.media("inbound", 6, &[1; 160]))
            .unwrap(),
        SessionEvent::Audio(_)
    ));
    let counts = session.sequence();
    assert_eq!((counts.gaps, counts.missing, counts.stale), (1, 4, 1));
}

#[test]
fn a_token_cannot_carry_another_call() {
    let mut session = session();
    let mut other_call = TwilioStream::new(ACME, "CA00000000000000000000000000000bad");
    let err = session
        .on_text(&other_call.start(&["inbound"]))
        .unwrap_err();
    assert_eq!(err, SessionError::CallMismatch);
    let mut other_account = TwilioStream::new(GLOBEX, CALL);
    let err = session
        .on_text(&other_account.start(&["inbound"]))
        .unwrap_err();
    assert_eq!(err, SessionError::CallMismatch);
}

#[test]
fn audio_out_of_place_ends_the_stream() {
    let mut twilio = TwilioStream::new(ACME, CALL);
    let early = twilio.media("inbound", 1, &[0; 160]);
    assert!(matches!(
        session().on_text(&early),
        Err(SessionError::OutOfPlace(_))
    ));

    let mut session = session();
    let mut twilio = TwilioStream::new(ACME, CALL);
    session.on_text(&twilio.start(&["inbound"])).unwrap();
    let outbound = twilio.media("outbound", 1, &[0; 160]);
    assert_eq!(
        session.on_text(&outbound),
        Err(SessionError::UnannouncedTrack)
    );
    session.on_text(&twilio.stop()).unwrap();
    let late = twilio.media("inbound", 2, &[0; 160]);
    assert!(matches!(
        session.on_text(&late),
        Err(SessionError::OutOfPlace(_))
    ));
    assert!(matches!(
        session.on_text("{not json"),
        Err(SessionError::Message(_))
    ));
}
