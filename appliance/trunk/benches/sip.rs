//! SIP call setups per second: sipp placing calls (INVITE, 200, ACK, BYE, 200) to the SIP shell
//! on loopback, beside the core alone doing the same exchanges in memory, in the same run.
//! Prints `name: value unit` lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use diala_trunk::sip::config::{NumberConfig, TrunkConfig};
use diala_trunk::sip::{CoreEvent, SipConfig, SipCore, SipShell, Trunks};

const CALLS: usize = 2000;
const RATE: &str = "1000";

fn config(max_calls: usize) -> SipConfig {
    SipConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        media_address: "127.0.0.1".parse().unwrap(),
        max_calls,
        retry_after_secs: 5,
        trunks: vec![TrunkConfig {
            name: "pbx".into(),
            sources: vec!["127.0.0.0/8".parse().unwrap()],
            max_calls: None,
            digest: None,
            numbers: vec![NumberConfig {
                number: "100".into(),
                tenant: "acme".into(),
            }],
        }],
    }
}

fn with_sipp() -> (f64, u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = config(1000);
        let trunks = Trunks::from_config(&config, &Default::default()).unwrap();
        let (shell, mut events) = SipShell::start(&config, trunks).await.unwrap();
        tokio::spawn(async move { while events.recv().await.is_some() {} });

        let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/call_setup.xml");
        let port = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let target = shell.local_addr().to_string();
        let calls = CALLS.to_string();
        let started = Instant::now();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("sipp")
                .arg(&target)
                .args([
                    "-sf",
                    scenario.to_str().unwrap(),
                    "-s",
                    "100",
                    "-i",
                    "127.0.0.1",
                ])
                .args([
                    "-p",
                    &port.to_string(),
                    "-m",
                    &calls,
                    "-r",
                    RATE,
                    "-l",
                    "500",
                ])
                .args(["-timeout", "120s", "-nostdin", "-nr"])
                .output()
                .expect("sipp is not installed: run `make deps`")
        })
        .await
        .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let failed = u64::from(!output.status.success());
        (CALLS as f64 / seconds, failed + shell.counters().garbage)
    })
}

fn in_memory() -> f64 {
    let config = config(CALLS + 1);
    let trunks = Trunks::from_config(&config, &Default::default()).unwrap();
    let edge: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let mut core = SipCore::new(&config, trunks, edge, [1; 32], Instant::now());
    let pbx: SocketAddr = "127.0.0.1:5062".parse().unwrap();
    let started = Instant::now();
    for n in 0..CALLS {
        let now = Instant::now();
        core.handle_datagram(pbx, &request("INVITE", n, None), now);
        let Some(CoreEvent::Offered { call, .. }) = core.poll_event() else {
            panic!()
        };
        core.accept(call, "127.0.0.1:40000".parse().unwrap(), now)
            .unwrap();
        let mut tag = String::new();
        while let Some(t) = core.poll_transmit() {
            let text = String::from_utf8(t.bytes).unwrap();
            if let Some(to) = text
                .lines()
                .find(|l| l.starts_with("To:") && l.contains(";tag="))
            {
                tag = to.split(";tag=").nth(1).unwrap().to_owned();
            }
        }
        core.handle_datagram(pbx, &request("ACK", n, Some(&tag)), now);
        core.handle_datagram(pbx, &request("BYE", n, Some(&tag)), now);
        while core.poll_transmit().is_some() {}
        while core.poll_event().is_some() {}
    }
    CALLS as f64 / started.elapsed().as_secs_f64()
}

fn request(method: &str, n: usize, tag: Option<&str>) -> Vec<u8> {
    let (cseq, body) = match method {
        "INVITE" => (
            1,
            "v=0\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        ),
        "ACK" => (1, ""),
        _ => (2, ""),
    };
    let to_tag = tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK{method}{n}\r\n\
         From: <sip:a@127.0.0.1>;tag=a{n}\r\nTo: <sip:100@127.0.0.1>{to_tag}\r\nCall-ID: {n}@bench\r\n\
         CSeq: {cseq} {method}\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn main() {
    let core_rate = in_memory();
    println!("sip_call_setups_core_in_memory: {core_rate:.0} calls/s");
    let (shell_rate, failures) = with_sipp();
    println!("sip_call_setups_sipp_udp_loopback: {shell_rate:.0} calls/s");
    println!("sip_call_setups_sipp_offered_rate: {RATE} calls/s");
    println!("sip_call_setups_sipp_failures: {failures} runs");
}
