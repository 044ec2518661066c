//! One track of a call up to the recogniser: frames decoded and cut into utterances, which are
//! submitted to the worker pool in order; a pool that is full leaves them in a short backlog.
//!
//! It never blocks: submitting is a try, and the backlog is retried on the next frame or the
//! call's next tick. It must never log what an utterance holds.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diala_asr::{Pending, TranscribeError, Transcriber};
use diala_media::{Frame, Track, Utterance, UtteranceCutter, VadConfig, VadError, VadEvent};
use tokio::sync::mpsc;

use super::TrackFrame;
use super::metrics::CallMetrics;

/// Utterances a track may hold while the recogniser is full: about two minutes of speech.
/// Beyond it the oldest is lost and counted; a box this far behind needs more workers.
const MAX_BACKLOG: usize = 16;

/// An utterance waiting for the recogniser, and whether its wait was counted already.
struct Waiting {
    utterance: Utterance,
    counted: bool,
    cut_at: Instant,
}

/// The recogniser's side of one utterance, in the order the track produced them.
pub(super) struct Recognising {
    /// The recogniser's pending result.
    pub pending: Pending,
    /// When the utterance was cut, for the delay to its segments being stored.
    pub cut_at: Instant,
}

/// One track's media stage and its hand-off to the recogniser.
pub(super) struct TrackPipeline {
    cutter: UtteranceCutter,
    backlog: VecDeque<Waiting>,
    recognising: mpsc::Sender<Recognising>,
    tenant: String,
}

impl TrackPipeline {
    /// A track whose recognised utterances go, in order, to `recognising`.
    pub(super) fn new(
        track: Track,
        tenant: &str,
        recognising: mpsc::Sender<Recognising>,
    ) -> Result<Self, VadError> {
        Ok(TrackPipeline {
            cutter: UtteranceCutter::new(track, VadConfig::default())?,
            backlog: VecDeque::new(),
            recognising,
            tenant: tenant.to_owned(),
        })
    }

    /// Decodes and cuts one frame, then submits what is waiting.
    pub(super) fn push(
        &mut self,
        frame: &TrackFrame,
        asr: Option<&Arc<dyn Transcriber>>,
        metrics: &CallMetrics,
    ) {
        let decoded = Frame::from_g711(frame.track, frame.start_ms, frame.law, &frame.payload);
        match self.cutter.push(&decoded) {
            Ok(events) => self.take(events, metrics),
            Err(error) => {
                metrics
                    .frames_refused
                    .with_label_values(&[&self.tenant])
                    .inc();
                tracing::debug!(%error, track = %frame.track, "frame refused by the media stage");
            }
        }
        self.submit(asr, metrics);
    }

    /// Ends the track: the utterance in progress is cut and queued.
    pub(super) fn finish(&mut self, metrics: &CallMetrics) {
        match self.cutter.finish() {
            Ok(events) => self.take(events, metrics),
            Err(error) => tracing::warn!(%error, "the last utterance of a track was lost"),
        }
    }

    /// Whether utterances wait for room in the recogniser.
    pub(super) fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    fn take(&mut self, events: Vec<VadEvent>, metrics: &CallMetrics) {
        for event in events {
            if let VadEvent::Utterance(utterance) = event {
                metrics.utterances.with_label_values(&[&self.tenant]).inc();
                self.backlog.push_back(Waiting {
                    utterance,
                    counted: false,
                    cut_at: Instant::now(),
                });
            }
        }
        while self.backlog.len() > MAX_BACKLOG {
            self.backlog.pop_front();
            metrics
                .utterances_lost
                .with_label_values(&[&self.tenant])
                .inc();
            tracing::warn!("speech recognition is too far behind: an utterance was lost");
        }
    }

    /// Submits waiting utterances in order until the recogniser is full.
    pub(super) fn submit(&mut self, asr: Option<&Arc<dyn Transcriber>>, metrics: &CallMetrics) {
        let Some(asr) = asr else {
            let lost = self.backlog.len() as u64;
            self.backlog.clear();
            metrics
                .utterances_lost
                .with_label_values(&[&self.tenant])
                .inc_by(lost);
            return;
        };
        while let Some(waiting) = self.backlog.front_mut() {
            match asr.submit(to_asr(&waiting.utterance)) {
                Ok(pending) => {
                    // Each pending result holds one of the recogniser's slots, and the channel
                    // has room for as many as there are slots: this send cannot find it full.
                    let cut_at = waiting.cut_at;
                    self.backlog.pop_front();
                    let recognising = Recognising { pending, cut_at };
                    if self.recognising.try_send(recognising).is_err() {
                        metrics
                            .utterances_lost
                            .with_label_values(&[&self.tenant])
                            .inc();
                    }
                }
                Err(TranscribeError::Busy { .. }) => {
                    if !waiting.counted {
                        waiting.counted = true;
                        metrics.asr_busy.with_label_values(&[&self.tenant]).inc();
                    }
                    return;
                }
                Err(error) => {
                    self.backlog.pop_front();
                    metrics
                        .utterances_lost
                        .with_label_values(&[&self.tenant])
                        .inc();
                    tracing::warn!(%error, "an utterance could not be recognised");
                }
            }
        }
    }
}

fn to_asr(utterance: &Utterance) -> diala_asr::Utterance {
    diala_asr::Utterance {
        start: Duration::from_millis(utterance.start_ms),
        samples: utterance.to_f32(),
    }
}
