//! Twilio Media Streams into the call pipeline: the listener's stream updates become calls
//! begun, frames handed in, and calls ended.
//!
//! It never waits on a call: frames go in with a try, so the listener's channel, and through it
//! every stream's socket reader, keeps moving however far behind recognition is. When the
//! daemon stops, every call still open is ended and flushed.

use std::collections::HashMap;

use diala_media::Track;
use diala_media::g711::Law;
use diala_trunk::listener::{StreamEnd, StreamUpdate};
use diala_trunk::twilio::SessionEvent;
use diala_trunk::twilio::stream_message::StreamTrack;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{CallEnd, CallHandle, CallStart, Calls, TrackFrame};

/// The trunk's name in the vault, logs and metrics.
pub const TRUNK: &str = "twilio";

/// Feeds the calls of `updates` into `calls` until the listener stops or `stop` is cancelled.
pub async fn feed(
    calls: Calls,
    mut updates: mpsc::Receiver<StreamUpdate>,
    stop: CancellationToken,
) {
    let mut open: HashMap<String, CallHandle> = HashMap::new();
    loop {
        let update = tokio::select! {
            () = stop.cancelled() => break,
            update = updates.recv() => match update {
                Some(update) => update,
                None => break,
            },
        };
        match update {
            StreamUpdate::Event {
                tenant,
                call_sid,
                event,
            } => on_event(&calls, &mut open, tenant, call_sid, event),
            StreamUpdate::Closed { call_sid, end, .. } => {
                if let Some(call) = open.remove(&call_sid) {
                    call.end(call_end(end));
                }
            }
        }
    }
    for (_, call) in open.drain() {
        call.end(CallEnd::Shutdown);
    }
}

fn on_event(
    calls: &Calls,
    open: &mut HashMap<String, CallHandle>,
    tenant: String,
    call_sid: String,
    event: SessionEvent,
) {
    match event {
        SessionEvent::Started { .. } => {
            let start = CallStart {
                tenant,
                call_id: call_sid.clone(),
                trunk: TRUNK,
            };
            // A second stream of the same call replaces the first, which ends here.
            if let Some(previous) = open.insert(call_sid, calls.begin(start)) {
                previous.end(CallEnd::Disconnected);
            }
        }
        SessionEvent::Audio(media) => {
            if let Some(call) = open.get(&call_sid) {
                call.frame(TrackFrame {
                    track: track(media.track),
                    start_ms: media.timestamp_ms,
                    law: Law::MuLaw,
                    payload: media.payload,
                });
            }
        }
        SessionEvent::Stopped => {
            if let Some(call) = open.remove(&call_sid) {
                call.end(CallEnd::Hangup);
            }
        }
        SessionEvent::Nothing | SessionEvent::Dtmf(..) | SessionEvent::MarkPlayed(_) => {}
    }
}

/// Twilio's inbound track is the caller; outbound is what the far end (the PBX's party, or the
/// voice agent) says to them.
fn track(track: StreamTrack) -> Track {
    match track {
        StreamTrack::Inbound => Track::Caller,
        StreamTrack::Outbound => Track::Callee,
    }
}

fn call_end(end: StreamEnd) -> CallEnd {
    match end {
        StreamEnd::Stopped => CallEnd::Hangup,
        StreamEnd::Disconnected => CallEnd::Disconnected,
        StreamEnd::Refused => CallEnd::Refused,
    }
}
