//! The SIP shell on loopback against a real SIP peer, sipp: a call whose speech, played as
//! G.711 RTP from a pcap this test makes, must reach the call event stream intact; OPTIONS; a
//! G.722-only offer; and silence for a source no trunk allows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::UdpSocket as StdUdp;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use diala_media::Track;
use diala_media::g711::Law;
use diala_trunk::sip::config::{NumberConfig, TrunkConfig};
use diala_trunk::sip::{CallEvent, EndReason, SipConfig, SipShell, Trunks};
use tokio::sync::mpsc;

const NUMBER: &str = "15551230000";

fn config(sources: &str) -> SipConfig {
    config_with_limit(sources, 8)
}

fn config_with_limit(sources: &str, max_calls: usize) -> SipConfig {
    SipConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        media_address: "127.0.0.1".parse().unwrap(),
        max_calls,
        retry_after_secs: 5,
        trunks: vec![TrunkConfig {
            name: "pbx".into(),
            sources: vec![sources.parse().unwrap()],
            max_calls: None,
            digest: None,
            numbers: vec![NumberConfig {
                number: format!("+{NUMBER}"),
                tenant: "acme".into(),
            }],
        }],
    }
}

async fn shell(sources: &str) -> (SipShell, mpsc::Receiver<CallEvent>) {
    let config = config(sources);
    let trunks = Trunks::from_config(&config, &Default::default()).unwrap();
    SipShell::start(&config, trunks).await.unwrap()
}

fn free_port() -> u16 {
    StdUdp::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs sipp with `scenario` against the shell, once, and returns its output.
fn sipp(shell: &SipShell, scenario: &Path, media_port: u16) -> Output {
    let target = shell.local_addr().to_string();
    let (port, media) = (free_port().to_string(), media_port.to_string());
    let args = [
        "-sf",
        scenario.to_str().unwrap(),
        "-m",
        "1",
        "-s",
        NUMBER,
        "-i",
        "127.0.0.1",
    ];
    Command::new("sipp")
        .arg(&target)
        .args(args)
        .args(["-p", &port, "-mi", "127.0.0.1", "-mp", &media])
        .args(["-timeout", "30s", "-timeout_error", "-nostdin", "-nr"])
        .output()
        .expect("sipp is not installed: run `make deps` (Debian package sip-tester)")
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp")
}

/// Three seconds of the Open Speech Repository's 8 kHz recording, from its second second.
fn speech() -> Vec<i16> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/audio/osr34_8k_orig.wav");
    let audio = diala_media::wav::read(std::fs::File::open(path).unwrap()).unwrap();
    assert_eq!(audio.sample_rate, 8000);
    audio.to_mono()[8000..32_000].to_vec()
}

/// A pcap (Ethernet, IPv4, UDP) of RTP packets of 20 ms carrying `codes` as payload type `pt`.
fn pcap(codes: &[u8], pt: u8) -> Vec<u8> {
    let mut out = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for word in [0u32, 0, 65_535, 1] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for (n, chunk) in codes.chunks(160).enumerate() {
        let n = u32::try_from(n).unwrap();
        let mut rtp = vec![0x80, pt];
        rtp.extend_from_slice(&(n as u16).to_be_bytes());
        rtp.extend_from_slice(&(n * 160).to_be_bytes());
        rtp.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        rtp.extend_from_slice(chunk);
        let udp_len = 8 + rtp.len();
        let ip_len = 20 + udp_len;
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        let sum = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum::<u32>();
        let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        frame.extend_from_slice(&ip);
        for half in [6000u16, 6000, udp_len as u16, 0] {
            frame.extend_from_slice(&half.to_be_bytes());
        }
        frame.extend_from_slice(&rtp);
        for word in [
            n / 50,
            (n % 50) * 20_000,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&frame);
    }
    out
}

/// Every event until the first call's `Ended`.
async fn one_call(events: &mut mpsc::Receiver<CallEvent>) -> Vec<CallEvent> {
    let mut all = Vec::new();
    let guard = Duration::from_secs(60);
    while let Ok(Some(event)) = tokio::time::timeout(guard, events.recv()).await {
        let ended = matches!(event, CallEvent::Ended { .. });
        all.push(event);
        if ended {
            return all;
        }
    }
    panic!("the call did not end; events so far: {}", all.len());
}

/// Signal-to-noise ratio of `received` against `sent`, at the best alignment, in dB.
fn snr_db(sent: &[i16], received: &[i16]) -> f64 {
    let energy: f64 = sent.iter().map(|&s| f64::from(s).powi(2)).sum();
    let mut best = f64::NEG_INFINITY;
    for lag in 0..received.len().saturating_sub(sent.len()).min(4000) + 1 {
        let noise: f64 = sent
            .iter()
            .zip(&received[lag..])
            .map(|(&s, &r)| (f64::from(s) - f64::from(r)).powi(2))
            .sum();
        best = best.max(10.0 * (energy / noise.max(1e-9)).log10());
    }
    best
}

async fn call_with(law: Law, pt: u8, codec: &str) {
    let (shell, mut events) = shell("127.0.0.0/8").await;
    let dir = tempfile::tempdir().unwrap();
    let speech = speech();
    let mut codes = Vec::new();
    law.encode(&speech, &mut codes);
    let pcap_path = dir.path().join("speech.pcap");
    std::fs::write(&pcap_path, pcap(&codes, pt)).unwrap();
    let scenario = std::fs::read_to_string(scenario_dir().join("uac_pcap.xml")).unwrap();
    let scenario = scenario
        .replace("PCAP", pcap_path.to_str().unwrap())
        .replace("PAUSE", "3600")
        .replace("PAYLOAD", &pt.to_string())
        .replace("CODEC", codec);
    let scenario_path = dir.path().join("call.xml");
    std::fs::write(&scenario_path, scenario).unwrap();

    let media_port = free_port();
    let peer = tokio::task::spawn_blocking(move || sipp(&shell, &scenario_path, media_port));
    let events = one_call(&mut events).await;
    let output = peer.await.unwrap();
    assert!(
        output.status.success(),
        "sipp: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let CallEvent::Began {
        call,
        tenant,
        trunk,
    } = &events[0]
    else {
        panic!("{:?}", events[0])
    };
    assert_eq!((tenant.as_str(), trunk.as_str()), ("acme", "pbx"));
    assert_eq!(
        events.last(),
        Some(&CallEvent::Ended {
            call: *call,
            reason: EndReason::Hangup
        })
    );
    let mut received = Vec::new();
    let mut at_ms = 0;
    for event in &events[1..events.len() - 1] {
        let CallEvent::Frame { call: c, frame } = event else {
            panic!("{event:?}")
        };
        assert_eq!(
            (c, frame.track, frame.sample_rate, frame.start_ms),
            (call, Track::Caller, 8000, at_ms)
        );
        at_ms = frame.end_ms();
        received.extend_from_slice(&frame.samples);
    }

    let mut sent = Vec::new();
    law.decode(&codes, &mut sent);
    assert!(
        received.len() >= sent.len(),
        "{} of {} samples",
        received.len(),
        sent.len()
    );
    let snr = snr_db(&sent, &received);
    eprintln!(
        "sipp {codec} call: {} samples sent, {} received, SNR {snr:.1} dB",
        sent.len(),
        received.len()
    );
    assert!(
        snr > 40.0,
        "the audio that reached the stream differs: SNR {snr:.1} dB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mu_law_call_from_sipp_reaches_the_event_stream_intact() {
    call_with(Law::MuLaw, 0, "PCMU").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_a_law_call_from_sipp_reaches_the_event_stream_intact() {
    call_with(Law::ALaw, 8, "PCMA").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dtmf_key_played_by_sipp_is_one_event_and_no_audio() {
    let (shell, mut events) = shell("127.0.0.0/8").await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = std::fs::read_to_string(scenario_dir().join("uac_pcap.xml")).unwrap();
    // The key press "1" (RFC 4733) that the sip-tester package ships.
    let scenario = scenario
        .replace("PCAP", "/usr/share/sip-tester/dtmf_2833_1.pcap")
        .replace("PAUSE", "1000")
        .replace("PAYLOAD", "0")
        .replace("CODEC", "PCMU");
    let path = dir.path().join("dtmf.xml");
    std::fs::write(&path, scenario).unwrap();
    let peer = tokio::task::spawn_blocking(move || sipp(&shell, &path, free_port()));
    let events = one_call(&mut events).await;
    assert!(peer.await.unwrap().status.success());

    let presses: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Dtmf { dtmf, .. } => Some(dtmf),
            CallEvent::Frame { .. } => panic!("a key press is not audio"),
            _ => None,
        })
        .collect();
    assert_eq!(presses.len(), 1);
    assert_eq!((presses[0].event(), presses[0].duration_ms), (1, 280));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_puts_a_call_on_hold_and_resumes_it_by_reinvite() {
    let (shell, mut events) = shell("127.0.0.0/8").await;
    let path = scenario_dir().join("hold.xml");
    let peer = tokio::task::spawn_blocking(move || sipp(&shell, &path, free_port()));
    let events = one_call(&mut events).await;
    let output = peer.await.unwrap();
    assert!(
        output.status.success(),
        "sipp: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let holds: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Hold { on, .. } => Some(*on),
            _ => None,
        })
        .collect();
    assert_eq!(holds, [true, false]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_the_limit_gets_503_with_retry_after_while_the_first_goes_on() {
    let config = config_with_limit("127.0.0.0/8", 1);
    let trunks = Trunks::from_config(&config, &Default::default()).unwrap();
    let (shell, mut events) = SipShell::start(&config, trunks).await.unwrap();
    let shell = std::sync::Arc::new(shell);

    // A first call that stays up for three seconds.
    let dir = tempfile::tempdir().unwrap();
    let scenario = std::fs::read_to_string(scenario_dir().join("uac_pcap.xml")).unwrap();
    let scenario = scenario
        .replace("PCAP", "/usr/share/sip-tester/dtmf_2833_1.pcap")
        .replace("PAUSE", "3000")
        .replace("PAYLOAD", "0")
        .replace("CODEC", "PCMU");
    let long_call = dir.path().join("long.xml");
    std::fs::write(&long_call, scenario).unwrap();
    let first = std::sync::Arc::clone(&shell);
    let up = tokio::task::spawn_blocking(move || sipp(&first, &long_call, free_port()));
    let Some(CallEvent::Began { .. }) = events.recv().await else {
        panic!("no call began")
    };

    let second = std::sync::Arc::clone(&shell);
    let refused = scenario_dir().join("invite_503.xml");
    let output = tokio::task::spawn_blocking(move || sipp(&second, &refused, free_port()))
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(shell.counters().over_limit, 1);
    while let Some(event) = events.recv().await {
        if matches!(event, CallEvent::Ended { .. }) {
            break;
        }
    }
    assert!(up.await.unwrap().status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_gets_200_for_options_and_488_for_g722_only() {
    let (shell, mut events) = shell("127.0.0.0/8").await;
    let shell = std::sync::Arc::new(shell);
    for scenario in ["options.xml", "invite_488.xml"] {
        let shell = std::sync::Arc::clone(&shell);
        let path = scenario_dir().join(scenario);
        let output = tokio::task::spawn_blocking(move || sipp(&shell, &path, free_port()))
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{scenario}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(events.try_recv().is_err(), "no call began");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_no_trunk_allows_gets_silence_and_is_counted() {
    let (shell, _events) = shell("10.0.0.0/8").await;
    let client = StdUdp::bind("127.0.0.1:0").unwrap();
    let request = format!(
        "OPTIONS sip:{NUMBER}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bK-x\r\n\
         From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:{NUMBER}@127.0.0.1>\r\nCall-ID: s1\r\n\
         CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        client.local_addr().unwrap()
    );
    client
        .send_to(request.as_bytes(), shell.local_addr())
        .unwrap();
    // Wait until the shell has handled it; an answer, if any, is sent before the count moves.
    while shell.counters().unknown_source == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    client.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1500];
    assert!(
        client.recv_from(&mut buf).is_err(),
        "a stranger got an answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_on_the_socket_gets_400_and_garbage_gets_nothing() {
    let (shell, _events) = shell("127.0.0.0/8").await;
    let client = StdUdp::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client
        .send_to(b"\x00\x01 definitely not SIP", shell.local_addr())
        .unwrap();
    let broken = format!(
        "INVITE sip:{NUMBER}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bK-m\r\n\
         From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:{NUMBER}@127.0.0.1>\r\nCall-ID: m1\r\n\
         CSeq: 1 INVITE\r\nContent-Length: 500\r\n\r\nv=0\r\n",
        client.local_addr().unwrap()
    );
    client
        .send_to(broken.as_bytes(), shell.local_addr())
        .unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = client.recv_from(&mut buf).unwrap();
    assert!(
        buf[..n].starts_with(b"SIP/2.0 400 "),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    // The counts move just after the answer is sent.
    while shell.counters().malformed == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(shell.counters().garbage, 1);
}
