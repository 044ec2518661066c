//! A call through the real daemon, as Twilio places it: a signed voice webhook over TLS (a
//! test-made CA and certificate), the TwiML answer, the signed Media Streams upgrade, and real
//! speech as 20 ms mu-law messages. The call ends up in its tenant's vault, recognised by the
//! real model, the spoken phone number redacted; forged webhooks are refused and store nothing;
//! a stream that drops mid-sentence still commits what was said.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use diala_edge_tests::twilio::{
    FRAME_SAMPLES, Messages, Stream, TestPki, Twilio, mulaw_8k, play, stream_url,
};
use diala_edge_tests::{
    Appliance, Daemon, MASTER_KEY_HEX, PATIENCE, http_get, speech_model, twilio_addr,
};
use diala_vault::{MasterKey, StoredSegment, SystemClock, VaultOptions, Vaults};
use futures_util::SinkExt as _;
use tokio_tungstenite::tungstenite::Message;

const PUBLIC_URL: &str = "https://edge.test.example";
const ACME_SID: &str = "AC00000000000000000000000000000a01";
const GLOBEX_SID: &str = "AC00000000000000000000000000000b02";
const ACME_TOKEN: &str = "acme-auth-token-0123456789abcdef";
const GLOBEX_TOKEN: &str = "globex-auth-token-0123456789abcd";
const CALL: &str = "CA00000000000000000000000000000c01";
const FORGED_CALL: &str = "CA00000000000000000000000000000f01";

const SENTENCE: &str = "Hi, this is Jane from the billing team. Please call me back at four one \
    five, five five five, zero one three four. Thanks, bye.";

/// An appliance with two Twilio tenants, the real model and a certificate from a test CA.
fn appliance(pki: &TestPki) -> Appliance {
    let appliance = Appliance::new();
    std::fs::write(appliance.root().join("twilio.pem"), &pki.cert_pem).unwrap();
    appliance.write_secret("twilio-tls-key", pki.key_pem.as_bytes(), 0o600);
    appliance.write_secret(
        "twilio-acme-auth-token",
        format!("{ACME_TOKEN}\n").as_bytes(),
        0o600,
    );
    appliance.write_secret("twilio-globex-auth-token", GLOBEX_TOKEN.as_bytes(), 0o400);
    appliance.write_config(&format!(
        "[asr]\nmodel = \"{}\"\nworkers = 1\n\n\
         [twilio]\nlisten = \"127.0.0.1:0\"\npublic_url = \"{PUBLIC_URL}\"\n\
         certificate = \"twilio.pem\"\n\n\
         [[tenants]]\nid = \"acme\"\nname = \"Acme\"\n[tenants.twilio]\naccount_sid = \"{ACME_SID}\"\n\n\
         [[tenants]]\nid = \"globex\"\nname = \"Globex\"\n[tenants.twilio]\n\
         account_sid = \"{GLOBEX_SID}\"\nanswer = \"start\"\ndial = \"sip:desk@pbx.globex.example\"\n",
        speech_model().display()
    ));
    appliance
}

fn twilio(daemon_ready: &str, pki: &TestPki, sid: &str, token: &str) -> Twilio {
    Twilio {
        addr: twilio_addr(daemon_ready),
        ca_pem: pki.ca_pem.clone(),
        public_url: PUBLIC_URL.to_owned(),
        account_sid: sid.to_owned(),
        auth_token: token.to_owned(),
    }
}

/// The sentence spoken by espeak-ng, as a WAV file in `dir`.
fn spoken(dir: &Path) -> PathBuf {
    let wav = dir.join("sentence.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us+m3", "-s", "145", "-w"])
        .arg(&wav)
        .arg(SENTENCE)
        .status()
        .expect("espeak-ng (installed by make deps)");
    assert!(status.success());
    wav
}

/// The value of the metric line starting with `name{` that holds every label of `labels`.
fn metric(page: &str, name: &str, labels: &[&str]) -> f64 {
    page.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Waits until the daemon's metrics show `count` calls of `tenant` ended as `end`.
fn wait_for_calls_ended(daemon: &Daemon, metrics: std::net::SocketAddr, tenant: &str, end: &str) {
    let (tenant, end) = (format!("tenant=\"{tenant}\""), format!("end=\"{end}\""));
    let deadline = Instant::now() + PATIENCE * 3;
    while Instant::now() < deadline {
        let (_, page) = http_get(metrics, "/metrics");
        if metric(&page, "diala_edge_calls_ended_total", &[&tenant, &end]) >= 1.0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("the call never ended; the daemon's log:\n{}", daemon.log());
}

fn vaults(appliance: &Appliance) -> Vaults {
    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    Vaults::open(
        &appliance.state,
        master,
        VaultOptions::default(),
        Arc::new(SystemClock),
    )
    .unwrap()
}

fn redacted(segments: &[StoredSegment]) -> String {
    let text: Vec<&str> = segments
        .iter()
        .map(|s| s.segment.redacted.as_str())
        .collect();
    text.join(" ")
}

#[test]
fn a_call_is_transcribed_into_its_tenants_vault_with_the_number_redacted() {
    let pki = TestPki::new();
    let appliance = appliance(&pki);
    let mut daemon = appliance.spawn();
    let ready = daemon.wait_for("READY=1");
    let metrics = daemon.ready_addr_from(&ready);
    let acme = twilio(&ready, &pki, ACME_SID, ACME_TOKEN);
    let globex = twilio(&ready, &pki, GLOBEX_SID, GLOBEX_TOKEN);
    let audio = mulaw_8k(&spoken(appliance.root()));
    let runtime = tokio::runtime::Runtime::new().unwrap();

    runtime.block_on(async {
        // Forged (signed with another account's token) and unsigned: 403, nothing started.
        let form = acme.voice_form(FORGED_CALL, "+14155550100", "+14155550199");
        let forged = globex.signature("/twilio/voice", &form);
        assert_eq!(
            acme.post("/twilio/voice", &form, Some(&forged))
                .await
                .status,
            403
        );
        assert_eq!(acme.post("/twilio/voice", &form, None).await.status, 403);

        // The forking tenant is answered with <Start> and its PBX.
        let fork = globex
            .call("CA00000000000000000000000000000d01", "+1415", "+1416")
            .await;
        assert_eq!(fork.status, 200, "{}", fork.body);
        assert!(
            fork.body
                .contains("<Dial><Sip>sip:desk@pbx.globex.example</Sip></Dial>")
        );

        let answer = acme.call(CALL, "+14155550100", "+14155550199").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(
            answer
                .body
                .contains("<Connect><Stream url=\"wss://edge.test.example/twilio/")
        );
        let url = stream_url(&answer.body).unwrap();
        let mut stream = acme.open_stream(&url).await.unwrap();
        let mut messages = Messages::new(ACME_SID, CALL);
        // Paced like a live call: Twilio sends 20 ms of audio every 20 ms.
        let pace = Some(std::time::Duration::from_millis(20));
        play(&mut stream, &mut messages, &audio, pace, true)
            .await
            .unwrap();
    });
    wait_for_calls_ended(&daemon, metrics, "acme", "hangup");

    let (_, page) = http_get(metrics, "/metrics");
    assert_eq!(
        metric(&page, "diala_edge_twilio_refused_total", &["bad_signature"]),
        1.0
    );
    assert_eq!(
        metric(&page, "diala_edge_twilio_refused_total", &["\"unsigned\""]),
        1.0
    );
    assert!(page.contains("diala_edge_twilio_streams_total 1"), "{page}");
    assert_eq!(
        metric(&page, "diala_edge_call_frames_lost_total", &["acme"]),
        0.0
    );
    daemon.stop();

    let vaults = vaults(&appliance);
    let acme_vault = vaults.open_tenant("acme").unwrap();
    let call = acme_vault.call(CALL).unwrap().expect("the call is stored");
    assert_eq!(call.trunk, "twilio");
    assert!(call.ended_at_ms.is_some());
    let segments = acme_vault.segments(CALL).unwrap();
    let text = redacted(&segments).to_lowercase();
    // Whisper tiny on 8 kHz synthetic speech hears "billing" as "building"; the rest is steady.
    assert!(text.contains("team") && text.contains("call me"), "{text}");
    assert!(text.contains("[phone:"), "the number is a token: {text}");
    // Outside the tokens (whose hex may hold digits) no digit and no spoken number is left.
    let outside_tokens: String = text
        .split('[')
        .map(|part| part.split_once(']').map_or(part, |(_, rest)| rest))
        .collect();
    assert!(
        !outside_tokens.contains(|c: char| c.is_ascii_digit()),
        "{text}"
    );
    assert!(!outside_tokens.contains("four one"), "{text}");
    for s in &segments {
        assert_eq!(s.segment.track, "caller");
        assert!(
            s.segment.text.is_none(),
            "the policy keeps nothing in clear"
        );
        assert!(s.segment.start_ms < s.segment.end_ms && s.segment.end_ms <= 20_000);
        assert!((0.0..=1.0).contains(&s.segment.confidence));
    }

    // The forged call, and this call under the other tenant, are nowhere.
    assert!(acme_vault.call(FORGED_CALL).unwrap().is_none());
    assert!(
        vaults
            .open_tenant("globex")
            .unwrap()
            .call(CALL)
            .unwrap()
            .is_none()
    );
    // What was said never reached the log.
    let log = daemon.log().to_lowercase();
    assert!(!log.contains("team") && !log.contains("0134"), "{log}");
}

#[test]
fn a_stream_dropped_mid_sentence_still_commits_what_was_said() {
    let pki = TestPki::new();
    let appliance = appliance(&pki);
    let mut daemon = appliance.spawn();
    let ready = daemon.wait_for("READY=1");
    let metrics = daemon.ready_addr_from(&ready);
    let acme = twilio(&ready, &pki, ACME_SID, ACME_TOKEN);
    let jfk = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/audio/jfk.wav");
    let audio = mulaw_8k(&jfk);
    // "And so, my fellow Americans, ask not what your country can do for you": cut in speech,
    // and sent as fast as the socket takes it (five seconds fit the call's frame queue).
    let cut = audio.get(..8000 * 5).unwrap();

    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let answer = acme.call(CALL, "+14155550100", "+14155550199").await;
        let mut stream = acme
            .open_stream(&stream_url(&answer.body).unwrap())
            .await
            .unwrap();
        let mut messages = Messages::new(ACME_SID, CALL);
        play(&mut stream, &mut messages, cut, None, false)
            .await
            .unwrap();
    });
    wait_for_calls_ended(&daemon, metrics, "acme", "disconnected");
    daemon.stop();

    let vaults = vaults(&appliance);
    let segments = vaults.open_tenant("acme").unwrap().segments(CALL).unwrap();
    let text = redacted(&segments).to_lowercase();
    assert!(text.contains("fellow american"), "{text}");
}

#[test]
fn sighup_swaps_certificate_and_tokens_while_a_call_goes_on() {
    let pki = TestPki::new();
    let appliance = appliance(&pki);
    let mut daemon = appliance.spawn();
    let ready = daemon.wait_for("READY=1");
    let metrics = daemon.ready_addr_from(&ready);
    let old = twilio(&ready, &pki, ACME_SID, ACME_TOKEN);
    let jfk = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/audio/jfk.wav");
    let audio = mulaw_8k(&jfk);
    let (first, rest) = audio.split_at(8000 * 4);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut messages = Messages::new(ACME_SID, CALL);

    let mut stream = runtime.block_on(async {
        let answer = old.call(CALL, "+14155550100", "+14155550199").await;
        let mut stream = old
            .open_stream(&stream_url(&answer.body).unwrap())
            .await
            .unwrap();
        send_frames(&mut stream, &mut messages, first, 1, true).await;
        stream
    });

    // A new certificate from a new CA, and a new token with the old one kept as secondary.
    let renewed = TestPki::new();
    std::fs::write(appliance.root().join("twilio.pem"), &renewed.cert_pem).unwrap();
    appliance.write_secret("twilio-tls-key", renewed.key_pem.as_bytes(), 0o600);
    appliance.write_secret("twilio-acme-auth-token", b"acme-rotated-token", 0o600);
    appliance.write_secret(
        "twilio-acme-auth-token-secondary",
        ACME_TOKEN.as_bytes(),
        0o600,
    );
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    let reloaded = daemon.wait_for("READY=1");
    assert!(reloaded.contains("configuration reloaded"), "{reloaded}");

    let new = Twilio {
        ca_pem: renewed.ca_pem.clone(),
        auth_token: "acme-rotated-token".to_owned(),
        ..old.clone()
    };
    runtime.block_on(async {
        assert!(
            old.handshake().await.is_err(),
            "new handshakes use the new certificate"
        );
        new.handshake().await.unwrap();
        let other = "CA00000000000000000000000000000e01";
        assert_eq!(new.call(other, "+1", "+2").await.status, 200);
        let with_old_token = Twilio {
            auth_token: ACME_TOKEN.to_owned(),
            ..new.clone()
        };
        let third = "CA00000000000000000000000000000e02";
        assert_eq!(with_old_token.call(third, "+1", "+2").await.status, 200);

        // The call opened before the reload goes on over its first connection.
        let next = first.len().div_ceil(FRAME_SAMPLES) as u64 + 1;
        send_frames(&mut stream, &mut messages, rest, next, false).await;
        stream.send(Message::text(messages.stop())).await.unwrap();
    });
    wait_for_calls_ended(&daemon, metrics, "acme", "hangup");
    daemon.stop();

    let segments = vaults(&appliance)
        .open_tenant("acme")
        .unwrap()
        .segments(CALL)
        .unwrap();
    let text = redacted(&segments).to_lowercase();
    assert!(text.contains("what you can do for your country"), "{text}");
}

/// Sends `mulaw` as media messages numbered from `chunk`, after `connected` and `start` when
/// `opening`.
async fn send_frames(
    stream: &mut Stream,
    messages: &mut Messages,
    mulaw: &[u8],
    chunk: u64,
    opening: bool,
) {
    if opening {
        stream
            .send(Message::text(messages.connected()))
            .await
            .unwrap();
        stream
            .send(Message::text(messages.start(&["inbound"])))
            .await
            .unwrap();
    }
    for (i, frame) in mulaw.chunks(FRAME_SAMPLES).enumerate() {
        let text = messages.media("inbound", chunk + i as u64, frame);
        stream.send(Message::text(text)).await.unwrap();
    }
}
