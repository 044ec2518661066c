//! The jitter buffer: RTP audio of one track, in order, without holes, on the call's timeline.
//!
//! Packets are placed by their RTP timestamp (unwrapped past 2^32), held until the newest is
//! `depth` samples ahead, then released in order. A hole is concealed: the last audio is
//! repeated, fading, for up to three packets' worth, then silence, so the timeline never
//! shrinks and downstream time stays true. A new SSRC (the peer's media server changed, or the
//! call was transferred) or a jump of more than a minute starts a new run of the timeline right
//! after what was released. Packets that come too late to be played are dropped and counted.
//! It is driven by packets only and reads no clock. It must never release a sample twice, or
//! two samples for one instant.

use std::collections::BTreeMap;

/// Samples of concealment that repeat the last audio before falling back to silence.
const CONCEAL_REPEAT: u64 = 480;
/// A timestamp jump past this many samples (one minute at 8 kHz) is a new run, not a gap.
const MAX_JUMP: i64 = 8000 * 60;

/// What the buffer dropped or made up, for metrics and RTCP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterCounters {
    /// Packets placed.
    pub placed: u64,
    /// Packets that came after their time had been released.
    pub late: u64,
    /// Packets for an instant already held.
    pub duplicate: u64,
    /// Samples made up for lost packets.
    pub concealed_samples: u64,
    /// New runs of the timeline: SSRC changes and jumps.
    pub restarts: u64,
}

/// A jitter buffer for one track at one sample rate.
#[derive(Debug)]
pub struct JitterBuffer {
    depth: u64,
    ssrc: Option<u32>,
    last_ts: u32,
    last_ext: i64,
    offset: i64,
    cursor: u64,
    newest_end: u64,
    pending: BTreeMap<u64, Vec<i16>>,
    last_audio: Vec<i16>,
    concealed_run: u64,
    counters: JitterCounters,
}

impl JitterBuffer {
    /// A buffer that holds `depth` samples (480 is 60 ms at 8 kHz).
    pub fn new(depth: u64) -> Self {
        Self {
            depth,
            ssrc: None,
            last_ts: 0,
            last_ext: 0,
            offset: 0,
            cursor: 0,
            newest_end: 0,
            pending: BTreeMap::new(),
            last_audio: Vec::new(),
            concealed_run: 0,
            counters: JitterCounters::default(),
        }
    }

    /// Samples released so far: the length of the timeline.
    pub fn released(&self) -> u64 {
        self.cursor
    }

    /// What was dropped or made up so far.
    pub fn counters(&self) -> JitterCounters {
        self.counters
    }

    /// Places decoded `samples` of a packet from `ssrc` with RTP `timestamp`.
    pub fn push(&mut self, ssrc: u32, timestamp: u32, samples: Vec<i16>) {
        if samples.is_empty() {
            return;
        }
        let ext = self.unwrap(ssrc, timestamp);
        let Some(position) = u64::try_from(ext + self.offset)
            .ok()
            .filter(|p| *p >= self.cursor)
        else {
            self.counters.late += 1;
            return;
        };
        if self.pending.contains_key(&position) {
            self.counters.duplicate += 1;
            return;
        }
        self.counters.placed += 1;
        self.newest_end = self.newest_end.max(position + samples.len() as u64);
        self.pending.insert(position, samples);
    }

    /// The timestamp on the timeline's own scale, starting a new run when the stream changed.
    fn unwrap(&mut self, ssrc: u32, timestamp: u32) -> i64 {
        let step = i64::from(timestamp.wrapping_sub(self.last_ts) as i32);
        let known = self.ssrc == Some(ssrc);
        if known && step.abs() <= MAX_JUMP {
            let ext = self.last_ext + step;
            if step > 0 {
                (self.last_ts, self.last_ext) = (timestamp, ext);
            }
            return ext;
        }

        if self.ssrc.is_some() {
            self.counters.restarts += 1;
        }
        // The new run starts right after everything placed so far.
        let start = self.newest_end.max(self.cursor);
        (self.ssrc, self.last_ts, self.last_ext) = (Some(ssrc), timestamp, 0);
        self.offset = i64::try_from(start).unwrap_or(i64::MAX);
        0
    }

    /// The next run of audio ready to release, with its position in samples on the timeline.
    pub fn pop(&mut self) -> Option<(u64, Vec<i16>)> {
        if self.newest_end.saturating_sub(self.cursor) <= self.depth {
            return None;
        }
        self.release()
    }

    /// Everything still held, in order (at the end of the call).
    pub fn drain(&mut self) -> Vec<(u64, Vec<i16>)> {
        std::iter::from_fn(|| self.release()).collect()
    }

    fn release(&mut self) -> Option<(u64, Vec<i16>)> {
        let (&position, _) = self.pending.first_key_value()?;
        let start = self.cursor;
        if position > start {
            let gap = (position - start).min(160);
            let samples = self.conceal(gap);
            self.cursor += gap;
            return Some((start, samples));
        }

        let (_, samples) = self.pending.pop_first()?;
        // A packet overlapping audio already released keeps only its new part.
        let skip = usize::try_from(start - position).unwrap_or(usize::MAX);
        let fresh: Vec<i16> = samples.into_iter().skip(skip).collect();
        if fresh.is_empty() {
            return self.release();
        }
        self.cursor += fresh.len() as u64;
        self.concealed_run = 0;
        self.last_audio.clone_from(&fresh);
        Some((start, fresh))
    }

    /// `count` samples standing in for lost audio: the last audio fading, then silence.
    fn conceal(&mut self, count: u64) -> Vec<i16> {
        self.counters.concealed_samples += count;
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for i in 0..count {
            let run = self.concealed_run + i;
            let source = self
                .last_audio
                .get(usize::try_from(run).unwrap_or(0) % self.last_audio.len().max(1));
            let sample = match source {
                Some(&s) if run < CONCEAL_REPEAT => {
                    let left = (CONCEAL_REPEAT - run) as i32;
                    (i32::from(s) * left / CONCEAL_REPEAT as i32) as i16
                }
                _ => 0,
            };
            out.push(sample);
        }
        self.concealed_run += count;
        out
    }
}
