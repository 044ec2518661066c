//! One track after the recogniser: results taken in the order the utterances were cut,
//! redacted by the track's redactor, and committed to the vault one segment at a time.
//!
//! The track redactor may hold back the tail of a segment (a number that may go on); the
//! segment that finally releases it is stored from the earliest held start, with the lowest
//! confidence of what it joins. The recogniser's wait and the vault's commit run on tokio's
//! blocking pool. Nothing here logs text.

use std::sync::Arc;
use std::time::Duration;

use diala_asr::Segment;
use diala_media::Track;
use diala_redact::{Redaction, TrackRedactor};
use diala_vault::{NewSegment, TenantVault};
use tokio::sync::mpsc;

use super::metrics::CallMetrics;
use super::track::Recognising;

/// Where one track's segments go.
pub(super) struct Collector {
    pub(super) vault: Arc<TenantVault>,
    pub(super) call_id: String,
    pub(super) track: Track,
    pub(super) redactor: TrackRedactor,
    pub(super) keeps_text: bool,
    pub(super) metrics: CallMetrics,
}

/// Text held back by the redactor: where it started and how sure the recogniser was.
#[derive(Clone, Copy)]
struct Held {
    start: Duration,
    confidence: f32,
}

impl Collector {
    /// Stores every result of `results` in order, then what the redactor still holds.
    pub(super) async fn run(mut self, mut results: mpsc::Receiver<Recognising>) {
        let mut held: Option<Held> = None;
        let mut last_end = Duration::ZERO;
        while let Some(Recognising { pending, cut_at }) = results.recv().await {
            let segments = match tokio::task::spawn_blocking(move || pending.wait()).await {
                Ok(Ok(segments)) => segments,
                Ok(Err(error)) => {
                    self.lost();
                    tracing::warn!(%error, track = %self.track, "an utterance was not recognised");
                    continue;
                }
                Err(_) => {
                    self.lost();
                    continue;
                }
            };
            for segment in segments {
                last_end = segment.end;
                held = self.push(&segment, held).await;
            }
            let delay = cut_at.elapsed().as_secs_f64();
            self.metrics.segment_delay.observe(delay);
        }

        let rest = self.redactor.finish();
        if let Some(from) = held {
            self.store(&rest, from, last_end).await;
        }
    }

    /// Redacts one segment; stores what is released, returns what is still held.
    async fn push(&mut self, segment: &Segment, held: Option<Held>) -> Option<Held> {
        let joined = match held {
            Some(h) => Held {
                start: h.start,
                confidence: h.confidence.min(segment.confidence),
            },
            None => Held {
                start: segment.start,
                confidence: segment.confidence,
            },
        };
        let redaction = self.redactor.push(&segment.text);
        if redaction.forward.as_str().trim().is_empty() {
            return self.redactor.is_holding().then_some(joined);
        }
        self.store(&redaction, joined, segment.end).await;
        // What the redactor kept back belongs to this segment's end.
        self.redactor.is_holding().then_some(Held {
            start: segment.start,
            confidence: segment.confidence,
        })
    }

    async fn store(&self, redaction: &Redaction, from: Held, end: Duration) {
        let redacted = redaction.forward.as_str().trim().to_owned();
        if redacted.is_empty() {
            return;
        }
        let local = redaction.local.get().expose().trim().to_owned();
        let segment = NewSegment {
            track: self.track.as_str().to_owned(),
            start_ms: millis(from.start),
            end_ms: millis(end.max(from.start)),
            text: self.keeps_text.then_some(local),
            redacted,
            confidence: f64::from(from.confidence),
        };
        let (vault, call_id) = (self.vault.clone(), self.call_id.clone());
        let stored =
            tokio::task::spawn_blocking(move || vault.insert_segment(&call_id, &segment)).await;
        let tenant = self.vault.tenant();
        match stored {
            Ok(Ok(_)) => self
                .metrics
                .segments_stored
                .with_label_values(&[tenant])
                .inc(),
            Ok(Err(error)) => {
                self.metrics
                    .segments_failed
                    .with_label_values(&[tenant])
                    .inc();
                tracing::error!(%error, track = %self.track, "a segment could not be stored");
            }
            Err(_) => self
                .metrics
                .segments_failed
                .with_label_values(&[tenant])
                .inc(),
        }
    }

    fn lost(&self) {
        let tenant = self.vault.tenant();
        self.metrics
            .utterances_lost
            .with_label_values(&[tenant])
            .inc();
    }
}

fn millis(at: Duration) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}
