//! The turn loop on explicit time.

use std::time::{Duration, Instant};

use diala_redact::{Policy, Redacted, Redactor, TokenKey};

use super::*;
use crate::audio::SpeechAudio;
use crate::config::{Fallback, TurnLimits};

fn redactor() -> Redactor {
    Redactor::new(TokenKey::from_bytes([7; 32]), Policy::keep_nothing())
}

fn redacted(text: &str) -> Redacted<String> {
    redactor().redact(text).forward
}

fn new_loop() -> TurnLoop {
    let settings = LoopSettings {
        greeting: "Hello, clinic here.".to_owned(),
        limits: TurnLimits {
            first_token: Duration::from_millis(1000),
            first_audio: Duration::from_millis(800),
            retries: 1,
        },
        fallback: Fallback {
            prompt: "Putting you through.".to_owned(),
            transfer_to: "sip:desk@pbx.example".to_owned(),
        },
    };
    TurnLoop::new(settings, redactor())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `seconds` of audio: 50 frames a second.
fn audio(seconds: usize) -> SpeechAudio {
    SpeechAudio {
        frames: vec![vec![0xff; 160]; 50 * seconds],
    }
}

fn text(turn: TurnId, chunk: &str) -> Event {
    Event::ModelText {
        turn,
        attempt: 0,
        text: chunk.to_owned(),
    }
}

fn ready(turn: TurnId, sentence: usize, seconds: usize) -> Event {
    Event::SpeechReady {
        turn,
        sentence,
        attempt: 0,
        audio: audio(seconds),
    }
}

fn synthesized(actions: &[Action]) -> Vec<String> {
    let texts = actions.iter().filter_map(|a| match a {
        Action::Synthesize { text, .. } => Some(text.as_str().to_owned()),
        _ => None,
    });
    texts.collect()
}

fn marks(actions: &[Action]) -> Vec<String> {
    let marks = actions.iter().filter_map(|a| match a {
        Action::Play { mark, .. } => Some(mark.clone()),
        _ => None,
    });
    marks.collect()
}

fn all_text(history: &History) -> Vec<(Role, String)> {
    let parts = history.messages().iter().map(|m| {
        let joined: Vec<&str> = m.parts.iter().map(Redacted::as_str).collect();
        (m.role, joined.join(" "))
    });
    parts.collect()
}

/// Starts a turn on "I need an appointment." and returns its id.
fn ask(agent: &mut TurnLoop, t0: Instant) -> TurnId {
    let actions = agent.handle(
        t0,
        Event::UtteranceEnded(redacted("I need an appointment.")),
    );
    match actions.as_slice() {
        [
            Action::Converse {
                turn,
                attempt: 0,
                messages,
            },
        ] => {
            assert_eq!(messages.len(), 1);
            *turn
        }
        other => panic!("expected one model request, got {other:?}"),
    }
}

#[test]
fn the_first_sentence_plays_while_the_rest_is_generated() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let turn = ask(&mut agent, t0);

    let actions = agent.handle(t0 + ms(100), text(turn, "Sure. Which day"));
    assert_eq!(synthesized(&actions), vec!["Sure."]);
    let actions = agent.handle(t0 + ms(150), ready(turn, 0, 1));
    assert_eq!(marks(&actions), vec!["t0s0"]);

    let actions = agent.handle(t0 + ms(200), text(turn, " suits you? "));
    assert_eq!(synthesized(&actions), vec!["Which day suits you?"]);
    assert!(
        agent
            .handle(t0 + ms(210), Event::ModelDone { turn, attempt: 0 })
            .is_empty()
    );
    let actions = agent.handle(t0 + ms(260), ready(turn, 1, 2));
    assert_eq!(marks(&actions), vec!["t0s1"]);

    assert!(
        agent
            .handle(t0 + ms(1150), Event::Mark("t0s0".into()))
            .is_empty()
    );
    let actions = agent.handle(t0 + ms(3150), Event::Mark("t0s1".into()));
    assert!(matches!(&actions[..], [Action::AgentTurn { text, .. }]
        if text.as_str() == "Sure. Which day suits you?"));
    assert!(!agent.replying());
    assert_eq!(
        all_text(agent.history()),
        vec![
            (Role::User, "I need an appointment.".to_owned()),
            (Role::Assistant, "Sure. Which day suits you?".to_owned()),
        ]
    );
}

#[test]
fn sentences_play_in_order_whatever_order_their_audio_arrives_in() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let turn = ask(&mut agent, t0);
    agent.handle(t0, text(turn, "One. Two. Three."));
    agent.handle(t0, Event::ModelDone { turn, attempt: 0 });

    assert!(marks(&agent.handle(t0 + ms(10), ready(turn, 2, 1))).is_empty());
    assert!(marks(&agent.handle(t0 + ms(20), ready(turn, 1, 1))).is_empty());
    let actions = agent.handle(t0 + ms(30), ready(turn, 0, 1));
    assert_eq!(marks(&actions), vec!["t0s0", "t0s1", "t0s2"]);
}

#[test]
fn barge_in_clears_playback_and_keeps_what_the_caller_heard() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let turn = ask(&mut agent, t0);
    agent.handle(
        t0,
        text(
            turn,
            "Sure, I can help. We have slots on Monday Tuesday and Friday. ",
        ),
    );
    agent.handle(t0, ready(turn, 0, 1));
    agent.handle(t0, ready(turn, 1, 4));
    agent.handle(t0 + ms(1000), Event::Mark("t0s0".into()));

    // Two of the second sentence's four seconds played: half its words were heard.
    let actions = agent.handle(t0 + ms(3000), Event::CallerSpeech);
    assert!(matches!(actions[0], Action::Clear));
    assert!(
        matches!(actions[1], Action::CancelConverse { .. }),
        "the model was still going"
    );
    let heard = "Sure, I can help. We have slots on";
    assert!(matches!(&actions[2], Action::AgentTurn { text, .. } if text.as_str() == heard));
    assert_eq!(
        all_text(agent.history())[1],
        (Role::Assistant, heard.to_owned())
    );

    // The old turn's late events change nothing.
    assert!(
        agent
            .handle(t0 + ms(3100), text(turn, "Also Sunday."))
            .is_empty()
    );
    assert!(
        agent
            .handle(t0 + ms(3100), Event::Mark("t0s1".into()))
            .is_empty()
    );
    assert!(!agent.replying());
}

#[test]
fn a_reply_heard_not_at_all_leaves_the_callers_turns_joined() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let turn = ask(&mut agent, t0);
    agent.handle(t0, text(turn, "Let me see"));
    let actions = agent.handle(t0 + ms(50), Event::CallerSpeech);
    assert!(
        matches!(&actions[..], [Action::CancelConverse { .. }]),
        "{actions:?}"
    );

    let actions = agent.handle(t0 + ms(900), Event::UtteranceEnded(redacted("On Monday.")));
    let [Action::Converse { messages, .. }] = &actions[..] else {
        panic!("expected a model request, got {actions:?}");
    };
    assert_eq!(messages.len(), 1, "one caller message, two parts");
    assert_eq!(messages[0].parts.len(), 2);
}

#[test]
fn tokens_reach_the_model_and_are_spoken_as_words() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let said = redacted("call me back on 415 555 0134 please");
    let token = said.as_str().split_whitespace().nth(4).unwrap().to_owned();
    assert!(token.starts_with("[PHONE:"), "{said}");

    let actions = agent.handle(t0, Event::UtteranceEnded(said));
    let [Action::Converse { turn, messages, .. }] = &actions[..] else {
        panic!("expected a model request");
    };
    let sent = messages[0].parts[0].as_str();
    assert!(sent.contains(&token) && !sent.contains("555"), "{sent}");

    let reply = format!("I will call {token} tomorrow. Or is 650 555 0199 better?");
    let actions = agent.handle(t0 + ms(10), text(*turn, &reply));
    agent.handle(
        t0 + ms(10),
        Event::ModelDone {
            turn: *turn,
            attempt: 0,
        },
    );
    let spoken = synthesized(&actions);
    assert_eq!(spoken[0], "I will call the number you gave tomorrow.");
    assert!(
        !spoken.iter().any(|s| s.contains('[') || s.contains("555")),
        "{spoken:?}"
    );
}

#[test]
fn a_missing_first_token_is_retried_then_falls_back() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let turn = ask(&mut agent, t0);
    assert_eq!(agent.next_deadline(), Some(t0 + ms(1000)));
    assert!(agent.on_time(t0 + ms(999)).is_empty());

    let actions = agent.on_time(t0 + ms(1000));
    assert!(matches!(actions[0], Action::CancelConverse { .. }));
    assert!(matches!(actions[1], Action::Converse { attempt: 1, .. }));
    // The first attempt's late answer is ignored.
    assert!(agent.handle(t0 + ms(1100), text(turn, "Late. ")).is_empty());

    let actions = agent.handle(t0 + ms(1200), Event::ModelFailed { turn, attempt: 1 });
    assert!(matches!(&actions[..], [
        Action::CancelConverse { .. },
        Action::Fallback { prompt, transfer_to }
    ] if prompt == "Putting you through." && transfer_to == "sip:desk@pbx.example"));
    assert!(agent.ended());
    assert!(agent.handle(t0 + ms(1300), Event::CallerSpeech).is_empty());
}

#[test]
fn speech_that_never_comes_is_retried_then_falls_back_and_stops_playback() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let turn = ask(&mut agent, t0);
    agent.handle(t0, text(turn, "Sure. Monday works. "));
    agent.handle(t0 + ms(100), ready(turn, 0, 1));

    let actions = agent.on_time(t0 + ms(800));
    assert!(matches!(
        &actions[..],
        [Action::Synthesize {
            sentence: 1,
            attempt: 1,
            ..
        }]
    ));
    let stale = Event::SpeechReady {
        turn,
        sentence: 1,
        attempt: 0,
        audio: audio(1),
    };
    assert!(agent.handle(t0 + ms(900), stale).is_empty());

    let failed = Event::SpeechFailed {
        turn,
        sentence: 1,
        attempt: 1,
    };
    let actions = agent.handle(t0 + ms(1000), failed);
    assert!(matches!(actions[0], Action::Clear), "{actions:?}");
    assert!(matches!(actions.last(), Some(Action::Fallback { .. })));
}

#[test]
fn the_greeting_is_spoken_but_not_sent_to_the_model() {
    let (t0, mut agent) = (Instant::now(), new_loop());
    let actions = agent.handle(t0, Event::CallAnswered);
    assert_eq!(synthesized(&actions), vec!["Hello, clinic here."]);
    let turn = TurnId(0);
    agent.handle(t0 + ms(100), ready(turn, 0, 1));
    let actions = agent.handle(t0 + ms(1100), Event::Mark("t0s0".into()));
    assert!(matches!(&actions[..], [Action::AgentTurn { .. }]));
    assert!(agent.history().messages().is_empty());
}
