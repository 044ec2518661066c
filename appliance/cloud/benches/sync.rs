//! Drain rate of a backlog of redacted segments to the reference control plane on loopback,
//! and the appliance's CPU per 1000 records, against the outbox alone (claim and acknowledge
//! in the vault, no network) as the baseline in the same run.
//!
//! The control plane runs as its own process (`diala-control-plane serve`), so the CPU
//! measured here is the appliance's: the vault, re-redaction, framing, QUIC and TLS.
//! `DIALA_SYNC_BENCH_RECORDS` sets the backlog (default 1000000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    missing_docs
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diala_cloud::backoff::Backoff;
use diala_cloud::client::{SyncClient, SyncSettings};
use diala_cloud::commands::VaultCommands;
use diala_cloud::identity::IdentityFiles;
use diala_cloud::outbound::Outbound;
use diala_vault::{MasterKey, NewCall, NewSegment, SystemClock, TenantVault, VaultOptions, Vaults};

const SEGMENTS_PER_CALL: usize = 100;

/// CPU time of this process so far (user + system), from /proc.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn fill(vault: &TenantVault, records: usize) {
    let segment = |i: usize| NewSegment {
        track: "caller".to_owned(),
        start_ms: i64::try_from(i).unwrap() * 1000,
        end_ms: i64::try_from(i).unwrap() * 1000 + 900,
        text: None,
        redacted: format!("my number is [PHONE:7f3a] and I would like to talk about order {i}"),
        confidence: 0.9,
    };
    for call in 0..records.div_ceil(SEGMENTS_PER_CALL) {
        let id = format!("call-{call}");
        let call_record = NewCall {
            id: id.clone(),
            trunk: "pbx".to_owned(),
            started_at_ms: 0,
        };
        vault.begin_call(&call_record).unwrap();
        let count = SEGMENTS_PER_CALL.min(records - call * SEGMENTS_PER_CALL);
        let segments: Vec<_> = (0..count).map(segment).collect();
        vault.insert_segments(&id, &segments).unwrap();
    }
}

fn open_appliance(dir: &std::path::Path, records: usize) -> Arc<Vaults> {
    let options = VaultOptions {
        min_free_bytes: 0,
        outbox_cap: 10_000_000,
    };
    let master = MasterKey::from_credential(&[5; 32]).unwrap();
    let vaults = Arc::new(Vaults::open(dir, master, options, Arc::new(SystemClock)).unwrap());
    let vault = vaults.create_tenant("bench", "acme", "Acme").unwrap();
    fill(&vault, records);
    vaults
}

fn baseline(records: usize) {
    let dir = tempfile::tempdir().unwrap();
    let vaults = open_appliance(dir.path(), records);
    let vault = vaults.open_tenant("acme").unwrap();
    let (start, cpu) = (Instant::now(), cpu_time());
    loop {
        let items = vault.claim_in_order(256, 60_000).unwrap();
        if items.is_empty() {
            break;
        }
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        vault.ack_many(&ids).unwrap();
    }
    report(
        "outbox_claim_ack",
        records,
        start.elapsed(),
        cpu_time() - cpu,
    );
}

fn report(name: &str, records: usize, wall: Duration, cpu: Duration) {
    let rate = records as f64 / wall.as_secs_f64();
    let per_thousand = cpu.as_secs_f64() * 1000.0 / (records as f64 / 1000.0);
    println!("{name}_records_per_second: {rate:.0} records/s");
    println!("{name}_cpu_per_1000_records: {per_thousand:.1} ms");
}

fn control_plane(dir: &std::path::Path) -> (Child, String, String) {
    let bin = env!("CARGO_BIN_EXE_diala-control-plane");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .arg("--dir")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    run(&["init", "localhost"]);
    let token = run(&["token"]);
    let mut child = Command::new(bin)
        .arg("--dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().to_owned();
    (child, token, format!("localhost:{port}"))
}

async fn drain(records: usize) {
    let cp_dir = tempfile::tempdir().unwrap();
    let (mut child, token, address) = control_plane(cp_dir.path());
    let dir = tempfile::tempdir().unwrap();
    let vaults = open_appliance(dir.path(), records);
    let files = IdentityFiles::in_state_dir(dir.path());
    let ca = std::fs::read_to_string(cp_dir.path().join("ca.pem")).unwrap();
    diala_cloud::enroll::enroll(&files, &address, &ca, &token, &vaults.appliance_id())
        .await
        .unwrap();

    let settings = SyncSettings {
        poll: Duration::from_millis(5),
        backoff: Backoff::new(Duration::from_millis(50), Duration::from_secs(1)),
        ..SyncSettings::default()
    };
    let outbound = Outbound::new(vaults.clone()).unwrap();
    let hooks = Arc::new(VaultCommands::new(vaults.clone()));
    let client = SyncClient::new(
        files.load().unwrap(),
        outbound,
        hooks,
        settings,
        Arc::new(SystemClock),
    );
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let vault = vaults.open_tenant("acme").unwrap();
    let (start, cpu) = (Instant::now(), cpu_time());
    let task = tokio::spawn(client.run(shutdown));
    while vault.outbox_status().unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report("sync_drain", records, start.elapsed(), cpu_time() - cpu);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
}

fn main() {
    let records = std::env::var("DIALA_SYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!("backlog: {records} records");
    baseline(records);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(drain(records));
}
