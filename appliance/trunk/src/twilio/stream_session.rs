//! One Media Streams connection as a state machine: connected, started, streaming, stopped.
//!
//! The WebSocket layer feeds it each text frame; it answers with what the pipeline should do.
//! It holds the stream to the call its token was issued for: a `start` naming another call or
//! account ends the stream, as does any malformed or out-of-place message (the caller closes
//! the socket and counts the error). It does no I/O and must never hand audio from a stream
//! that has not started, or after it has stopped.

use super::sequence::{SequenceCounter, Sequenced};
use super::stream_message::{MediaChunk, MessageError, StreamEvent, StreamTrack, parse};
use super::verify::VerifiedStream;

/// Why a stream is ended by us; each closes the socket and is counted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    /// The frame is not a valid message.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// `start` names a call or account other than the one the stream token was issued for.
    #[error("stream start is for another call than its token: refusing a borrowed token")]
    CallMismatch,
    /// A message that cannot come at this point of the stream.
    #[error("stream message out of place ({0}): not a well-behaved Twilio stream")]
    OutOfPlace(&'static str),
    /// Audio on a track `start` did not announce.
    #[error("media on a track the stream did not announce")]
    UnannouncedTrack,
}

/// What the pipeline should do with one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// Nothing (the `connected` greeting, a duplicate message).
    Nothing,
    /// The stream started: open the call in the tenant's vault.
    Started {
        /// Twilio's stream id, needed to send audio back.
        stream_sid: String,
        /// The tracks that will arrive.
        tracks: Vec<StreamTrack>,
    },
    /// Audio for one track's pipeline.
    Audio(MediaChunk),
    /// A key was pressed.
    Dtmf(StreamTrack, char),
    /// A mark we sent has been played.
    MarkPlayed(String),
    /// The stream ended: flush every track and close the call.
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Opened,
    Streaming,
    Stopped,
}

/// One verified stream's state.
#[derive(Debug)]
pub struct StreamSession {
    stream: VerifiedStream,
    phase: Phase,
    tracks: Vec<StreamTrack>,
    sequence: SequenceCounter,
}

impl StreamSession {
    /// A session for an upgrade the trunk accepted.
    pub fn new(stream: VerifiedStream) -> Self {
        Self {
            stream,
            phase: Phase::Opened,
            tracks: Vec::new(),
            sequence: SequenceCounter::new(),
        }
    }

    /// The verified stream: its tenant and call.
    pub fn stream(&self) -> &VerifiedStream {
        &self.stream
    }

    /// Gap, missing and stale counts so far.
    pub fn sequence(&self) -> &SequenceCounter {
        &self.sequence
    }

    /// Whether `stop` has been received.
    pub fn is_stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    /// Takes one text frame.
    pub fn on_text(&mut self, text: &str) -> Result<SessionEvent, SessionError> {
        let event = parse(text)?;
        if self.phase == Phase::Stopped {
            return Err(SessionError::OutOfPlace("after stop"));
        }
        if let Some(sequence) = event.sequence()
            && self.phase == Phase::Streaming
            && self.sequence.observe(sequence) == Sequenced::Stale
        {
            return Ok(SessionEvent::Nothing);
        }
        self.apply(event)
    }

    fn apply(&mut self, event: StreamEvent) -> Result<SessionEvent, SessionError> {
        match (self.phase, event) {
            (Phase::Opened, StreamEvent::Connected) => Ok(SessionEvent::Nothing),
            (Phase::Opened, StreamEvent::Start { sequence, start }) => {
                let same_call = start.call_sid == self.stream.call_sid()
                    && start.account_sid == self.stream.account_sid();
                if !same_call {
                    return Err(SessionError::CallMismatch);
                }
                self.sequence.observe(sequence);
                self.phase = Phase::Streaming;
                self.tracks.clone_from(&start.tracks);
                Ok(SessionEvent::Started {
                    stream_sid: start.stream_sid,
                    tracks: start.tracks,
                })
            }
            (Phase::Streaming, StreamEvent::Media { media, .. }) => {
                if !self.tracks.contains(&media.track) {
                    return Err(SessionError::UnannouncedTrack);
                }
                Ok(SessionEvent::Audio(media))
            }
            (Phase::Streaming, StreamEvent::Dtmf { track, digit, .. }) => {
                Ok(SessionEvent::Dtmf(track, digit))
            }
            (Phase::Streaming, StreamEvent::Mark { name, .. }) => {
                Ok(SessionEvent::MarkPlayed(name))
            }
            (Phase::Streaming, StreamEvent::Stop { .. }) => {
                self.phase = Phase::Stopped;
                Ok(SessionEvent::Stopped)
            }
            (Phase::Opened, _) => Err(SessionError::OutOfPlace("before start")),
            (_, _) => Err(SessionError::OutOfPlace("second connected or start")),
        }
    }
}
