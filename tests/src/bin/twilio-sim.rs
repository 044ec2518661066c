//! Plays Twilio's part against a running appliance, for the demo:
//!
//! ```text
//! twilio-sim pki DIR                      a test CA (ca.pem) and a server certificate
//!                                         (cert.pem, key.pem) for `localhost`
//! twilio-sim call ADDR CA_PEM PUBLIC_URL ACCOUNT_SID TOKEN_FILE CALL_SID WAV
//!                                         the signed webhook, then WAV streamed in real time
//! twilio-sim transcript STATE_DIR MASTER_KEY_FILE TENANT CALL_SID
//!                                         the stored, redacted segments of a call
//! ```
//!
//! The transcript is read by opening the tenant's vault with the master key, as only the box
//! itself can; it prints the redacted form, the one that may leave the box.

// A demo tool: it reports on stdout and fails by panicking with a message.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diala_edge_tests::twilio::{FRAME_SAMPLES, Messages, TestPki, Twilio, mulaw_8k, play};
use diala_vault::{MasterKey, SystemClock, VaultOptions, Vaults};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["pki", dir] => pki(Path::new(dir)),
        ["call", addr, ca, url, sid, token, call_sid, wav] => {
            let twilio = Twilio {
                addr: addr.parse().expect("ADDR as host:port"),
                ca_pem: std::fs::read_to_string(ca).expect("read CA_PEM"),
                public_url: (*url).to_owned(),
                account_sid: (*sid).to_owned(),
                auth_token: std::fs::read_to_string(token)
                    .expect("read TOKEN_FILE")
                    .trim()
                    .to_owned(),
            };
            let runtime = tokio::runtime::Runtime::new().expect("async runtime");
            runtime.block_on(call(&twilio, call_sid, Path::new(wav)));
        }
        ["transcript", state, key, tenant, call_sid] => {
            transcript(Path::new(state), Path::new(key), tenant, call_sid);
        }
        _ => panic!("usage: see the top of tests/src/bin/twilio-sim.rs"),
    }
}

fn pki(dir: &Path) {
    let pki = TestPki::new();
    std::fs::create_dir_all(dir).expect("create DIR");
    std::fs::write(dir.join("ca.pem"), pki.ca_pem).expect("write ca.pem");
    std::fs::write(dir.join("cert.pem"), pki.cert_pem).expect("write cert.pem");
    let key: PathBuf = dir.join("key.pem");
    std::fs::write(&key, pki.key_pem).expect("write key.pem");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    println!("test CA and certificate for localhost in {}", dir.display());
}

async fn call(twilio: &Twilio, call_sid: &str, wav: &Path) {
    let forged = Twilio {
        auth_token: "not-the-token".to_owned(),
        ..twilio.clone()
    };
    let refused = forged.call(call_sid, "+14155550100", "+14155550199").await;
    println!(
        "POST /twilio/voice signed with a wrong token: {}",
        refused.status
    );

    let answer = twilio.call(call_sid, "+14155550100", "+14155550199").await;
    println!(
        "POST /twilio/voice signed by {}: {}",
        twilio.account_sid, answer.status
    );
    println!("TwiML: {}", answer.body);
    let url = diala_edge_tests::twilio::stream_url(&answer.body).expect("a stream URL");

    let mut stream = twilio.open_stream(&url).await.expect("the stream upgrade");
    let audio = mulaw_8k(wav);
    let seconds = audio.len() as f64 / 8000.0;
    println!(
        "stream open; playing {seconds:.1} s as {} media messages of 20 ms, in real time",
        audio.len().div_ceil(FRAME_SAMPLES)
    );
    let mut messages = Messages::new(&twilio.account_sid, call_sid);
    let pace = Some(Duration::from_millis(20));
    play(&mut stream, &mut messages, &audio, pace, true)
        .await
        .expect("play the call");
    println!("stop sent; the call is over");
}

fn transcript(state: &Path, key: &Path, tenant: &str, call_sid: &str) {
    let key = std::fs::read(key).expect("read MASTER_KEY_FILE");
    let master = MasterKey::from_credential(&key).expect("a master key");
    let vaults = Vaults::open(
        state,
        master,
        VaultOptions::default(),
        Arc::new(SystemClock),
    )
    .expect("open the state");
    let vault = vaults.open_tenant(tenant).expect("open the tenant's vault");
    let Some(call) = vault.call(call_sid).expect("read the call") else {
        println!("no call {call_sid} in tenant {tenant}");
        return;
    };
    let ended = call.ended_at_ms.map_or("not ended".to_owned(), |end| {
        format!("{:.1} s long", (end - call.started_at_ms) as f64 / 1000.0)
    });
    println!(
        "call {} of tenant {}, trunk {}, {ended}",
        call.id, call.tenant, call.trunk
    );
    for stored in vault.segments(call_sid).expect("read the segments") {
        let s = &stored.segment;
        println!(
            "  [{:>6.2} s -> {:>6.2} s] {} (confidence {:.2}): {}",
            s.start_ms as f64 / 1000.0,
            s.end_ms as f64 / 1000.0,
            s.track,
            s.confidence,
            s.redacted
        );
    }
}
