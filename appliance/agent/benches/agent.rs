//! The latency the voice agent adds, with local Bedrock and Polly stand-ins that answer at once
//! (over TLS on loopback, SigV4 checked), through the production clients.
//!
//! Printed as `name: value unit`: per stage and end to end from the end of the caller's
//! utterance to the first reply frame, p50 and p95; and caller speech to `clear` on barge-in.
//! The VAD endpoint delay and ASR are configured and measured elsewhere (`diala-media`,
//! `diala-asr` benches); this measures what the agent adds after them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs,
    clippy::indexing_slicing
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use diala_agent::audio::{POLLY_RATE, encode_speech};
use diala_agent::config::TurnLimits;
use diala_agent::run::run;
use diala_agent::turn::{Action, Event, Message, Role};
use diala_media::g711::Law;
use tokio::sync::mpsc;

const TURNS: usize = 200;
const UTTERANCE: &str = "hi it's about my appointment you can reach me on 415 555 0134";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let world = support::World::start().await;
    let services = world.services(world.vended());
    let redactor = support::redactor();

    let mut redaction = Vec::new();
    let mut first_token = Vec::new();
    let mut first_audio = Vec::new();
    let mut encoding = Vec::new();
    for _ in 0..TURNS {
        let start = Instant::now();
        let text = redactor.redact(UTTERANCE).forward;
        redaction.push(start.elapsed());

        let messages = [Message {
            role: Role::User,
            parts: vec![text],
        }];
        let start = Instant::now();
        let mut reply = services
            .bedrock
            .converse(&services.system, &messages)
            .await
            .unwrap();
        let first = reply.next_text().await.unwrap().unwrap();
        first_token.push(start.elapsed());
        while reply.next_text().await.unwrap().is_some() {}

        let sentence = redactor
            .redact(&format!("{first}I will call the number you gave."))
            .forward;
        let start = Instant::now();
        let speech = services.polly.synthesize(&sentence).await.unwrap();
        first_audio.push(speech.first_byte - start);

        let start = Instant::now();
        let audio = encode_speech(&speech.pcm, POLLY_RATE, Law::MuLaw).unwrap();
        encoding.push(start.elapsed());
        assert!(!audio.frames.is_empty());
    }

    let (to_first_frame, to_clear) = whole_turns(&world, &services).await;
    report("redaction", redaction);
    report("bedrock_first_token", first_token);
    report("polly_first_audio_byte", first_audio);
    report("encoding_first_sentence", encoding);
    let p95 = report("utterance_end_to_first_frame", to_first_frame);
    report("caller_speech_to_clear", to_clear);
    println!("goal_added_latency: 50 ms");
    println!("goal_met: {}", u8::from(p95 < Duration::from_millis(50)));
    println!("peer_voice_to_voice_claimed: 500-800 ms");
    println!("peer_voice_to_voice_measured_p50: 1400 ms");
}

/// Whole turns through the turn loop and its shell: utterance end to the first `Play`, then a
/// barge-in to the `Clear`.
async fn whole_turns(
    world: &support::World,
    services: &diala_agent::run::Services,
) -> (Vec<Duration>, Vec<Duration>) {
    let redactor = support::redactor();
    let mut to_first_frame = Vec::new();
    let mut to_clear = Vec::new();
    for _ in 0..TURNS {
        let (events, call_events) = mpsc::channel(16);
        let (out, mut actions) = mpsc::channel(64);
        let agent = tokio::spawn(run(
            support::turn_loop(TurnLimits::default()),
            services.clone(),
            call_events,
            out,
        ));

        let start = Instant::now();
        events
            .send(Event::UtteranceEnded(redactor.redact(UTTERANCE).forward))
            .await
            .unwrap();
        let first = actions.recv().await.unwrap();
        assert!(matches!(first, Action::Play { .. }), "{first:?}");
        to_first_frame.push(start.elapsed());

        let start = Instant::now();
        events.send(Event::CallerSpeech).await.unwrap();
        loop {
            match actions.recv().await.unwrap() {
                Action::Clear => break,
                Action::Play { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        to_clear.push(start.elapsed());
        drop(events);
        agent.await.unwrap();
    }
    let _ = world;
    (to_first_frame, to_clear)
}

/// Prints p50 and p95 in milliseconds; returns p95.
fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("{name}_p50: {:.3} ms", ms(at(0.5)));
    println!("{name}_p95: {:.3} ms", ms(at(0.95)));
    at(0.95)
}
