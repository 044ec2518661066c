//! Digest authentication of a trunk's INVITEs, SHA-256 and MD5, computed here as a client does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use diala_trunk::sip::config::{ConfigError, DigestConfig, NumberConfig, TrunkConfig};
use diala_trunk::sip::digest::DigestPassword;
use diala_trunk::sip::{CoreEvent, Message, SipConfig, SipCore, Trunks, parse};
use md5::Md5;
use sha2::{Digest, Sha256};

const PBX: &str = "10.1.2.3:5060";

fn config() -> SipConfig {
    SipConfig {
        listen: "10.1.2.1:5060".parse().unwrap(),
        media_address: "10.1.2.1".parse().unwrap(),
        max_calls: 4,
        retry_after_secs: 5,
        trunks: vec![TrunkConfig {
            name: "pbx".into(),
            sources: vec!["10.1.2.0/24".parse().unwrap()],
            max_calls: None,
            digest: Some(DigestConfig {
                realm: "edge".into(),
                username: "trunk1".into(),
            }),
            numbers: vec![NumberConfig {
                number: "100".into(),
                tenant: "acme".into(),
            }],
        }],
    }
}

fn core(t0: Instant) -> SipCore {
    let passwords = HashMap::from([("pbx".to_owned(), DigestPassword::new("s3cret"))]);
    let trunks = Trunks::from_config(&config(), &passwords).unwrap();
    SipCore::new(
        &config(),
        trunks,
        "10.1.2.1:5060".parse().unwrap(),
        [9; 32],
        t0,
    )
}

fn invite(branch: &str, cseq: u32, authorization: Option<&str>) -> Vec<u8> {
    let body = "v=0\r\no=p 1 1 IN IP4 10.1.2.3\r\ns=-\r\nc=IN IP4 10.1.2.3\r\nt=0 0\r\n\
                m=audio 30000 RTP/AVP 0\r\n";
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "INVITE sip:100@10.1.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {PBX};branch={branch}\r\n\
         From: <sip:a@10.1.2.3>;tag=f\r\nTo: <sip:100@10.1.2.1>\r\nCall-ID: d1\r\n\
         CSeq: {cseq} INVITE\r\n{auth}Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn replies(core: &mut SipCore) -> Vec<diala_trunk::sip::Response> {
    std::iter::from_fn(|| core.poll_transmit())
        .map(|t| match parse(&t.bytes).unwrap() {
            Message::Response(r) => r,
            Message::Request(_) => panic!(),
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn answer(algorithm: &str, nonce: &str, password: &str) -> String {
    let h = |s: String| match algorithm {
        "MD5" => hex(&Md5::digest(s.as_bytes())),
        _ => hex(&Sha256::digest(s.as_bytes())),
    };
    let ha1 = h(format!("trunk1:edge:{password}"));
    let ha2 = h("INVITE:sip:100@10.1.2.1".to_owned());
    let response = h(format!("{ha1}:{nonce}:00000001:c0ffee:auth:{ha2}"));
    format!(
        "Digest username=\"trunk1\", realm=\"edge\", nonce=\"{nonce}\", \
         uri=\"sip:100@10.1.2.1\", response=\"{response}\", algorithm={algorithm}, \
         qop=auth, nc=00000001, cnonce=\"c0ffee\""
    )
}

fn challenge_nonce(core: &mut SipCore) -> (String, Vec<String>) {
    let reply = replies(core).pop().unwrap();
    assert_eq!(reply.status, 401);
    let challenges: Vec<String> = reply
        .headers
        .all("WWW-Authenticate")
        .map(str::to_owned)
        .collect();
    let nonce = challenges[0]
        .split("nonce=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    (nonce.to_owned(), challenges)
}

#[test]
fn an_invite_without_credentials_is_challenged_sha256_first_then_md5() {
    let t0 = Instant::now();
    let (mut core, pbx) = (core(t0), PBX.parse::<SocketAddr>().unwrap());
    core.handle_datagram(pbx, &invite("z9hG4bK-1", 1, None), t0);
    let (_, challenges) = challenge_nonce(&mut core);
    assert!(challenges[0].contains("algorithm=SHA-256") && challenges[0].contains("qop=\"auth\""));
    assert!(challenges[1].contains("algorithm=MD5"));
    assert_eq!(core.poll_event(), None);
    assert_eq!(core.counters().challenged, 1);
}

#[test]
fn right_credentials_in_either_algorithm_open_the_call() {
    for algorithm in ["SHA-256", "MD5"] {
        let t0 = Instant::now();
        let (mut core, pbx) = (core(t0), PBX.parse::<SocketAddr>().unwrap());
        core.handle_datagram(pbx, &invite("z9hG4bK-1", 1, None), t0);
        let (nonce, _) = challenge_nonce(&mut core);
        let auth = answer(algorithm, &nonce, "s3cret");
        core.handle_datagram(pbx, &invite("z9hG4bK-2", 2, Some(&auth)), t0);
        assert_eq!(replies(&mut core)[0].status, 100, "{algorithm}");
        assert!(
            matches!(core.poll_event(), Some(CoreEvent::Offered { .. })),
            "{algorithm}"
        );
    }
}

#[test]
fn a_wrong_password_a_forged_nonce_and_a_stale_nonce_are_challenged_again() {
    let t0 = Instant::now();
    let (mut core, pbx) = (core(t0), PBX.parse::<SocketAddr>().unwrap());
    core.handle_datagram(pbx, &invite("z9hG4bK-1", 1, None), t0);
    let (nonce, _) = challenge_nonce(&mut core);

    core.handle_datagram(
        pbx,
        &invite("z9hG4bK-2", 2, Some(&answer("MD5", &nonce, "guess"))),
        t0,
    );
    let (_, again) = challenge_nonce(&mut core);
    assert!(!again[0].contains("stale"));

    let forged = format!(
        "{}.00000000000000000000000000000000",
        nonce.split('.').next().unwrap()
    );
    core.handle_datagram(
        pbx,
        &invite("z9hG4bK-3", 3, Some(&answer("MD5", &forged, "s3cret"))),
        t0,
    );
    challenge_nonce(&mut core);

    let late = t0 + Duration::from_secs(301);
    core.handle_datagram(
        pbx,
        &invite("z9hG4bK-4", 4, Some(&answer("MD5", &nonce, "s3cret"))),
        late,
    );
    let (_, stale) = challenge_nonce(&mut core);
    assert!(stale[0].contains("stale=true"));
    assert_eq!(core.poll_event(), None);
    assert!(!format!("{:?}", DigestPassword::new("s3cret")).contains("s3cret"));
}

#[test]
fn a_digest_trunk_without_a_password_is_a_configuration_error() {
    let error = Trunks::from_config(&config(), &HashMap::new()).unwrap_err();
    assert_eq!(error, ConfigError::MissingPassword("pbx".into()));
}
