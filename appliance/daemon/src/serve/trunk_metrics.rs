//! The Twilio trunk's own counters (atomics in the trunk crate) on the daemon's Prometheus
//! endpoint: brought up to date each time the endpoint is read.

use std::sync::Arc;

use diala_trunk::listener::{REFUSAL_REASONS, TrunkMetrics};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntCounterVec, Opts};

/// Exports a [`TrunkMetrics`] as `diala_edge_twilio_*` counters.
pub struct TrunkCollector {
    source: Arc<TrunkMetrics>,
    calls: IntCounterVec,
    refused: IntCounterVec,
    status_callbacks: IntCounter,
    streams: IntCounter,
    stream_refusals: IntCounter,
    sequence_gaps: IntCounter,
    missing_messages: IntCounter,
}

impl TrunkCollector {
    /// A collector reading `source`.
    pub fn new(source: Arc<TrunkMetrics>) -> Result<Self, prometheus::Error> {
        let counter = |name: &str, help: &str| IntCounter::new(name, help);
        Ok(TrunkCollector {
            source,
            calls: IntCounterVec::new(
                Opts::new("twilio_calls_total", "Voice webhooks answered"),
                &["kind"],
            )?,
            refused: IntCounterVec::new(
                Opts::new("twilio_refused_total", "Twilio requests refused (403)"),
                &["reason"],
            )?,
            status_callbacks: counter("twilio_status_callbacks_total", "Status callbacks")?,
            streams: counter("twilio_streams_total", "Media streams opened")?,
            stream_refusals: counter(
                "twilio_stream_refusals_total",
                "Media streams closed for a malformed message",
            )?,
            sequence_gaps: counter(
                "twilio_sequence_gaps_total",
                "Jumps in media stream sequence numbers",
            )?,
            missing_messages: counter(
                "twilio_missing_messages_total",
                "Media stream messages skipped by sequence gaps",
            )?,
        })
    }

    fn sync(&self) {
        let m = &self.source;
        raise(&self.calls.with_label_values(&["new"]), m.calls());
        raise(&self.calls.with_label_values(&["retry"]), m.retries());
        for reason in REFUSAL_REASONS {
            raise(
                &self.refused.with_label_values(&[reason]),
                m.refusals(reason),
            );
        }
        raise(&self.status_callbacks, m.status_callbacks());
        raise(&self.streams, m.streams());
        raise(&self.stream_refusals, m.stream_refusals());
        let (gaps, missing) = m.sequence_gaps();
        raise(&self.sequence_gaps, gaps);
        raise(&self.missing_messages, missing);
    }

    fn parts(&self) -> [&dyn Collector; 7] {
        [
            &self.calls,
            &self.refused,
            &self.status_callbacks,
            &self.streams,
            &self.stream_refusals,
            &self.sequence_gaps,
            &self.missing_messages,
        ]
    }
}

/// Counters only go up: raise `counter` to `value`.
fn raise(counter: &IntCounter, value: u64) {
    let now = counter.get();
    if value > now {
        counter.inc_by(value - now);
    }
}

impl Collector for TrunkCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.parts().into_iter().flat_map(Collector::desc).collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.sync();
        self.parts()
            .into_iter()
            .flat_map(Collector::collect)
            .collect()
    }
}
