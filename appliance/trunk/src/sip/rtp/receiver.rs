//! One track's RTP receiver: packets in, 8 kHz PCM frames and DTMF events out.
//!
//! Packets are read with the `rtp` crate; G.711 is decoded with the media crate's tables,
//! telephone-events (RFC 4733) become [`Dtmf`] events once per key press, and everything goes
//! through the [`JitterBuffer`]. Only the negotiated payload types are accepted. It must never
//! log audio or a DTMF key: keys are what callers type card numbers and PINs with.

use std::time::Instant;

use diala_media::g711::Law;
use diala_media::{Frame, Track};
use rtcp::sender_report::SenderReport;
use webrtc_util::marshal::Unmarshal;

use super::jitter::{JitterBuffer, JitterCounters};
use super::stats::{SourceStats, receiver_report};
use crate::sip::sdp::Negotiated;

/// G.711's rate, and the timeline's.
pub const RATE: u32 = 8000;
/// How much audio the jitter buffer holds: 60 ms.
pub const DEPTH: u64 = 480;

/// A DTMF key press (RFC 4733). The key is kept for the pipeline, never shown in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Dtmf {
    event: u8,
    /// Call-relative time of the press, in milliseconds.
    pub start_ms: u64,
    /// How long the key was held, in milliseconds.
    pub duration_ms: u64,
}

impl Dtmf {
    /// The RFC 4733 event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 A-D, 16 flash.
    pub fn event(&self) -> u8 {
        self.event
    }
}

impl std::fmt::Debug for Dtmf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dtmf")
            .field("event", &"[redacted]")
            .field("start_ms", &self.start_ms)
            .field("duration_ms", &self.duration_ms)
            .finish()
    }
}

/// What a packet gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Media {
    /// Audio, in order.
    Frame(Frame),
    /// A key press.
    Dtmf(Dtmf),
}

/// Packets that were not played, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiverCounters {
    /// Not RTP.
    pub malformed: u64,
    /// A payload type that was not negotiated.
    pub unexpected_payload: u64,
}

/// The receiver of one track.
#[derive(Debug)]
pub struct RtpReceiver {
    track: Track,
    media: Negotiated,
    own_ssrc: u32,
    jitter: JitterBuffer,
    source: Option<SourceStats>,
    last_key: Option<(u32, u32)>,
    counters: ReceiverCounters,
}

impl RtpReceiver {
    /// A receiver of `track` for the agreed `media`; `own_ssrc` signs our RTCP reports.
    pub fn new(track: Track, media: Negotiated, own_ssrc: u32) -> Self {
        Self {
            track,
            media,
            own_ssrc,
            jitter: JitterBuffer::new(DEPTH),
            source: None,
            last_key: None,
            counters: ReceiverCounters::default(),
        }
    }

    /// Takes the stream agreed by a re-INVITE.
    pub fn set_media(&mut self, media: Negotiated) {
        self.media = media;
    }

    /// Packets not played, and the jitter buffer's counts.
    pub fn counters(&self) -> (ReceiverCounters, JitterCounters) {
        (self.counters, self.jitter.counters())
    }

    /// Packets lost so far by RTP sequence numbers.
    pub fn lost(&self) -> i64 {
        self.source.as_ref().map_or(0, SourceStats::lost)
    }

    /// Reads one RTP datagram that arrived at `arrival`.
    pub fn packet(&mut self, bytes: &[u8], arrival: Instant) -> Vec<Media> {
        let mut buf = bytes;
        let Ok(packet) = rtp::packet::Packet::unmarshal(&mut buf) else {
            self.counters.malformed += 1;
            return Vec::new();
        };
        let header = &packet.header;
        if header.version != 2 {
            self.counters.malformed += 1;
            return Vec::new();
        }

        let (ssrc, seq, ts) = (header.ssrc, header.sequence_number, header.timestamp);
        let mut out = Vec::new();
        if header.payload_type == self.media.payload_type {
            let mut samples = Vec::with_capacity(packet.payload.len());
            self.law().decode(&packet.payload, &mut samples);
            self.jitter.push(ssrc, ts, samples);
        } else if Some(header.payload_type) == self.media.dtmf_payload_type {
            out.extend(self.key(ssrc, ts, &packet.payload).map(Media::Dtmf));
        } else {
            self.counters.unexpected_payload += 1;
            return out;
        }

        self.count(ssrc, seq, ts, arrival);
        while let Some((position, samples)) = self.jitter.pop() {
            out.push(Media::Frame(self.frame(position, samples)));
        }
        out
    }

    /// What the jitter buffer still holds, at the end of the call.
    pub fn finish(&mut self) -> Vec<Media> {
        let drained = self.jitter.drain();
        drained
            .into_iter()
            .map(|(p, s)| Media::Frame(self.frame(p, s)))
            .collect()
    }

    /// Reads an RTCP datagram from the peer (its sender reports set our reports' LSR).
    pub fn rtcp(&mut self, bytes: &[u8], arrival: Instant) {
        let mut buf = bytes;
        let Ok(packets) = rtcp::packet::unmarshal(&mut buf) else {
            self.counters.malformed += 1;
            return;
        };
        for packet in packets {
            if let Some(sr) = packet.as_any().downcast_ref::<SenderReport>()
                && let Some(source) = self.source.as_mut().filter(|s| s.ssrc() == sr.ssrc)
            {
                source.sender_report(sr.ntp_time, arrival);
            }
        }
    }

    /// A receiver report about the current source, once one was heard.
    pub fn report(&mut self, now: Instant) -> Option<Vec<u8>> {
        let source = self.source.as_mut()?;
        Some(receiver_report(self.own_ssrc, source, now))
    }

    fn law(&self) -> Law {
        self.media.law
    }

    fn count(&mut self, ssrc: u32, seq: u16, ts: u32, arrival: Instant) {
        match &mut self.source {
            Some(source) if source.ssrc() == ssrc => source.packet(seq, ts, RATE, arrival),
            _ => {
                let mut source = SourceStats::new(ssrc, seq, arrival);
                source.packet(seq, ts, RATE, arrival);
                self.source = Some(source);
            }
        }
    }

    /// A key press from a telephone-event payload, once: at the first packet with the end bit.
    fn key(&mut self, ssrc: u32, ts: u32, payload: &[u8]) -> Option<Dtmf> {
        let (&event, &flags, duration) = match payload {
            [event, flags, hi, lo, ..] => (event, flags, u16::from_be_bytes([*hi, *lo])),
            _ => {
                self.counters.malformed += 1;
                return None;
            }
        };
        let ended = flags & 0x80 != 0;
        if !ended || event > 16 || self.last_key == Some((ssrc, ts)) {
            return None;
        }
        self.last_key = Some((ssrc, ts));
        Some(Dtmf {
            event,
            // The press is placed where the audio timeline is now: its own timestamp is on the
            // sender's scale, which the jitter buffer maps for audio only.
            start_ms: self.jitter_position_ms(),
            duration_ms: u64::from(duration) * 1000 / u64::from(RATE),
        })
    }

    fn jitter_position_ms(&self) -> u64 {
        self.jitter.released() * 1000 / u64::from(RATE)
    }

    fn frame(&self, position: u64, samples: Vec<i16>) -> Frame {
        Frame::new(self.track, position * 1000 / u64::from(RATE), RATE, samples)
    }
}
