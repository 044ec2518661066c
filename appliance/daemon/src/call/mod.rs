//! The call pipeline: from a trunk's frames to redacted segments in the tenant's vault.
//!
//! A trunk that has verified a call and resolved its tenant calls [`Calls::begin`] and gets a
//! [`CallHandle`]; it hands each track's G.711 frames to the handle and ends it on hang-up or
//! disconnect. Nothing here knows which trunk it serves: Twilio Media Streams today
//! ([`twilio`]), a SIP trunk's RTP tomorrow. Per call and per track: decode, resample to 16 kHz
//! and cut utterances (`diala_media::UtteranceCutter`), recognise them on the worker pool,
//! redact them in order with the tenant's policy and token key (`diala_redact::TrackRedactor`),
//! and commit each segment to the tenant's vault as it is produced.
//!
//! Handing a frame in never waits: a call whose queue is full loses the frame and counts it,
//! and a full recogniser keeps the utterance in the track's short backlog and counts that, so
//! a slow stage never stalls the socket a trunk reads from. Nothing here may log transcript
//! text, a number a caller said, or audio.

mod collect;
mod metrics;
mod task;
mod track;
pub mod twilio;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use diala_asr::Transcriber;
use diala_media::Track;
use diala_media::g711::Law;
use diala_redact::Policy;
use diala_vault::Vaults;
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;

pub use metrics::CallMetrics;

use crate::config::Config;

/// Frames a call may have waiting before new ones are lost: 5 s of two 20 ms tracks.
const FRAME_QUEUE: usize = 500;

/// A verified call as a trunk announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStart {
    /// The tenant, resolved from the trunk's verified identity.
    pub tenant: String,
    /// The call's id within the tenant (Twilio's CallSid, a SIP Call-ID).
    pub call_id: String,
    /// The trunk it arrived on, for the vault and the logs: `twilio`, `sip`.
    pub trunk: &'static str,
}

/// One frame of one track: G.711 bytes at 8 kHz, stamped with call time.
#[derive(Clone)]
pub struct TrackFrame {
    /// The side of the call.
    pub track: Track,
    /// Call-relative time of the first sample, in milliseconds.
    pub start_ms: u64,
    /// The G.711 law of the payload.
    pub law: Law,
    /// One byte a sample.
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for TrackFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A caller's audio never reaches a log, even as bytes.
        f.debug_struct("TrackFrame")
            .field("track", &self.track)
            .field("start_ms", &self.start_ms)
            .field("bytes", &self.payload.len())
            .finish()
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEnd {
    /// The trunk said the call is over (Twilio `stop`, SIP BYE).
    Hangup,
    /// The trunk's connection went away without saying so.
    Disconnected,
    /// The trunk refused the peer's input and closed the call.
    Refused,
    /// The daemon is stopping.
    Shutdown,
}

impl CallEnd {
    /// A short label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            CallEnd::Hangup => "hangup",
            CallEnd::Disconnected => "disconnected",
            CallEnd::Refused => "refused",
            CallEnd::Shutdown => "shutdown",
        }
    }
}

/// What every call task shares.
struct Shared {
    vaults: Arc<Vaults>,
    transcriber: Option<Arc<dyn Transcriber>>,
    policies: RwLock<HashMap<String, Policy>>,
    metrics: CallMetrics,
    tasks: TaskTracker,
}

/// The pipeline's entry point; cheap to clone, one for every trunk.
#[derive(Clone)]
pub struct Calls(Arc<Shared>);

impl Calls {
    /// Calls stored in `vaults`, recognised by `transcriber` (none: calls are stored without
    /// segments), their tasks tracked by `tasks` so a stopping daemon waits for them.
    pub fn new(
        vaults: Arc<Vaults>,
        transcriber: Option<Arc<dyn Transcriber>>,
        metrics: CallMetrics,
        tasks: TaskTracker,
        config: &Config,
    ) -> Self {
        let calls = Calls(Arc::new(Shared {
            vaults,
            transcriber,
            policies: RwLock::new(HashMap::new()),
            metrics,
            tasks,
        }));
        calls.set_policies(config);
        calls
    }

    /// Takes the tenants' redaction policies from `config`; calls begun from now on use them.
    pub fn set_policies(&self, config: &Config) {
        let policies = config
            .tenants
            .iter()
            .map(|t| {
                (
                    t.id.get_ref().as_str().to_owned(),
                    t.redaction.keep_in_clear.0,
                )
            })
            .collect();
        *self
            .0
            .policies
            .write()
            .unwrap_or_else(PoisonError::into_inner) = policies;
    }

    /// Starts the pipeline of a verified call. The call is recorded in the tenant's vault by
    /// its task; a vault that refuses it (full disk, unknown tenant) is logged and counted, and
    /// the call's audio is then discarded.
    pub fn begin(&self, start: CallStart) -> CallHandle {
        let (frames, frames_rx) = mpsc::channel(FRAME_QUEUE);
        let (end, end_rx) = oneshot::channel();
        let policy = self
            .0
            .policies
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&start.tenant)
            .copied()
            .unwrap_or_else(Policy::keep_nothing);
        let tenant = start.tenant.clone();
        let call = task::CallTask::new(self.0.clone(), start, policy);
        self.0.tasks.spawn(call.run(frames_rx, end_rx));
        CallHandle {
            frames,
            end: Some(end),
            metrics: self.0.metrics.clone(),
            tenant,
        }
    }
}

/// A trunk's side of one call. Dropping it without [`CallHandle::end`] ends the call as
/// disconnected.
#[derive(Debug)]
pub struct CallHandle {
    frames: mpsc::Sender<TrackFrame>,
    end: Option<oneshot::Sender<CallEnd>>,
    metrics: CallMetrics,
    tenant: String,
}

impl CallHandle {
    /// Hands one frame to the call without waiting; a frame the call has no room for is lost,
    /// counted, and `false` is returned.
    pub fn frame(&self, frame: TrackFrame) -> bool {
        match self.frames.try_send(frame) {
            Ok(()) => true,
            Err(_) => {
                self.metrics
                    .frames_lost
                    .with_label_values(&[&self.tenant])
                    .inc();
                false
            }
        }
    }

    /// Ends the call: what is still queued is processed, the partial utterance of each track
    /// flushed, and the call closed in the vault.
    pub fn end(mut self, how: CallEnd) {
        if let Some(end) = self.end.take() {
            let _ = end.send(how);
        }
    }
}
