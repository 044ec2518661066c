//! The SIP user agent server core on explicit time: every exchange a trunk has with it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use diala_trunk::sip::config::{NumberConfig, TrunkConfig};
use diala_trunk::sip::sdp::Direction;
use diala_trunk::sip::{CoreEvent, EndReason, Message, SipConfig, SipCore, Trunks, parse};

const PBX: &str = "10.1.2.3:5060";
const EDGE: &str = "10.1.2.1:5060";
const MEDIA: &str = "10.1.2.1:40000";

fn config(max_calls: usize, trunk_max: Option<usize>) -> SipConfig {
    SipConfig {
        listen: EDGE.parse().unwrap(),
        media_address: "10.1.2.1".parse().unwrap(),
        max_calls,
        retry_after_secs: 17,
        trunks: vec![TrunkConfig {
            name: "pbx".into(),
            sources: vec!["10.1.2.0/24".parse().unwrap()],
            max_calls: trunk_max,
            digest: None,
            numbers: vec![NumberConfig {
                number: "+1 (555) 123-0000".into(),
                tenant: "acme".into(),
            }],
        }],
    }
}

fn core_with(max_calls: usize, trunk_max: Option<usize>) -> SipCore {
    let config = config(max_calls, trunk_max);
    let trunks = Trunks::from_config(&config, &Default::default()).unwrap();
    SipCore::new(
        &config,
        trunks,
        EDGE.parse().unwrap(),
        [7; 32],
        Instant::now(),
    )
}

fn sdp(codecs: &str, direction: &str) -> String {
    format!(
        "v=0\r\no=pbx 1 1 IN IP4 10.1.2.3\r\ns=-\r\nc=IN IP4 10.1.2.3\r\nt=0 0\r\n\
         m=audio 30000 RTP/AVP {codecs}\r\na=rtpmap:101 telephone-event/8000\r\n\
         a=rtpmap:9 G722/8000\r\na={direction}\r\n"
    )
}

struct Req<'a> {
    method: &'a str,
    branch: &'a str,
    to_tag: Option<&'a str>,
    cseq: u32,
    body: String,
    user: &'a str,
}

impl Req<'_> {
    fn bytes(&self) -> Vec<u8> {
        let to_tag = self.to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        let cseq_method = self.method;
        let content_type = if self.body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{} sip:{}@10.1.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.2.3:5060;branch={}\r\n\
             From: <sip:caller@10.1.2.3>;tag=pbx1\r\nTo: <sip:{}@10.1.2.1>{to_tag}\r\n\
             Call-ID: c1@pbx\r\nCSeq: {} {cseq_method}\r\nMax-Forwards: 70\r\n{content_type}\
             Content-Length: {}\r\n\r\n{}",
            self.method,
            self.user,
            self.branch,
            self.user,
            self.cseq,
            self.body.len(),
            self.body
        )
        .into_bytes()
    }
}

fn invite(branch: &str) -> Req<'_> {
    Req {
        method: "INVITE",
        branch,
        to_tag: None,
        cseq: 1,
        body: sdp("9 8 0 101", "sendrecv"),
        user: "+15551230000",
    }
}

fn in_dialog<'a>(method: &'a str, branch: &'a str, to_tag: &'a str, cseq: u32) -> Req<'a> {
    Req {
        method,
        branch,
        to_tag: Some(to_tag),
        cseq,
        body: String::new(),
        user: "+15551230000",
    }
}

fn sent(core: &mut SipCore) -> Vec<(SocketAddr, u16, String)> {
    std::iter::from_fn(|| core.poll_transmit())
        .map(|t| match parse(&t.bytes).unwrap() {
            Message::Response(r) => {
                let text = String::from_utf8(t.bytes.clone()).unwrap();
                (t.to, r.status, text)
            }
            Message::Request(_) => panic!("the UAS sent a request"),
        })
        .collect()
}

fn statuses(core: &mut SipCore) -> Vec<u16> {
    sent(core).into_iter().map(|(_, s, _)| s).collect()
}

fn to_tag(text: &str) -> String {
    let to = text.lines().find(|l| l.starts_with("To:")).unwrap();
    to.split(";tag=").nth(1).unwrap().trim().to_owned()
}

/// An accepted, acknowledged call; returns its id and our tag.
fn call_up(core: &mut SipCore, t0: Instant) -> (diala_trunk::sip::CallId, String) {
    let pbx: SocketAddr = PBX.parse().unwrap();
    core.handle_datagram(pbx, &invite("z9hG4bK-inv").bytes(), t0);
    assert_eq!(statuses(core), [100]);
    let Some(CoreEvent::Offered {
        call,
        tenant,
        trunk,
        media,
    }) = core.poll_event()
    else {
        panic!("no offer");
    };
    assert_eq!((tenant.as_str(), trunk.as_str()), ("acme", "pbx"));
    assert_eq!(
        (media.payload_type, media.dtmf_payload_type),
        (8, Some(101))
    );
    assert_eq!(media.remote, "10.1.2.3:30000".parse().unwrap());

    core.accept(call, MEDIA.parse().unwrap(), t0).unwrap();
    let ok = sent(core);
    assert_eq!(ok.len(), 1);
    let (to, status, text) = &ok[0];
    assert_eq!((*to, *status), (pbx, 200));
    assert!(text.contains("m=audio 40000 RTP/AVP 8 101\r\n"), "{text}");
    assert!(text.contains("a=recvonly"), "{text}");
    let tag = to_tag(text);
    core.handle_datagram(pbx, &in_dialog("ACK", "z9hG4bK-ack", &tag, 1).bytes(), t0);
    (call, tag)
}

#[test]
fn a_call_is_offered_answered_acknowledged_and_hung_up() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    let (call, tag) = call_up(&mut core, t0);
    // The ACK stopped the 2xx retransmissions.
    core.handle_timeout(t0 + Duration::from_secs(10));
    assert!(statuses(&mut core).is_empty());

    core.handle_datagram(pbx, &in_dialog("BYE", "z9hG4bK-bye", &tag, 2).bytes(), t0);
    assert_eq!(statuses(&mut core), [200]);
    assert_eq!(
        core.poll_event(),
        Some(CoreEvent::Ended {
            call,
            reason: EndReason::Hangup
        })
    );
    // A retransmitted BYE gets the same answer from its transaction; a new one gets 481.
    core.handle_datagram(pbx, &in_dialog("BYE", "z9hG4bK-bye", &tag, 2).bytes(), t0);
    assert_eq!(statuses(&mut core), [200]);
    core.handle_datagram(pbx, &in_dialog("BYE", "z9hG4bK-bye2", &tag, 3).bytes(), t0);
    assert_eq!(statuses(&mut core), [481]);
    assert_eq!(core.calls(), 0);
}

#[test]
fn the_2xx_is_retransmitted_until_the_ack_then_the_call_ends() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    core.handle_datagram(pbx, &invite("z9hG4bK-inv").bytes(), t0);
    let Some(CoreEvent::Offered { call, .. }) = core.poll_event() else {
        panic!()
    };
    core.accept(call, MEDIA.parse().unwrap(), t0).unwrap();
    sent(&mut core);

    // T1, then doubling to T2: 0.5, 1.5, 3.5, 7.5, 11.5, ... seconds after the first send.
    let mut at = Vec::new();
    let mut now = t0;
    while now < t0 + Duration::from_secs(40) {
        now = core.poll_timeout().unwrap();
        core.handle_timeout(now);
        if !statuses(&mut core).is_empty() {
            at.push((now - t0).as_millis());
        }
        if core.calls() == 0 {
            break;
        }
    }
    assert_eq!(at[..5], [500, 1500, 3500, 7500, 11500]);
    assert_eq!((now - t0).as_millis(), 32_000, "given up at 64*T1");
    assert_eq!(
        core.poll_event(),
        Some(CoreEvent::Ended {
            call,
            reason: EndReason::NoAck
        })
    );
}

#[test]
fn a_retransmitted_invite_gets_the_provisional_again_and_no_second_call() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    core.handle_datagram(pbx, &invite("z9hG4bK-inv").bytes(), t0);
    core.handle_datagram(pbx, &invite("z9hG4bK-inv").bytes(), t0);
    assert_eq!(statuses(&mut core), [100, 100]);
    assert!(matches!(core.poll_event(), Some(CoreEvent::Offered { .. })));
    assert_eq!(core.poll_event(), None);
}

#[test]
fn cancel_terminates_the_invite_with_487_which_is_retransmitted_until_acknowledged() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    core.handle_datagram(pbx, &invite("z9hG4bK-inv").bytes(), t0);
    let Some(CoreEvent::Offered { call, .. }) = core.poll_event() else {
        panic!()
    };
    sent(&mut core);

    let mut cancel = invite("z9hG4bK-inv");
    cancel.method = "CANCEL";
    cancel.body = String::new();
    core.handle_datagram(pbx, &cancel.bytes(), t0);
    assert_eq!(statuses(&mut core), [200, 487]);
    assert_eq!(
        core.poll_event(),
        Some(CoreEvent::Ended {
            call,
            reason: EndReason::Cancelled
        })
    );
    assert!(core.accept(call, MEDIA.parse().unwrap(), t0).is_err());

    // Timer G resends the 487 at T1; the ACK (same branch) stops it.
    core.handle_timeout(t0 + Duration::from_millis(500));
    assert_eq!(statuses(&mut core), [487]);
    let mut ack = invite("z9hG4bK-inv");
    ack.method = "ACK";
    ack.body = String::new();
    core.handle_datagram(pbx, &ack.bytes(), t0 + Duration::from_millis(600));
    core.handle_timeout(t0 + Duration::from_secs(10));
    assert!(statuses(&mut core).is_empty());
    assert_eq!(core.counters().unacknowledged, 0);
}

#[test]
fn an_unacknowledged_final_answer_stops_at_timer_h_and_is_counted() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    let mut g722 = invite("z9hG4bK-g722");
    g722.body = sdp("9", "sendrecv");
    core.handle_datagram(pbx, &g722.bytes(), t0);
    assert_eq!(statuses(&mut core), [488]);
    let mut resent = 0;
    while let Some(at) = core.poll_timeout() {
        core.handle_timeout(at);
        resent += statuses(&mut core).len();
    }
    // G at 0.5, 1.5, 3.5, 7.5, then every T2 until H at 32 s: 11.5 ... 31.5.
    assert_eq!(resent, 4 + 6);
    assert_eq!(core.counters().unacknowledged, 1);
}

#[test]
fn limits_refuse_with_503_and_retry_after_or_486() {
    let (t0, pbx) = (Instant::now(), PBX.parse().unwrap());
    let mut core = core_with(1, None);
    core.handle_datagram(pbx, &invite("z9hG4bK-1").bytes(), t0);
    core.handle_datagram(pbx, &invite("z9hG4bK-2").bytes(), t0);
    let replies = sent(&mut core);
    assert_eq!(replies[1].1, 503);
    assert!(replies[1].2.contains("Retry-After: 17\r\n"));

    let mut core = core_with(8, Some(1));
    core.handle_datagram(pbx, &invite("z9hG4bK-1").bytes(), t0);
    core.handle_datagram(pbx, &invite("z9hG4bK-2").bytes(), t0);
    assert_eq!(statuses(&mut core), [100, 486]);
    assert_eq!(core.counters().over_limit, 1);
}

#[test]
fn hold_and_resume_by_reinvite() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    let (call, tag) = call_up(&mut core, t0);
    core.poll_event();

    for (cseq, direction, answer, hold) in [
        (2, "sendonly", "recvonly", true),
        (3, "inactive", "inactive", true),
        (4, "sendrecv", "recvonly", false),
    ] {
        let branch = format!("z9hG4bK-re{cseq}");
        let mut reinvite = in_dialog("INVITE", &branch, &tag, cseq);
        reinvite.body = sdp("0 101", direction);
        core.handle_datagram(pbx, &reinvite.bytes(), t0);
        let ok = sent(&mut core);
        assert_eq!(ok[0].1, 200);
        assert!(ok[0].2.contains(&format!("a={answer}")), "{}", ok[0].2);
        assert!(
            ok[0].2.contains(&format!("o=diala-edge 1 {cseq} IN IP4")),
            "{}",
            ok[0].2
        );
        let Some(CoreEvent::MediaChanged { call: c, media }) = core.poll_event() else {
            panic!()
        };
        assert_eq!((c, media.payload_type, media.is_hold()), (call, 0, hold));
        assert_eq!(media.direction == Direction::SendRecv, !hold);
        let ack_branch = format!("z9hG4bK-ack{cseq}");
        core.handle_datagram(pbx, &in_dialog("ACK", &ack_branch, &tag, cseq).bytes(), t0);
    }
    // A re-INVITE for a dialog that does not exist.
    core.handle_datagram(
        pbx,
        &in_dialog("INVITE", "z9hG4bK-x", "nope", 9).bytes(),
        t0,
    );
    assert_eq!(statuses(&mut core), [481]);
}

#[test]
fn options_get_200_other_methods_405_and_unknown_numbers_404() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    let mut options = invite("z9hG4bK-opt");
    (options.method, options.body) = ("OPTIONS", String::new());
    core.handle_datagram(pbx, &options.bytes(), t0);
    let replies = sent(&mut core);
    assert_eq!(replies[0].1, 200);
    assert!(
        replies[0]
            .2
            .contains("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS")
    );
    // Its transaction answers a retransmission until Timer J (64*T1), then forgets it.
    core.handle_datagram(pbx, &options.bytes(), t0 + Duration::from_secs(31));
    assert_eq!(statuses(&mut core), [200]);
    core.handle_timeout(t0 + Duration::from_secs(32));
    core.handle_datagram(pbx, &options.bytes(), t0 + Duration::from_secs(33));
    assert_eq!(statuses(&mut core), [200]);

    let mut info = invite("z9hG4bK-info");
    (info.method, info.body) = ("INFO", String::new());
    core.handle_datagram(pbx, &info.bytes(), t0);
    assert_eq!(statuses(&mut core), [405]);

    let mut elsewhere = invite("z9hG4bK-404");
    elsewhere.user = "+15559999999";
    core.handle_datagram(pbx, &elsewhere.bytes(), t0);
    assert_eq!(statuses(&mut core), [404]);
}

#[test]
fn strangers_get_silence_garbage_is_dropped_malformed_gets_400() {
    let (mut core, t0, pbx) = (core_with(4, None), Instant::now(), PBX.parse().unwrap());
    core.handle_datagram(
        "192.0.2.7:5060".parse().unwrap(),
        &invite("z9hG4bK-s").bytes(),
        t0,
    );
    assert!(sent(&mut core).is_empty());
    assert_eq!(core.poll_event(), None);

    core.handle_datagram(pbx, b"\x16\x03\x01 not sip at all", t0);
    assert!(sent(&mut core).is_empty());

    let mut broken = invite("z9hG4bK-bad").bytes();
    let text = String::from_utf8(broken.clone())
        .unwrap()
        .replace("CSeq: 1 INVITE", "CSeq: x");
    broken = text.into_bytes();
    core.handle_datagram(pbx, &broken, t0);
    assert_eq!(statuses(&mut core), [400]);

    let counters = core.counters();
    assert_eq!(
        (
            counters.unknown_source,
            counters.garbage,
            counters.malformed
        ),
        (1, 1, 1)
    );
}
