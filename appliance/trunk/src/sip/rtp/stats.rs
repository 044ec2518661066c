//! Reception statistics of one RTP source and the RTCP receiver report that carries them
//! (RFC 3550 section 6.4.2 and appendix A.3 and A.8).
//!
//! The peer's sender reports give the `LSR` and `DLSR` fields; arrival times are passed in,
//! never read from a clock. It must never count a packet of another SSRC into this source.

use std::time::{Duration, Instant};

use rtcp::receiver_report::ReceiverReport;
use rtcp::reception_report::ReceptionReport;
use webrtc_util::marshal::Marshal;

const RTP_SEQ_MOD: u32 = 1 << 16;

/// Counts of one source since the call began.
#[derive(Debug)]
pub struct SourceStats {
    ssrc: u32,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    transit: Option<i64>,
    jitter: f64,
    epoch: Instant,
    last_sr: Option<(u32, Instant)>,
}

impl SourceStats {
    /// A source first heard with `seq` at `arrival`.
    pub fn new(ssrc: u32, seq: u16, arrival: Instant) -> Self {
        Self {
            ssrc,
            base_seq: u32::from(seq),
            max_seq: seq,
            cycles: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter: 0.0,
            epoch: arrival,
            last_sr: None,
        }
    }

    /// The source's SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Counts a packet with `seq` and RTP `timestamp` (at `rate` Hz) arriving at `arrival`.
    pub fn packet(&mut self, seq: u16, timestamp: u32, rate: u32, arrival: Instant) {
        let delta = seq.wrapping_sub(self.max_seq);
        if delta != 0 && delta < 0x8000 {
            if seq < self.max_seq {
                self.cycles += RTP_SEQ_MOD;
            }
            self.max_seq = seq;
        }
        self.received += 1;

        // Interarrival jitter (A.8), in timestamp units.
        let since = arrival.saturating_duration_since(self.epoch);
        let arrival_units = (since.as_micros() * u128::from(rate) / 1_000_000) as i64;
        let transit = arrival_units - i64::from(timestamp);
        if let Some(previous) = self.transit {
            let d = (transit - previous).abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }

    /// Notes a sender report whose NTP time was `ntp` (64-bit), received at `arrival`.
    pub fn sender_report(&mut self, ntp: u64, arrival: Instant) {
        self.last_sr = Some(((ntp >> 16) as u32, arrival));
    }

    /// Packets lost so far (expected minus received; negative with duplicates).
    pub fn lost(&self) -> i64 {
        i64::from(self.extended_max()) - i64::from(self.base_seq) + 1 - i64::from(self.received)
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// This source's report block at `now`, and the interval counters moved on.
    pub fn report(&mut self, now: Instant) -> ReceptionReport {
        let expected = self
            .extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1);
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        let received_interval = self.received.wrapping_sub(self.received_prior);
        (self.expected_prior, self.received_prior) = (expected, self.received);
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };

        let (last_sender_report, delay) = match self.last_sr {
            Some((lsr, at)) => (lsr, to_1_65536(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        ReceptionReport {
            ssrc: self.ssrc,
            fraction_lost,
            // A 24-bit signed field: clamped.
            total_lost: self.lost().clamp(0, 0x7f_ffff) as u32,
            last_sequence_number: self.extended_max(),
            jitter: self.jitter as u32,
            last_sender_report,
            delay,
        }
    }
}

fn to_1_65536(delay: Duration) -> u32 {
    (delay.as_micros() * 65_536 / 1_000_000).min(u128::from(u32::MAX)) as u32
}

/// An RTCP receiver report from `own_ssrc` about `source`, on the wire.
pub fn receiver_report(own_ssrc: u32, source: &mut SourceStats, now: Instant) -> Vec<u8> {
    let report = ReceiverReport {
        ssrc: own_ssrc,
        reports: vec![source.report(now)],
        profile_extensions: Default::default(),
    };
    // Marshalling a report with one block into a fresh buffer cannot fail.
    report.marshal().map(|b| b.to_vec()).unwrap_or_default()
}
