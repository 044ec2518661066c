//! Media Streams messages: the JSON text frames Twilio sends on the stream WebSocket, and the
//! ones the appliance sends back.
//!
//! [`parse`] is the one entry point for what Twilio sends: `connected`, `start`, `media`
//! (base64 mu-law, 8 kHz, one track), `dtmf`, `mark` and `stop`. It checks sizes, numbers,
//! the media format and the payload's base64, and never panics on any input (a fuzz test holds
//! it to that). It must never log a payload, a DTMF digit or a custom parameter: they are what
//! the caller said or typed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

/// The largest text frame accepted; a 20 ms media frame is well under 1 KiB.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The largest decoded media payload: one second of 8 kHz mu-law.
pub const MAX_PAYLOAD_BYTES: usize = 8000;

/// Errors of this module: each closes the stream and is counted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageError {
    /// The frame is larger than any message Twilio sends.
    #[error("stream message of {0} bytes is over the limit: not a Twilio media stream")]
    TooLarge(usize),
    /// Not JSON, or not one of the known events with its fields.
    #[error("stream message is not a known Twilio event (JSON line {line}, column {column})")]
    Malformed {
        /// Line of the first error.
        line: usize,
        /// Column of the first error.
        column: usize,
    },
    /// A number Twilio sends as a decimal string is not one.
    #[error("stream message field {0} is not a number")]
    BadNumber(&'static str),
    /// A track name other than inbound or outbound.
    #[error("stream message names an unknown track")]
    BadTrack,
    /// The media payload is not base64 or is too large.
    #[error("media payload is not base64 of at most {MAX_PAYLOAD_BYTES} bytes")]
    BadPayload,
    /// A DTMF digit that is not a keypad key.
    #[error("dtmf event carries something that is not a keypad digit")]
    BadDigit,
    /// The stream is not 8 kHz mono mu-law.
    #[error("stream format is not audio/x-mulaw, 8000 Hz, mono: check the <Stream> verb")]
    UnsupportedFormat,
}

/// Which direction of the call a media message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamTrack {
    /// Audio from the caller to Twilio.
    Inbound,
    /// Audio Twilio plays to the caller (the far end or the voice agent).
    Outbound,
}

/// The `start` message: what the stream carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStart {
    /// Twilio's stream id (`MZ...`).
    pub stream_sid: String,
    /// The account of the call.
    pub account_sid: String,
    /// The call; must be the one the stream token was issued for.
    pub call_sid: String,
    /// The tracks that will arrive.
    pub tracks: Vec<StreamTrack>,
    /// `<Parameter>` values from the TwiML, unsigned: never used to pick a tenant.
    pub custom_parameters: Vec<(String, String)>,
}

/// One `media` message: 8 kHz mu-law bytes of one track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaChunk {
    /// The track.
    pub track: StreamTrack,
    /// Twilio's per-track chunk counter.
    pub chunk: u64,
    /// Milliseconds since the stream started.
    pub timestamp_ms: u64,
    /// The mu-law samples.
    pub payload: Vec<u8>,
}

/// A message from Twilio, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// The socket is open; nothing about the call yet.
    Connected,
    /// The stream started.
    Start {
        /// Stream-wide sequence number.
        sequence: u64,
        /// What the stream carries.
        start: StreamStart,
    },
    /// Audio.
    Media {
        /// Stream-wide sequence number.
        sequence: u64,
        /// The audio.
        media: MediaChunk,
    },
    /// A key pressed on the keypad.
    Dtmf {
        /// Stream-wide sequence number.
        sequence: u64,
        /// The track it was heard on.
        track: StreamTrack,
        /// `0`-`9`, `*`, `#` or `A`-`D`.
        digit: char,
    },
    /// A mark we sent has been played.
    Mark {
        /// Stream-wide sequence number.
        sequence: u64,
        /// The mark's name, as we sent it.
        name: String,
    },
    /// The stream ended.
    Stop {
        /// Stream-wide sequence number.
        sequence: u64,
    },
}

impl StreamEvent {
    /// The stream-wide sequence number, for every event but `connected`.
    pub fn sequence(&self) -> Option<u64> {
        match self {
            Self::Connected => None,
            Self::Start { sequence, .. }
            | Self::Media { sequence, .. }
            | Self::Dtmf { sequence, .. }
            | Self::Mark { sequence, .. }
            | Self::Stop { sequence } => Some(*sequence),
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Wire {
    Connected {},
    Start {
        #[serde(rename = "sequenceNumber")]
        sequence: String,
        start: WireStart,
    },
    Media {
        #[serde(rename = "sequenceNumber")]
        sequence: String,
        media: WireMedia,
    },
    Dtmf {
        #[serde(rename = "sequenceNumber")]
        sequence: String,
        dtmf: WireDtmf,
    },
    Mark {
        #[serde(rename = "sequenceNumber")]
        sequence: String,
        mark: WireMark,
    },
    Stop {
        #[serde(rename = "sequenceNumber")]
        sequence: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStart {
    stream_sid: String,
    account_sid: String,
    call_sid: String,
    tracks: Vec<String>,
    media_format: WireFormat,
    #[serde(default)]
    custom_parameters: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFormat {
    encoding: String,
    sample_rate: u32,
    channels: u32,
}

#[derive(Deserialize)]
struct WireMedia {
    track: String,
    chunk: String,
    timestamp: String,
    payload: String,
}

#[derive(Deserialize)]
struct WireDtmf {
    track: String,
    digit: String,
}

#[derive(Deserialize)]
struct WireMark {
    name: String,
}

/// Parses and checks one text frame from Twilio.
pub fn parse(text: &str) -> Result<StreamEvent, MessageError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(MessageError::TooLarge(text.len()));
    }
    let wire: Wire = serde_json::from_str(text).map_err(|e| MessageError::Malformed {
        line: e.line(),
        column: e.column(),
    })?;

    Ok(match wire {
        Wire::Connected {} => StreamEvent::Connected,
        Wire::Start { sequence, start } => StreamEvent::Start {
            sequence: number(&sequence, "sequenceNumber")?,
            start: start.check()?,
        },
        Wire::Media { sequence, media } => StreamEvent::Media {
            sequence: number(&sequence, "sequenceNumber")?,
            media: media.check()?,
        },
        Wire::Dtmf { sequence, dtmf } => StreamEvent::Dtmf {
            sequence: number(&sequence, "sequenceNumber")?,
            track: track(&dtmf.track)?,
            digit: keypad_digit(&dtmf.digit)?,
        },
        Wire::Mark { sequence, mark } => StreamEvent::Mark {
            sequence: number(&sequence, "sequenceNumber")?,
            name: mark.name,
        },
        Wire::Stop { sequence } => StreamEvent::Stop {
            sequence: number(&sequence, "sequenceNumber")?,
        },
    })
}

impl WireStart {
    fn check(self) -> Result<StreamStart, MessageError> {
        let format = &self.media_format;
        if format.encoding != "audio/x-mulaw" || format.sample_rate != 8000 || format.channels != 1
        {
            return Err(MessageError::UnsupportedFormat);
        }
        let tracks = self
            .tracks
            .iter()
            .map(|t| track(t))
            .collect::<Result<_, _>>()?;
        Ok(StreamStart {
            stream_sid: self.stream_sid,
            account_sid: self.account_sid,
            call_sid: self.call_sid,
            tracks,
            custom_parameters: self.custom_parameters.into_iter().collect(),
        })
    }
}

impl WireMedia {
    fn check(self) -> Result<MediaChunk, MessageError> {
        // Base64 of MAX_PAYLOAD_BYTES is 4/3 as long; refuse longer text before decoding it.
        if self.payload.len() > MAX_PAYLOAD_BYTES.div_ceil(3) * 4 {
            return Err(MessageError::BadPayload);
        }
        let payload = STANDARD
            .decode(&self.payload)
            .map_err(|_| MessageError::BadPayload)?;
        Ok(MediaChunk {
            track: track(&self.track)?,
            chunk: number(&self.chunk, "chunk")?,
            timestamp_ms: number(&self.timestamp, "timestamp")?,
            payload,
        })
    }
}

fn number(text: &str, field: &'static str) -> Result<u64, MessageError> {
    text.parse().map_err(|_| MessageError::BadNumber(field))
}

/// Twilio spells tracks `inbound`/`outbound` in media and `inbound_track` in dtmf.
fn track(name: &str) -> Result<StreamTrack, MessageError> {
    match name {
        "inbound" | "inbound_track" => Ok(StreamTrack::Inbound),
        "outbound" | "outbound_track" => Ok(StreamTrack::Outbound),
        _ => Err(MessageError::BadTrack),
    }
}

fn keypad_digit(text: &str) -> Result<char, MessageError> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ ('0'..='9' | '*' | '#' | 'A'..='D')), None) => Ok(c),
        _ => Err(MessageError::BadDigit),
    }
}

/// A `media` message playing mu-law `payload` into the call.
pub fn outbound_media(stream_sid: &str, payload: &[u8]) -> String {
    let payload = STANDARD.encode(payload);
    json!({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}}).to_string()
}

/// A `mark` message: Twilio echoes it back once the audio sent before it has played.
pub fn outbound_mark(stream_sid: &str, name: &str) -> String {
    json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}).to_string()
}

/// A `clear` message: drop the audio queued for playing (the caller barged in).
pub fn outbound_clear(stream_sid: &str) -> String {
    json!({"event": "clear", "streamSid": stream_sid}).to_string()
}
