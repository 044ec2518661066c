//! Agent calls with the production clients against the local Bedrock and Polly stand-ins, the
//! call side played by a test client that acts like Twilio: it plays the frames it gets and
//! echoes marks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod support;

use std::time::{Duration, SystemTime};

use diala_agent::config::TurnLimits;
use diala_agent::credentials::AgentCredentials;
use diala_agent::run::run;
use diala_agent::turn::{Action, Event, Role, TurnLoop};
use diala_media::g711::Law;
use support::{Behaviour, World, redactor};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The call side: what Twilio would send and receive on the Media Stream.
struct Call {
    events: mpsc::Sender<Event>,
    actions: mpsc::Receiver<Action>,
    agent: JoinHandle<TurnLoop>,
}

/// What one reply did on the call.
#[derive(Debug, Default)]
struct Heard {
    frames: Vec<Vec<u8>>,
    agent_turn: Option<String>,
    fallback: Option<(String, String)>,
}

impl Call {
    fn start(world: &World, credentials: AgentCredentials) -> Call {
        let (events, call_events) = mpsc::channel(16);
        let (out, actions) = mpsc::channel(64);
        let agent = tokio::spawn(run(
            support::turn_loop(TurnLimits::default()),
            world.services(credentials),
            call_events,
            out,
        ));
        Call {
            events,
            actions,
            agent,
        }
    }

    async fn say(&self, text: &str) {
        self.events.send(Event::CallerSpeech).await.unwrap();
        let redacted = redactor().redact(text).forward;
        self.events
            .send(Event::UtteranceEnded(redacted))
            .await
            .unwrap();
    }

    async fn next(&mut self) -> Action {
        let action = tokio::time::timeout(Duration::from_secs(20), self.actions.recv());
        action
            .await
            .expect("the agent went silent")
            .expect("the agent stopped")
    }

    /// Plays everything, echoing each mark, until the reply is stored or the call falls back.
    async fn listen(&mut self) -> Heard {
        let mut heard = Heard::default();
        loop {
            match self.next().await {
                Action::Play { frames, mark, .. } => {
                    heard.frames.extend(frames);
                    self.events.send(Event::Mark(mark)).await.unwrap();
                }
                Action::AgentTurn { text, .. } => {
                    heard.agent_turn = Some(text.as_str().to_owned());
                    return heard;
                }
                Action::Fallback {
                    prompt,
                    transfer_to,
                } => {
                    heard.fallback = Some((prompt, transfer_to));
                    return heard;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    async fn hang_up(self) -> TurnLoop {
        drop(self.events);
        self.agent.await.unwrap()
    }
}

fn decoded_rms(frames: &[Vec<u8>]) -> f64 {
    let mut samples = Vec::new();
    for frame in frames {
        Law::MuLaw.decode(frame, &mut samples);
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

#[tokio::test]
async fn a_phone_number_reaches_bedrock_only_as_its_token_and_the_reply_is_heard() {
    let world = World::start().await;
    let mut call = Call::start(&world, world.vended());

    call.events.send(Event::CallAnswered).await.unwrap();
    let greeting = call.listen().await;
    assert_eq!(
        greeting.agent_turn.as_deref(),
        Some("Hello, this is the clinic.")
    );

    let said = "yes my number is 415 555 0134 call me back";
    call.say(said).await;
    let reply = call.listen().await;
    let redacted = redactor().redact(said).forward;
    let token = redacted
        .as_str()
        .split_whitespace()
        .find(|w| w.starts_with("[PHONE:"))
        .unwrap();
    assert_eq!(
        reply.agent_turn.as_deref(),
        Some(
            format!("Thank you. I will call {token} back today. Is there anything else?").as_str()
        )
    );
    assert!(reply.frames.len() > 50, "{} frames", reply.frames.len());
    assert!(reply.frames.iter().all(|f| f.len() == 160));
    assert!(decoded_rms(&reply.frames) > 1000.0, "the reply is audible");

    let bedrock = world.bedrock.log();
    assert_eq!(bedrock.len(), 1);
    assert_eq!(bedrock[0].status, 200);
    assert!(
        bedrock[0]
            .path
            .starts_with("/model/anthropic.claude-3-haiku"),
        "{}",
        bedrock[0].path
    );
    assert!(bedrock[0].body.contains(token), "{}", bedrock[0].body);
    for raw in ["415", "555", "0134"] {
        assert!(
            !bedrock[0].body.contains(raw),
            "{raw} reached Bedrock: {}",
            bedrock[0].body
        );
    }

    let polly = world.polly.log();
    assert!(polly.iter().all(|r| r.status == 200 && r.key_id.is_some()));
    let spoken: Vec<String> = polly.iter().map(|r| r.body.clone()).collect();
    assert!(
        spoken
            .iter()
            .any(|b| b.contains("I will call the number you gave back today.")),
        "{spoken:?}"
    );
    assert!(
        spoken
            .iter()
            .all(|b| !b.contains("PHONE") && !b.contains("555")),
        "{spoken:?}"
    );

    call.hang_up().await;
}

#[tokio::test]
async fn barge_in_clears_playback_and_the_model_hears_only_what_was_played() {
    let world = World::start().await;
    let mut call = Call::start(&world, world.vended());
    call.say("I need an appointment").await;

    // The first sentence plays to its mark; the caller talks over the second, queued after it.
    let Action::Play { mark, .. } = call.next().await else {
        panic!("expected audio")
    };
    let Action::Play { sentence: 1, .. } = call.next().await else {
        panic!("expected the second sentence")
    };
    call.events.send(Event::Mark(mark)).await.unwrap();
    call.events.send(Event::CallerSpeech).await.unwrap();
    let text = loop {
        match call.next().await {
            Action::Play { .. } => {}
            Action::Clear => break call.next().await,
            other => panic!("expected playback to be cleared, got {other:?}"),
        }
    };
    let Action::AgentTurn { text, .. } = text else {
        panic!("expected the stored turn, got {text:?}")
    };
    assert!(text.as_str().starts_with("Of course."), "{text}");
    assert!(
        !text.as_str().contains("suit you"),
        "the caller never heard the end: {text}"
    );

    let redacted = redactor().redact("no, Tuesday").forward;
    call.events
        .send(Event::UtteranceEnded(redacted))
        .await
        .unwrap();
    call.listen().await;
    let second = &world.bedrock.log()[1].body;
    assert!(
        second.contains("Of course.") && !second.contains("suit you"),
        "{second}"
    );

    let agent = call.hang_up().await;
    let roles: Vec<Role> = agent.history().messages().iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );
}

#[tokio::test]
async fn bedrock_failing_gives_the_fallback_and_the_transfer() {
    let world = World::start().await;
    world.bedrock.set(Behaviour::Fail);
    let mut call = Call::start(&world, world.vended());
    call.say("hello?").await;

    let heard = call.listen().await;
    let expected = (
        "Let me put you through to the front desk.",
        "sip:desk@pbx.example",
    );
    assert_eq!(
        heard
            .fallback
            .as_ref()
            .map(|(p, t)| (p.as_str(), t.as_str())),
        Some(expected)
    );
    let statuses: Vec<u16> = world.bedrock.log().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [500, 500, 500],
        "the first attempt and the two retries"
    );
    assert!(call.hang_up().await.ended());
}

#[tokio::test]
async fn bedrock_unreachable_gives_the_fallback_and_the_transfer() {
    let world = World::start().await;
    world.bedrock.stop();
    let mut call = Call::start(&world, world.vended());
    call.say("hello?").await;
    assert!(call.listen().await.fallback.is_some());
    assert!(world.bedrock.log().is_empty());
}

#[tokio::test]
async fn expired_vended_credentials_are_refreshed_without_dropping_the_call() {
    let world = World::start().await;
    let stale = world.keys.issue(SystemTime::now() - Duration::from_secs(1));
    let stale_id = stale.access_key_id.clone();
    // The control plane first vends a key that is valid but inside the refresh margin.
    let credentials = AgentCredentials::vended(Some(stale), world.control_plane(&[120, 3600]));
    let mut call = Call::start(&world, credentials);

    call.say("I need an appointment").await;
    assert!(call.listen().await.agent_turn.is_some());
    call.say("Monday is fine").await;
    assert!(call.listen().await.agent_turn.is_some());

    let log: Vec<_> = world
        .bedrock
        .log()
        .into_iter()
        .chain(world.polly.log())
        .collect();
    assert!(log.iter().all(|r| r.status == 200), "{log:?}");
    let keys: std::collections::BTreeSet<_> = log.iter().filter_map(|r| r.key_id.clone()).collect();
    assert!(!keys.contains(&stale_id), "the expired key was used");
    assert!(
        keys.len() >= 2,
        "the short-lived key was replaced before it ran out: {keys:?}"
    );
    assert!(!call.hang_up().await.ended());
}

#[tokio::test]
async fn credentials_from_a_systemd_credential_file() {
    let world = World::start().await;
    let issued = world
        .keys
        .issue(SystemTime::now() + Duration::from_secs(3600));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aws");
    let json = serde_json::json!({
        "Version": 1,
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key.as_str(),
        "SessionToken": issued.session_token.as_ref().unwrap().as_str(),
    });
    std::fs::write(&path, json.to_string()).unwrap();

    let mut call = Call::start(&world, AgentCredentials::from_file(path));
    call.say("I need an appointment").await;
    assert!(call.listen().await.agent_turn.is_some());
    assert_eq!(
        world.bedrock.log()[0].key_id.as_deref(),
        Some(issued.access_key_id.as_str())
    );
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_secret_is_refused_and_the_call_falls_back() {
    let world = World::start().await;
    let mut forged = world
        .keys
        .issue(SystemTime::now() + Duration::from_secs(3600));
    forged.secret_access_key = "not-the-secret".to_owned().into();
    let credentials = AgentCredentials::vended(Some(forged), world.control_plane(&[3600]));
    let mut call = Call::start(&world, credentials);
    call.say("hello?").await;

    assert!(call.listen().await.fallback.is_some());
    let log = world.bedrock.log();
    assert!(
        log.iter().all(|r| r.status == 403 && r.key_id.is_none()),
        "{log:?}"
    );
}

#[tokio::test]
async fn polly_failing_gives_the_fallback_instead_of_silence() {
    let world = World::start().await;
    world.polly.set(Behaviour::Fail);
    let mut call = Call::start(&world, world.vended());
    call.events.send(Event::CallAnswered).await.unwrap();

    assert!(call.listen().await.fallback.is_some());
    let statuses: Vec<u16> = world.polly.log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 500]);
}
