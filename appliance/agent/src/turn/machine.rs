//! The turn loop's state and its transitions.

use std::time::Instant;

use diala_redact::{Redacted, Redactor};

use super::playback::{Playback, Queued, heard_words};
use super::{Action, Event, History, TurnId};
use crate::audio::SpeechAudio;
use crate::config::{Fallback, TurnLimits};
use crate::sentence::SentenceCutter;
use crate::speakable::speakable;

/// What the loop needs from the tenant's configuration.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    /// Said when the call is answered.
    pub greeting: String,
    /// Timeouts and retries.
    pub limits: TurnLimits,
    /// What happens when the services cannot answer.
    pub fallback: Fallback,
}

#[derive(Debug, PartialEq, Eq)]
enum Model {
    /// Asked, no text yet; the first-token deadline runs.
    Waiting {
        deadline: Instant,
    },
    Streaming,
    Done,
}

#[derive(Debug)]
struct Sentence {
    /// As the model wrote it, redacted again: what goes into the history.
    said: Redacted<String>,
    /// What Polly speaks: tokens replaced by phrases.
    spoken: Redacted<String>,
    attempt: u32,
    /// The first-audio deadline, while synthesis is pending.
    deadline: Option<Instant>,
    audio: Option<SpeechAudio>,
}

#[derive(Debug)]
struct Turn {
    id: TurnId,
    greeting: bool,
    attempt: u32,
    retries_left: u32,
    model: Model,
    cutter: SentenceCutter,
    sentences: Vec<Sentence>,
    next_to_play: usize,
    heard: usize,
}

/// The turn loop of one call.
#[derive(Debug)]
pub struct TurnLoop {
    settings: LoopSettings,
    redactor: Redactor,
    history: History,
    next_turn: u64,
    turn: Option<Turn>,
    playback: Playback,
    ended: bool,
}

impl TurnLoop {
    /// A loop for one call; `redactor` is the tenant's, and re-redacts every model sentence.
    pub fn new(settings: LoopSettings, redactor: Redactor) -> Self {
        TurnLoop {
            settings,
            redactor,
            history: History::new(),
            next_turn: 0,
            turn: None,
            playback: Playback::default(),
            ended: false,
        }
    }

    /// The conversation so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Whether the loop has handed the call to the fallback.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether a reply is being generated or played.
    pub fn replying(&self) -> bool {
        self.turn.is_some() || !self.playback.is_empty()
    }

    /// The next time [`TurnLoop::on_time`] must be called, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let turn = self.turn.as_ref()?;
        let model = match turn.model {
            Model::Waiting { deadline } => Some(deadline),
            _ => None,
        };
        turn.sentences
            .iter()
            .filter_map(|s| s.deadline)
            .chain(model)
            .min()
    }

    /// Feeds one event at `now`.
    pub fn handle(&mut self, now: Instant, event: Event) -> Vec<Action> {
        if self.ended {
            return Vec::new();
        }
        let mut actions = Vec::new();
        match event {
            Event::CallAnswered => self.greet(now, &mut actions),
            Event::CallerSpeech => self.interrupt(now, &mut actions),
            Event::UtteranceEnded(text) => self.utterance(now, text, &mut actions),
            Event::ModelText {
                turn,
                attempt,
                text,
            } => {
                if self.is_model(turn, attempt) {
                    self.model_text(now, &text, &mut actions);
                }
            }
            Event::ModelDone { turn, attempt } => {
                if self.is_model(turn, attempt) {
                    self.model_done(now, &mut actions);
                }
            }
            Event::ModelFailed { turn, attempt } => {
                if self.is_model(turn, attempt) {
                    self.model_failed(now, &mut actions);
                }
            }
            Event::SpeechReady {
                turn,
                sentence,
                attempt,
                audio,
            } => {
                if self.is_speech(turn, sentence, attempt) {
                    self.speech_ready(now, sentence, audio, &mut actions);
                }
            }
            Event::SpeechFailed {
                turn,
                sentence,
                attempt,
            } => {
                if self.is_speech(turn, sentence, attempt) {
                    self.speech_failed(now, sentence, &mut actions);
                }
            }
            Event::Mark(mark) => self.mark(now, &mark, &mut actions),
        }
        actions
    }

    /// Lets time pass: a missed first token or first audio is retried, or falls back.
    pub fn on_time(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(turn) = self.turn.as_ref() else {
            return actions;
        };
        if matches!(turn.model, Model::Waiting { deadline } if deadline <= now) {
            let id = turn.id;
            actions.push(Action::CancelConverse { turn: id });
            self.model_failed(now, &mut actions);
            return actions;
        }
        let late = turn
            .sentences
            .iter()
            .position(|s| s.deadline.is_some_and(|d| d <= now));
        if let Some(sentence) = late {
            self.speech_failed(now, sentence, &mut actions);
        }
        actions
    }

    fn is_model(&self, id: TurnId, attempt: u32) -> bool {
        self.turn
            .as_ref()
            .is_some_and(|t| t.id == id && t.attempt == attempt)
    }

    fn is_speech(&self, id: TurnId, sentence: usize, attempt: u32) -> bool {
        let Some(turn) = self.turn.as_ref().filter(|t| t.id == id) else {
            return false;
        };
        turn.sentences
            .get(sentence)
            .is_some_and(|s| s.attempt == attempt && s.audio.is_none())
    }

    fn start_turn(&mut self, now: Instant, greeting: bool) -> TurnId {
        let id = TurnId(self.next_turn);
        self.next_turn += 1;
        let deadline = now + self.settings.limits.first_token;
        self.turn = Some(Turn {
            id,
            greeting,
            attempt: 0,
            retries_left: self.settings.limits.retries,
            model: if greeting {
                Model::Done
            } else {
                Model::Waiting { deadline }
            },
            cutter: SentenceCutter::new(),
            sentences: Vec::new(),
            next_to_play: 0,
            heard: 0,
        });
        id
    }

    fn greet(&mut self, now: Instant, actions: &mut Vec<Action>) {
        self.interrupt(now, actions);
        self.start_turn(now, true);
        let greeting = self.settings.greeting.clone();
        self.model_text(now, &greeting, actions);
        self.model_done(now, actions);
    }

    fn utterance(&mut self, now: Instant, text: Redacted<String>, actions: &mut Vec<Action>) {
        self.interrupt(now, actions);
        self.history.push_user(text);
        let turn = self.start_turn(now, false);
        let messages = self.history.messages().to_vec();
        actions.push(Action::Converse {
            turn,
            attempt: 0,
            messages,
        });
    }

    fn model_text(&mut self, now: Instant, text: &str, actions: &mut Vec<Action>) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        if turn.model != Model::Done {
            turn.model = Model::Streaming;
        }
        for sentence in turn.cutter.push(text) {
            self.add_sentence(now, &sentence, actions);
        }
    }

    fn model_done(&mut self, now: Instant, actions: &mut Vec<Action>) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        turn.model = Model::Done;
        if let Some(last) = turn.cutter.finish() {
            self.add_sentence(now, &last, actions);
        }
        let empty = self.turn.as_ref().is_some_and(|t| t.sentences.is_empty());
        if empty {
            // An empty reply would leave the caller in silence.
            self.model_failed(now, actions);
        } else {
            self.finish_if_played(actions);
        }
    }

    fn model_failed(&mut self, now: Instant, actions: &mut Vec<Action>) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        if !turn.sentences.is_empty() {
            // Limitation: a reply that breaks off mid-way ends with the sentences already made.
            turn.model = Model::Done;
            self.finish_if_played(actions);
            return;
        }
        if turn.greeting || turn.retries_left == 0 {
            self.fall_back(now, actions);
            return;
        }
        turn.retries_left -= 1;
        turn.attempt += 1;
        turn.cutter = SentenceCutter::new();
        turn.model = Model::Waiting {
            deadline: now + self.settings.limits.first_token,
        };
        let (id, attempt) = (turn.id, turn.attempt);
        let messages = self.history.messages().to_vec();
        actions.push(Action::Converse {
            turn: id,
            attempt,
            messages,
        });
    }

    fn add_sentence(&mut self, now: Instant, raw: &str, actions: &mut Vec<Action>) {
        let said = self.redactor.redact(raw).forward;
        let spoken = self.redactor.redact(&speakable(said.as_str())).forward;
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        let deadline = Some(now + self.settings.limits.first_audio);
        let sentence = turn.sentences.len();
        let text = spoken.clone();
        turn.sentences.push(Sentence {
            said,
            spoken,
            attempt: 0,
            deadline,
            audio: None,
        });
        actions.push(Action::Synthesize {
            turn: turn.id,
            sentence,
            attempt: 0,
            text,
        });
    }

    fn speech_ready(
        &mut self,
        now: Instant,
        index: usize,
        audio: SpeechAudio,
        acts: &mut Vec<Action>,
    ) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        if let Some(sentence) = turn.sentences.get_mut(index) {
            sentence.deadline = None;
            sentence.audio = Some(audio);
        }
        // Sentences play in order, whatever order their audio comes back in.
        while let Some(audio) = turn
            .sentences
            .get_mut(turn.next_to_play)
            .and_then(|s| s.audio.take())
        {
            let sentence = turn.next_to_play;
            let mark = format!("t{}s{}", turn.id, sentence);
            let duration = audio.duration();
            self.playback.push(Queued {
                sentence,
                mark: mark.clone(),
                duration,
                queued_at: now,
            });
            acts.push(Action::Play {
                turn: turn.id,
                sentence,
                frames: audio.frames,
                mark,
            });
            turn.next_to_play += 1;
        }
    }

    fn speech_failed(&mut self, now: Instant, index: usize, actions: &mut Vec<Action>) {
        let limits = self.settings.limits;
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        let budget = turn.retries_left > 0;
        let Some(sentence) = turn.sentences.get_mut(index).filter(|_| budget) else {
            self.fall_back(now, actions);
            return;
        };
        turn.retries_left -= 1;
        sentence.attempt += 1;
        sentence.deadline = Some(now + limits.first_audio);
        actions.push(Action::Synthesize {
            turn: turn.id,
            sentence: index,
            attempt: sentence.attempt,
            text: sentence.spoken.clone(),
        });
    }

    fn mark(&mut self, now: Instant, mark: &str, actions: &mut Vec<Action>) {
        let Some(played) = self.playback.marked(now, mark) else {
            return;
        };
        if let Some(turn) = self.turn.as_mut() {
            turn.heard = turn.heard.max(played + 1);
        }
        self.finish_if_played(actions);
    }

    /// Ends the turn once the model is done and every sentence has been heard.
    fn finish_if_played(&mut self, actions: &mut Vec<Action>) {
        let done = self.turn.as_ref().is_some_and(|t| {
            t.model == Model::Done && t.heard == t.sentences.len() && self.playback.is_empty()
        });
        if done && let Some(turn) = self.turn.take() {
            let said = turn.sentences.into_iter().map(|s| s.said).collect();
            self.remember(turn.id, turn.greeting, said, actions);
        }
    }

    /// Barge-in: stops playback and the model, and keeps only what the caller heard.
    fn interrupt(&mut self, now: Instant, actions: &mut Vec<Action>) {
        let stopped = self.playback.stop(now);
        if stopped.is_some() {
            actions.push(Action::Clear);
        }
        let Some(turn) = self.turn.take() else {
            return;
        };
        if turn.model != Model::Done {
            actions.push(Action::CancelConverse { turn: turn.id });
        }
        let mut heard: Vec<_> = turn
            .sentences
            .iter()
            .take(turn.heard)
            .map(|s| s.said.clone())
            .collect();
        if let Some((index, fraction)) = stopped
            && let Some(sentence) = turn.sentences.get(index)
        {
            let words = heard_words(sentence.said.as_str(), fraction);
            if !words.is_empty() {
                heard.push(self.redactor.redact(&words).forward);
            }
        }
        self.remember(turn.id, turn.greeting, heard, actions);
    }

    fn remember(
        &mut self,
        id: TurnId,
        greeting: bool,
        said: Vec<Redacted<String>>,
        actions: &mut Vec<Action>,
    ) {
        if said.is_empty() {
            return;
        }
        let joined: Vec<&str> = said.iter().map(Redacted::as_str).collect();
        let text = self.redactor.redact(&joined.join(" ")).forward;
        actions.push(Action::AgentTurn { turn: id, text });
        if !greeting {
            self.history.push_assistant(said);
        }
    }

    fn fall_back(&mut self, now: Instant, actions: &mut Vec<Action>) {
        self.interrupt(now, actions);
        let Fallback {
            prompt,
            transfer_to,
        } = self.settings.fallback.clone();
        actions.push(Action::Fallback {
            prompt,
            transfer_to,
        });
        self.ended = true;
    }
}
