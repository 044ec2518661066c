//! The SIP parser on real-looking messages, broken ones and random bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diala_trunk::sip::header::{cseq, tag, top_via, uri_user, via_branch, via_sent_by};
use diala_trunk::sip::{Message, Method, ParseError, parse};
use proptest::prelude::*;

const INVITE: &str = "INVITE sip:+15551230000@10.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-1;rport\r\n\
v: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bK-0\r\n\
Max-Forwards: 70\r\n\
From: \"Caller\" <sip:+15550001111@10.0.0.9>;tag=abc\r\n\
t: <sip:+15551230000@10.0.0.1>\r\n\
i: call-1@10.0.0.9\r\n\
CSeq: 1 INVITE\r\n\
Subject: a folded\r\n  header line\r\n\
Content-Type: application/sdp\r\n\
l: 4\r\n\
\r\n\
v=0\r\nextra";

#[test]
fn an_invite_is_read_with_compact_and_folded_headers() {
    let Message::Request(req) = parse(INVITE.as_bytes()).unwrap() else {
        panic!("not a request");
    };
    assert_eq!(req.method, Method::Invite);
    assert_eq!(uri_user(&req.uri), Some("+15551230000"));
    assert_eq!(req.headers.all("Via").count(), 2);
    let via = top_via(&req.headers).unwrap();
    assert_eq!(via_branch(via), Some("z9hG4bK-1"));
    assert_eq!(via_sent_by(via), Some("10.0.0.9:5060"));
    assert_eq!(tag(req.headers.get("from").unwrap()), Some("abc"));
    assert_eq!(tag(req.headers.get("To").unwrap()), None);
    assert_eq!(req.headers.get("Call-ID"), Some("call-1@10.0.0.9"));
    assert_eq!(cseq(&req.headers), Some((1, Method::Invite)));
    assert_eq!(req.headers.get("Subject"), Some("a folded header line"));
    // Content-Length cuts what follows on a datagram.
    assert_eq!(req.body, b"v=0\r");
}

#[test]
fn a_written_request_reads_back_the_same() {
    let Message::Request(req) = parse(INVITE.as_bytes()).unwrap() else {
        panic!("not a request");
    };
    let again = parse(&req.to_bytes()).unwrap();
    assert_eq!(again, Message::Request(req));
}

#[test]
fn a_response_is_read() {
    let raw = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\n\r\n";
    let Message::Response(resp) = parse(raw.as_bytes()).unwrap() else {
        panic!("not a response");
    };
    assert_eq!((resp.status, resp.reason.as_str()), (180, "Ringing"));
}

fn malformed_reason(raw: &str) -> &'static str {
    match parse(raw.as_bytes()) {
        Err(ParseError::Malformed { reason, .. }) => reason,
        other => panic!("expected malformed, got {other:?}"),
    }
}

#[test]
fn broken_requests_are_malformed_with_their_head_kept() {
    let base = "OPTIONS sip:edge@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
                From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\n";
    let no_cseq = format!("{base}\r\n");
    assert!(malformed_reason(&no_cseq).contains("mandatory"));
    let bad_cseq = format!("{base}CSeq: one OPTIONS\r\n\r\n");
    assert!(malformed_reason(&bad_cseq).contains("CSeq"));
    let wrong_method = format!("{base}CSeq: 1 INVITE\r\n\r\n");
    assert!(malformed_reason(&wrong_method).contains("differs"));
    let short_body = format!("{base}CSeq: 1 OPTIONS\r\nContent-Length: 99\r\n\r\nabc");
    assert!(malformed_reason(&short_body).contains("shorter"));
    let bad_length = format!("{base}CSeq: 1 OPTIONS\r\nContent-Length: -1\r\n\r\n");
    assert!(malformed_reason(&bad_length).contains("not a number"));
    let bad_line = format!("{base}this line has no colon\r\nCSeq: 1 OPTIONS\r\n\r\n");
    match parse(bad_line.as_bytes()) {
        Err(ParseError::Malformed { head, .. }) => {
            assert_eq!(head.headers.get("Call-ID"), Some("x"));
        }
        other => panic!("expected malformed, got {other:?}"),
    }
}

#[test]
fn what_is_not_sip_is_garbage_and_newlines_are_keepalives() {
    for raw in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"\x80\x00\x12\x34garbage",
        b"INVITE sip:x SIP/3.0\r\n\r\n",
        b"SIP/2.0 99 Too Low\r\n\r\n",
        b"hello",
    ] {
        assert!(matches!(parse(raw), Err(ParseError::Garbage(_))), "{raw:?}");
    }
    assert!(matches!(parse(b"\r\n\r\n"), Err(ParseError::Keepalive)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn mutated_invites_never_panic(
        cut in 0usize..INVITE.len(),
        flips in proptest::collection::vec((0usize..INVITE.len(), any::<u8>()), 0..8),
    ) {
        let mut bytes = INVITE.as_bytes().to_vec();
        for (at, byte) in flips {
            bytes[at] = byte;
        }
        bytes.truncate(cut);
        if let Ok(message) = parse(&bytes) {
            // Whatever parses writes back to something that parses to the same message.
            let written = match &message {
                Message::Request(r) => r.to_bytes(),
                Message::Response(r) => r.to_bytes(),
            };
            prop_assert_eq!(parse(&written).unwrap(), message);
        }
    }
}
