//! The Media Streams WebSocket: a verified upgrade, then each text frame through the call's
//! [`StreamSession`], its events handed on to the pipeline in order.
//!
//! The hand-off is a bounded channel, so a slow pipeline slows the socket instead of queueing
//! audio without limit. The stream ends on `stop`, on disconnect, or at the first bad frame,
//! which closes the socket with a policy-violation code and is counted; the pipeline always
//! gets a final [`StreamUpdate::Closed`]. It must never log a frame's content.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use tokio::sync::mpsc;

use super::metrics::TrunkMetrics;
use crate::twilio::stream_message::MAX_MESSAGE_BYTES;
use crate::twilio::{SessionEvent, StreamSession};

/// How a stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// Twilio sent `stop`.
    Stopped,
    /// The socket closed or dropped without `stop`.
    Disconnected,
    /// A bad frame; the socket was closed by us.
    Refused,
}

/// What the listener hands the pipeline for one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamUpdate {
    /// A message of the stream of `call_sid` in `tenant`.
    Event {
        /// The tenant of the call.
        tenant: String,
        /// The call.
        call_sid: String,
        /// What happened.
        event: SessionEvent,
    },
    /// The stream is over; flush and close the call.
    Closed {
        /// The tenant of the call.
        tenant: String,
        /// The call.
        call_sid: String,
        /// Why it ended.
        end: StreamEnd,
    },
}

/// The largest frame the socket accepts.
pub(crate) const MAX_FRAME: usize = MAX_MESSAGE_BYTES;

/// Runs one verified stream to its end.
pub(crate) async fn run(
    mut socket: WebSocket,
    mut session: StreamSession,
    updates: mpsc::Sender<StreamUpdate>,
    metrics: Arc<TrunkMetrics>,
) {
    let tenant = session.stream().tenant().to_owned();
    let call_sid = session.stream().call_sid().to_owned();
    metrics.stream_opened();

    let end = loop {
        let text = match socket.recv().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break StreamEnd::Disconnected,
            Some(Ok(Message::Binary(_))) => break refuse(&mut socket, &metrics).await,
        };
        let event = match session.on_text(text.as_str()) {
            Ok(SessionEvent::Nothing) => continue,
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, call = %call_sid, "twilio stream refused");
                break refuse(&mut socket, &metrics).await;
            }
        };
        let stopped = event == SessionEvent::Stopped;
        let update = StreamUpdate::Event {
            tenant: tenant.clone(),
            call_sid: call_sid.clone(),
            event,
        };
        if stopped {
            let _ = updates.send(update).await;
            break StreamEnd::Stopped;
        }
        if updates.send(update).await.is_err() {
            // The pipeline is gone (the daemon is stopping): nothing would take the audio.
            break StreamEnd::Disconnected;
        }
    };

    metrics.stream_closed(session.sequence());
    tracing::info!(tenant = %tenant, call = %call_sid, end = ?end, "twilio stream ended");
    let _ = updates
        .send(StreamUpdate::Closed {
            tenant,
            call_sid,
            end,
        })
        .await;
}

async fn refuse(socket: &mut WebSocket, metrics: &TrunkMetrics) -> StreamEnd {
    metrics.stream_refused();
    let frame = CloseFrame {
        code: close_code::POLICY,
        reason: "bad stream message".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    StreamEnd::Refused
}
