//! The thin async shell around the turn loop: it feeds the loop the call's events, the
//! services' answers and the passing of time, performs the requests the loop asks for, and
//! passes on what the call must do (play, clear, store, fall back).
//!
//! It decides nothing itself, and never holds text that is not redacted.

use std::time::Instant;

use diala_media::g711::Law;
use diala_redact::Redacted;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::audio::{POLLY_RATE, encode_speech};
use crate::bedrock::Bedrock;
use crate::polly::Polly;
use crate::turn::{Action, Event, Message, TurnId, TurnLoop};

/// The services one call's agent talks to.
#[derive(Debug, Clone)]
pub struct Services {
    /// The tenant's model.
    pub bedrock: Bedrock,
    /// The tenant's voice.
    pub polly: Polly,
    /// The tenant's system prompt, through the redactor like everything sent.
    pub system: Redacted<String>,
    /// The call's G.711 law.
    pub law: Law,
}

/// Runs `turn_loop` until the call's events end, the call side goes away, or the loop falls
/// back. `call` carries [`Event::CallAnswered`], [`Event::CallerSpeech`],
/// [`Event::UtteranceEnded`] and [`Event::Mark`]; `out` receives [`Action::Play`],
/// [`Action::Clear`], [`Action::AgentTurn`] and [`Action::Fallback`]. Returns the loop, whose
/// history the caller may keep.
pub async fn run(
    mut turn_loop: TurnLoop,
    services: Services,
    mut call: mpsc::Receiver<Event>,
    out: mpsc::Sender<Action>,
) -> TurnLoop {
    let (answers, mut results) = mpsc::channel(64);
    let mut shell = Shell {
        services,
        answers,
        model: None,
    };
    loop {
        let deadline = turn_loop
            .next_deadline()
            .map(tokio::time::Instant::from_std);
        let actions = tokio::select! {
            event = call.recv() => match event {
                Some(event) => turn_loop.handle(now(), event),
                None => break,
            },
            Some(event) = results.recv() => turn_loop.handle(now(), event),
            () = sleep_until(deadline), if deadline.is_some() => turn_loop.on_time(now()),
        };
        for action in actions {
            if !shell.perform(action, &out).await {
                return turn_loop;
            }
        }
        if turn_loop.ended() {
            break;
        }
    }
    shell.stop_model();
    turn_loop
}

/// The current time, from tokio's clock so tests can run on a paused one.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

struct Shell {
    services: Services,
    answers: mpsc::Sender<Event>,
    model: Option<(TurnId, JoinHandle<()>)>,
}

impl Shell {
    /// Performs one action; false once the call side has gone.
    async fn perform(&mut self, action: Action, out: &mpsc::Sender<Action>) -> bool {
        match action {
            Action::Converse {
                turn,
                attempt,
                messages,
            } => {
                self.stop_model();
                let task = tokio::spawn(converse(
                    self.services.clone(),
                    turn,
                    attempt,
                    messages,
                    self.answers.clone(),
                ));
                self.model = Some((turn, task));
                true
            }
            Action::CancelConverse { turn } => {
                if self.model.as_ref().is_some_and(|(t, _)| *t == turn) {
                    self.stop_model();
                }
                true
            }
            Action::Synthesize {
                turn,
                sentence,
                attempt,
                text,
            } => {
                let (services, answers) = (self.services.clone(), self.answers.clone());
                tokio::spawn(async move {
                    let event = synthesize(&services, turn, sentence, attempt, &text).await;
                    let _ = answers.send(event).await;
                });
                true
            }
            other => out.send(other).await.is_ok(),
        }
    }

    fn stop_model(&mut self) {
        if let Some((_, task)) = self.model.take() {
            task.abort();
        }
    }
}

async fn converse(
    services: Services,
    turn: TurnId,
    attempt: u32,
    messages: Vec<Message>,
    answers: mpsc::Sender<Event>,
) {
    let failed = Event::ModelFailed { turn, attempt };
    let mut reply = match services.bedrock.converse(&services.system, &messages).await {
        Ok(reply) => reply,
        Err(error) => {
            tracing::warn!(%turn, attempt, %error, "the model request failed");
            let _ = answers.send(failed).await;
            return;
        }
    };
    loop {
        let event = match reply.next_text().await {
            Ok(Some(text)) => Event::ModelText {
                turn,
                attempt,
                text,
            },
            Ok(None) => Event::ModelDone { turn, attempt },
            Err(error) => {
                tracing::warn!(%turn, attempt, %error, "the model reply broke off");
                failed.clone()
            }
        };
        let last = !matches!(event, Event::ModelText { .. });
        if answers.send(event).await.is_err() || last {
            return;
        }
    }
}

async fn synthesize(
    services: &Services,
    turn: TurnId,
    sentence: usize,
    attempt: u32,
    text: &Redacted<String>,
) -> Event {
    let failed = Event::SpeechFailed {
        turn,
        sentence,
        attempt,
    };
    let speech = match services.polly.synthesize(text).await {
        Ok(speech) => speech,
        Err(error) => {
            tracing::warn!(%turn, sentence, attempt, %error, "the speech request failed");
            return failed;
        }
    };
    match encode_speech(&speech.pcm, POLLY_RATE, services.law) {
        Ok(audio) => Event::SpeechReady {
            turn,
            sentence,
            attempt,
            audio,
        },
        Err(error) => {
            tracing::warn!(%turn, sentence, attempt, %error, "the speech could not be encoded");
            failed
        }
    }
}
