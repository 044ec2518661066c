//! Concurrent real-time-paced Twilio streams through the real daemon, over TLS on loopback:
//! each stream plays the JFK recording (11 s) as 20 ms mu-law messages, then `stop`.
//!
//! Two runs: transcription off (no `[asr]`: utterances are cut and dropped, counted) with
//! `DIALA_BENCH_STREAMS` streams (default 200), and transcription on (Whisper tiny.en, one worker
//! per core) with `DIALA_BENCH_ASR_STREAMS` (default 4). Printed as `name: value unit`: the
//! daemon's CPU per stream (share of one core), frames lost (the call queue's and the stream's
//! sequence gaps), and with transcription the p95 delay from an utterance being cut to its
//! segment being stored (from the daemon's histogram, so bucket-rounded up). The goal
//! is printed beside them: 1000 streams with transcription off and no frame lost. The sender runs
//! on the same box; `_wall` longer than the audio says it could not keep the real-time pace.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::{Duration, Instant};

use diala_edge_tests::twilio::{FRAME_SAMPLES, Messages, TestPki, Twilio, mulaw_8k, play};
use diala_edge_tests::{Appliance, http_get, speech_model, twilio_addr};

const SID: &str = "AC00000000000000000000000000000a01";
const TOKEN: &str = "bench-auth-token";
/// Linux reports process CPU time in /proc in units of USER_HZ, which is 100.
const TICKS_PER_SECOND: f64 = 100.0;

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let off = env_count("DIALA_BENCH_STREAMS", 200);
    let on = env_count("DIALA_BENCH_ASR_STREAMS", 4);
    run("streams_transcription_off", off, false);
    run("streams_transcription_on", on, true);
    println!("streams_goal_transcription_off: 1000 streams with 0 frames lost");
}

fn run(name: &str, streams: usize, transcribe: bool) {
    let pki = TestPki::new();
    let appliance = Appliance::new();
    std::fs::write(appliance.root().join("twilio.pem"), &pki.cert_pem).unwrap();
    appliance.write_secret("twilio-tls-key", pki.key_pem.as_bytes(), 0o600);
    appliance.write_secret("twilio-acme-auth-token", TOKEN.as_bytes(), 0o600);
    let asr = match transcribe {
        true => format!(
            "[asr]\nmodel = \"{}\"\nworkers = 2\nqueue_depth = 64\n\n",
            speech_model().display()
        ),
        false => String::new(),
    };
    appliance.write_config(&format!(
        "{asr}[twilio]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://edge.bench.example\"\n\
         certificate = \"twilio.pem\"\n\n[[tenants]]\nid = \"acme\"\nname = \"Acme\"\n\
         [tenants.twilio]\naccount_sid = \"{SID}\"\n"
    ));
    let mut daemon = appliance.spawn();
    let ready = daemon.wait_for("READY=1");
    let metrics = daemon.ready_addr_from(&ready);
    let twilio = Twilio {
        addr: twilio_addr(&ready),
        ca_pem: pki.ca_pem.clone(),
        public_url: "https://edge.bench.example".to_owned(),
        account_sid: SID.to_owned(),
        auth_token: TOKEN.to_owned(),
    };
    let jfk = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/audio/jfk.wav");
    let audio = mulaw_8k(&jfk);
    let frames = audio.len().div_ceil(FRAME_SAMPLES) * streams;

    let cpu_before = cpu_seconds(daemon.pid());
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let failed = runtime.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..streams {
            let (twilio, audio) = (twilio.clone(), audio.clone());
            calls.spawn(async move {
                let call = format!("CA{i:032x}");
                let answer = twilio.call(&call, "+14155550100", "+14155550199").await;
                let url = diala_edge_tests::twilio::stream_url(&answer.body)?;
                let mut stream = twilio.open_stream(&url).await.ok()?;
                let mut messages = Messages::new(SID, &call);
                let pace = Some(Duration::from_millis(20));
                play(&mut stream, &mut messages, &audio, pace, true)
                    .await
                    .ok()
            });
        }
        let mut failed = 0;
        while let Some(done) = calls.join_next().await {
            failed += usize::from(!matches!(done, Ok(Some(()))));
        }
        failed
    });
    let page = wait_for_ended(metrics, streams);
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(daemon.pid()) - cpu_before;
    daemon.stop();

    let lost = sum(&page, "diala_edge_call_frames_lost_total")
        + sum(&page, "diala_edge_twilio_missing_messages_total");
    let audio_seconds = audio.len() as f64 / 8000.0;
    println!("{name}: {streams} streams");
    println!("{name}_failed_to_connect: {failed} streams");
    println!("{name}_frames_sent: {frames} frames");
    println!("{name}_frames_lost: {lost} frames");
    println!("{name}_wall: {wall:.1} s for {audio_seconds:.1} s of audio");
    // The daemon's CPU seconds per second of call audio it took in, per stream: the share of
    // one core a live call costs, however late a loaded sender delivered it.
    let per_stream = 100.0 * cpu / (audio_seconds * streams as f64);
    println!("{name}_cpu_per_stream: {per_stream:.3} % of a core");
    if transcribe {
        println!(
            "{name}_segments_stored: {} segments",
            sum(&page, "diala_edge_segments_stored_total")
        );
        println!(
            "{name}_asr_busy: {} utterances",
            sum(&page, "diala_edge_utterances_asr_busy_total")
        );
        println!(
            "{name}_segment_delay_p95: {} s",
            p95(&page, "diala_edge_segment_delay_seconds")
        );
    }
}

/// The daemon's user and system CPU time so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / TICKS_PER_SECOND
}

/// Waits until `calls` calls have ended and returns the metrics page then.
fn wait_for_ended(metrics: std::net::SocketAddr, calls: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (_, page) = http_get(metrics, "/metrics");
        let ended = sum(&page, "diala_edge_calls_ended_total")
            + sum(&page, "diala_edge_calls_refused_total");
        if ended >= calls as f64 || Instant::now() > deadline {
            return page;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The sum of every sample of `name` (all label sets).
fn sum(page: &str, name: &str) -> f64 {
    page.lines()
        .filter(|l| {
            l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b' ' | b'{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |total, value| total + value)
}

/// The upper bound of the histogram bucket holding the 95th percentile.
fn p95(page: &str, name: &str) -> String {
    let count = sum(page, &format!("{name}_count"));
    let bucket = format!("{name}_bucket{{le=\"");
    page.lines()
        .filter_map(|l| l.strip_prefix(&bucket))
        .filter_map(|l| {
            let (le, value) = l.split_once("\"} ")?;
            Some((le.to_owned(), value.trim().parse::<f64>().ok()?))
        })
        .find(|(_, cumulative)| count > 0.0 && *cumulative >= 0.95 * count)
        .map_or_else(|| "none".to_owned(), |(le, _)| le)
}
