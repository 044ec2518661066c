//! `cargo bench -p diala-vault`: segment inserts per second in SQLCipher against plain SQLite
//! (same bundled library, schema, code path and durability: WAL, synchronous=FULL, one commit
//! per segment), and a retention purge of many expired segments while a call keeps writing,
//! with that writer's latency percentiles. Prints `name: value unit` lines.
//!
//! Sizes: `DIALA_BENCH_INSERTS` (default 3000 committed inserts per store) and
//! `DIALA_BENCH_PURGE_SEGMENTS` (default 1000000 expired segments).

// A benchmark reports on stdout and fails by panicking.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diala_vault::baseline;
use diala_vault::{
    DAY_MS, DataKey, ManualClock, NewCall, NewSegment, PURGE_BATCH_CALLS, TenantVault,
};

const T0: i64 = 1_796_083_200_000;
const SEGMENTS_PER_CALL: usize = 100;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn segment(i: usize) -> NewSegment {
    let text = format!("and the order number is {i}, shipped to the warehouse on the second floor");
    NewSegment {
        track: if i.is_multiple_of(2) {
            "caller"
        } else {
            "agent"
        }
        .to_owned(),
        start_ms: i as i64 * 1000,
        end_ms: i as i64 * 1000 + 900,
        redacted: text.clone(),
        text: Some(text),
        confidence: 0.93,
    }
}

fn call(id: &str, started_at_ms: i64) -> NewCall {
    NewCall {
        id: id.to_owned(),
        trunk: "pbx".to_owned(),
        started_at_ms,
    }
}

/// Time taken by `count` committed single-segment inserts into `call_id`.
fn time_inserts(vault: &TenantVault, call_id: &str, from: usize, count: usize) -> Duration {
    let started = Instant::now();
    for i in from..from + count {
        vault.insert_segment(call_id, &segment(i)).unwrap();
    }
    started.elapsed()
}

fn insert_comparison(dir: &std::path::Path) {
    let count = size("DIALA_BENCH_INSERTS", 3000);
    let clock = Arc::new(ManualClock::at(T0));
    let plain =
        baseline::open_unencrypted("plain", &dir.join("plain/vault.db"), clock.clone()).unwrap();
    let key = DataKey::generate();
    let cipher =
        baseline::open_encrypted("cipher", &dir.join("cipher/vault.db"), &key, clock).unwrap();
    for vault in [&plain, &cipher] {
        vault.begin_call(&call("bench", T0)).unwrap();
    }

    // Short rounds, alternating which store goes first, so the load other processes put on
    // the machine and its disk falls on both alike.
    const ROUND: usize = 50;
    let (mut plain_time, mut cipher_time) = (Duration::ZERO, Duration::ZERO);
    for round in 0..count.div_ceil(ROUND) {
        let from = round * ROUND;
        if round.is_multiple_of(2) {
            plain_time += time_inserts(&plain, "bench", from, ROUND);
            cipher_time += time_inserts(&cipher, "bench", from, ROUND);
        } else {
            cipher_time += time_inserts(&cipher, "bench", from, ROUND);
            plain_time += time_inserts(&plain, "bench", from, ROUND);
        }
    }
    let done = (count.div_ceil(ROUND) * ROUND) as f64;
    let plain_rate = done / plain_time.as_secs_f64();
    let cipher_rate = done / cipher_time.as_secs_f64();
    println!("insert_segments_plain_sqlite: {plain_rate:.0} segments/s");
    println!("insert_segments_sqlcipher: {cipher_rate:.0} segments/s");
    println!(
        "insert_sqlcipher_slowdown: {:.3} x",
        plain_rate / cipher_rate
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn purge_with_concurrent_writes(dir: &std::path::Path) {
    let total = size("DIALA_BENCH_PURGE_SEGMENTS", 1_000_000);
    let clock = Arc::new(ManualClock::at(T0));
    let key = DataKey::generate();
    let vault = Arc::new(
        baseline::open_encrypted("purge", &dir.join("purge/vault.db"), &key, clock.clone())
            .unwrap(),
    );

    let fill_started = Instant::now();
    let batch: Vec<_> = (0..SEGMENTS_PER_CALL).map(segment).collect();
    for c in 0..total.div_ceil(SEGMENTS_PER_CALL) {
        let id = format!("old-{c}");
        vault.begin_call(&call(&id, T0)).unwrap();
        vault.insert_segments(&id, &batch).unwrap();
    }
    vault.checkpoint().unwrap();
    let fill = fill_started.elapsed().as_secs_f64();
    println!("purge_fill_segments: {total} segments");
    println!("purge_fill_time: {fill:.1} s");

    // 91 days later every filled call is past the default 90-day retention; a live call
    // keeps writing one committed segment at a time while the purge runs.
    clock.set(T0 + 91 * DAY_MS);
    vault.begin_call(&call("live", T0 + 91 * DAY_MS)).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (vault, done) = (vault.clone(), done.clone());
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut i = 0;
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                vault.insert_segment("live", &segment(i)).unwrap();
                latencies.push(started.elapsed());
                i += 1;
            }
            latencies
        })
    };

    let purge_started = Instant::now();
    let report = vault.purge_expired(PURGE_BATCH_CALLS).unwrap();
    let purge = purge_started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let mut latencies = writer.join().unwrap();
    latencies.sort();
    assert_eq!(
        report.segments as usize,
        total.div_ceil(SEGMENTS_PER_CALL) * SEGMENTS_PER_CALL
    );

    println!("purge_segments: {} segments", report.segments);
    println!("purge_time: {purge:.1} s");
    println!(
        "purge_rate: {:.0} segments/s",
        report.segments as f64 / purge
    );
    println!("purge_concurrent_writes: {} segments", latencies.len());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "purge_write_latency_p50: {:.2} ms",
        ms(percentile(&latencies, 0.50))
    );
    println!(
        "purge_write_latency_p99: {:.2} ms",
        ms(percentile(&latencies, 0.99))
    );
    println!(
        "purge_write_latency_max: {:.2} ms",
        ms(percentile(&latencies, 1.0))
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not and only checks it runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let base = std::env::var_os("DIALA_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(base).unwrap();
    insert_comparison(dir.path());
    purge_with_concurrent_writes(dir.path());
}
