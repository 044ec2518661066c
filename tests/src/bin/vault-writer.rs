//! A process that writes segments to a tenant vault and prints each segment's id once its
//! insert has returned (committed to disk), for the crash test to kill with SIGKILL.
//!
//! Usage: `vault-writer STATE_DIR MASTER_KEY_HEX COUNT`

// A test tool: it reports on stdout and fails by panicking.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use diala_vault::{MasterKey, NewCall, NewSegment, SystemClock, VaultOptions, Vaults};

fn main() {
    let mut args = std::env::args().skip(1);
    let state = PathBuf::from(args.next().expect("state directory"));
    let master = MasterKey::from_credential(args.next().expect("master key").as_bytes())
        .expect("master key");
    let count: i64 = args.next().expect("count").parse().expect("a number");

    let options = VaultOptions {
        min_free_bytes: 0,
        outbox_cap: u64::MAX,
    };
    let vaults = Vaults::open(&state, master, options, Arc::new(SystemClock)).expect("open");
    let acme = match vaults.open_tenant("acme") {
        Ok(vault) => vault,
        Err(_) => vaults
            .create_tenant("test", "acme", "Acme")
            .expect("create"),
    };
    let call = format!("call-{}", std::process::id());
    acme.begin_call(&NewCall {
        id: call.clone(),
        trunk: "pbx".to_owned(),
        started_at_ms: 0,
    })
    .expect("begin call");

    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {call}").expect("stdout");
    out.flush().expect("stdout");
    for i in 0..count {
        let segment = NewSegment {
            track: "caller".to_owned(),
            start_ms: i * 1000,
            end_ms: i * 1000 + 900,
            text: Some(format!("utterance {i}")),
            redacted: format!("utterance {i}"),
            confidence: 0.9,
        };
        let id = acme.insert_segment(&call, &segment).expect("insert");
        writeln!(out, "{id}").expect("stdout");
        out.flush().expect("stdout");
    }
}
