//! The call pipeline's counters, registered on the daemon's Prometheus endpoint. Labels are
//! tenant ids and fixed words, never anything a caller said or dialled.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGauge, Registry};

use crate::metrics::counter_vec;

/// What the call pipeline counts.
#[derive(Clone, Debug)]
pub struct CallMetrics {
    /// Calls begun in a vault, by tenant and trunk.
    pub calls_started: IntCounterVec,
    /// Calls closed, by tenant and how they ended.
    pub calls_ended: IntCounterVec,
    /// Calls a vault refused to begin (storage full, outbox full, unknown tenant), by tenant.
    pub calls_refused: IntCounterVec,
    /// Calls in progress.
    pub calls_active: IntGauge,
    /// Frames lost because the call's queue was full, by tenant.
    pub frames_lost: IntCounterVec,
    /// Frames the media stage refused (overlapping or out of order), by tenant.
    pub frames_refused: IntCounterVec,
    /// Utterances cut, by tenant.
    pub utterances: IntCounterVec,
    /// Utterances that met a full speech recogniser and waited in their track's backlog.
    pub asr_busy: IntCounterVec,
    /// Utterances never transcribed (backlog overflow, recogniser failure or none configured).
    pub utterances_lost: IntCounterVec,
    /// Segments committed to a vault, by tenant.
    pub segments_stored: IntCounterVec,
    /// Segments a vault failed to store, by tenant.
    pub segments_failed: IntCounterVec,
    /// Seconds from an utterance being cut (its speech ended, or the call did) to its last
    /// segment being committed.
    pub segment_delay: Histogram,
}

impl CallMetrics {
    /// Registers every counter on `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let tenant = &["tenant"];
        let metrics = CallMetrics {
            calls_started: counter_vec(
                registry,
                "calls_started_total",
                "Calls begun",
                &["tenant", "trunk"],
            )?,
            calls_ended: counter_vec(
                registry,
                "calls_ended_total",
                "Calls closed",
                &["tenant", "end"],
            )?,
            calls_refused: counter_vec(
                registry,
                "calls_refused_total",
                "Calls the vault refused to begin",
                tenant,
            )?,
            calls_active: IntGauge::new("calls_active", "Calls in progress")?,
            frames_lost: counter_vec(
                registry,
                "call_frames_lost_total",
                "Frames lost to a full call queue",
                tenant,
            )?,
            frames_refused: counter_vec(
                registry,
                "call_frames_refused_total",
                "Frames the media stage refused",
                tenant,
            )?,
            utterances: counter_vec(registry, "utterances_total", "Utterances cut", tenant)?,
            asr_busy: counter_vec(
                registry,
                "utterances_asr_busy_total",
                "Utterances that met a full speech recogniser",
                tenant,
            )?,
            utterances_lost: counter_vec(
                registry,
                "utterances_lost_total",
                "Utterances never transcribed",
                tenant,
            )?,
            segments_stored: counter_vec(
                registry,
                "segments_stored_total",
                "Segments committed to a vault",
                tenant,
            )?,
            segments_failed: counter_vec(
                registry,
                "segments_failed_total",
                "Segments a vault failed to store",
                tenant,
            )?,
            segment_delay: Histogram::with_opts(
                HistogramOpts::new(
                    "segment_delay_seconds",
                    "Seconds from an utterance being cut to its segments being stored",
                )
                .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
            )?,
        };
        registry.register(Box::new(metrics.calls_active.clone()))?;
        registry.register(Box::new(metrics.segment_delay.clone()))?;
        Ok(metrics)
    }
}
