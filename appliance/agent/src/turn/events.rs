//! What the turn loop is told, and what it asks for.

use std::fmt;

use diala_redact::Redacted;

use super::Message;
use crate::audio::SpeechAudio;

/// One reply of the agent: the greeting, or the answer to one caller utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TurnId(pub u64);

impl fmt::Display for TurnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Something that happened on the call or at a service.
#[derive(Debug, Clone)]
pub enum Event {
    /// The call was answered: say the greeting.
    CallAnswered,
    /// The caller started speaking (the VAD's turn start). During a reply this is a barge-in.
    CallerSpeech,
    /// The caller's utterance ended (the VAD endpoint), with its redacted transcript.
    UtteranceEnded(Redacted<String>),
    /// Streamed text of a model reply.
    ModelText {
        /// The turn it answers.
        turn: TurnId,
        /// The request attempt it belongs to.
        attempt: u32,
        /// The text, in the chunks it arrived in.
        text: String,
    },
    /// The model reply ended normally.
    ModelDone {
        /// The turn.
        turn: TurnId,
        /// The request attempt.
        attempt: u32,
    },
    /// The model request failed (connection, HTTP error, error in the stream).
    ModelFailed {
        /// The turn.
        turn: TurnId,
        /// The request attempt.
        attempt: u32,
    },
    /// A sentence's speech is ready to play.
    SpeechReady {
        /// The turn.
        turn: TurnId,
        /// The sentence's index in the turn.
        sentence: usize,
        /// The synthesis attempt.
        attempt: u32,
        /// The call audio.
        audio: SpeechAudio,
    },
    /// A synthesis request failed.
    SpeechFailed {
        /// The turn.
        turn: TurnId,
        /// The sentence's index in the turn.
        sentence: usize,
        /// The synthesis attempt.
        attempt: u32,
    },
    /// The trunk played everything up to this mark (Twilio `mark`, or the RTP pacer's own).
    Mark(String),
}

/// What the shell must do.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send the conversation to the model (ConverseStream) and report its text.
    Converse {
        /// The turn the reply is for.
        turn: TurnId,
        /// The attempt, to be echoed in the events.
        attempt: u32,
        /// The conversation, redacted.
        messages: Vec<Message>,
    },
    /// Stop the model request of this turn: its reply is no longer wanted.
    CancelConverse {
        /// The turn.
        turn: TurnId,
    },
    /// Synthesise a sentence (SynthesizeSpeech, PCM).
    Synthesize {
        /// The turn.
        turn: TurnId,
        /// The sentence's index in the turn.
        sentence: usize,
        /// The attempt, to be echoed in the events.
        attempt: u32,
        /// The words to speak: redacted, tokens replaced by phrases.
        text: Redacted<String>,
    },
    /// Play these frames, then send the mark.
    Play {
        /// The turn.
        turn: TurnId,
        /// The sentence's index in the turn.
        sentence: usize,
        /// 20 ms G.711 frames.
        frames: Vec<Vec<u8>>,
        /// The mark to send after them.
        mark: String,
    },
    /// Stop playback at once and drop what is queued (Twilio `clear`, RTP stops).
    Clear,
    /// Store what the caller heard of the agent's reply in the vault's `agent` track.
    AgentTurn {
        /// The turn.
        turn: TurnId,
        /// The text heard, redacted.
        text: Redacted<String>,
    },
    /// Give up on the agent: say the fallback prompt and transfer the call. The loop ends.
    Fallback {
        /// What the trunk says.
        prompt: String,
        /// Where the call goes.
        transfer_to: String,
    },
}
