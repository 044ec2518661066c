//! The per-window speech decision: window level against a noise floor that follows the line.
//!
//! Telephone lines carry hiss, hum and comfort noise at levels that differ from call to call, so
//! a fixed threshold either misses quiet talkers or cuts noise into utterances. The floor here is
//! the lowest window level seen over the last few seconds (minimum statistics): speech always
//! has gaps between words that fall to the line's own noise, while stationary noise never rises
//! far above its minimum. Windows of digital silence (all zeros: muted, or a gap we filled) do not
//! move the floor, or a quiet pause would make the first burst of line noise look like speech.
//! This module must stay cheap (a few operations a sample) and must never look ahead.

use std::collections::VecDeque;

use super::VadConfig;

/// Samples per analysis window: 10 ms at 16 kHz.
pub const WINDOW: usize = 160;
/// Windows per block of the minimum tracker: 250 ms.
const BLOCK_WINDOWS: u32 = 25;
/// Level reported for a window of digital silence, in dBFS.
const SILENT_DBFS: f32 = -120.0;
/// Windows below this are near-digital silence (a muted or freshly opened line), not line
/// noise: they do not move the floor, and the floor never drops below it.
const QUIET_DBFS: f32 = -70.0;
/// Windows averaged before the floor sees them (30 ms), so one odd window cannot drag it down.
const FLOOR_SMOOTHING: usize = 3;
/// The one-pole high-pass coefficient: about 100 Hz at 16 kHz, which removes DC offset and
/// mains hum before the level is measured.
const HIGH_PASS: f32 = 0.96;

/// What the detector concluded about one 10 ms window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowDecision {
    /// The window's level after the high-pass, in dBFS.
    pub level_dbfs: f32,
    /// The noise floor the level was compared against, in dBFS.
    pub floor_dbfs: f32,
    /// Whether the window counts as speech.
    pub speech: bool,
}

/// An energy detector for one track, adaptive to its line noise.
#[derive(Debug, Clone)]
pub struct Vad {
    onset_db: f32,
    hold_db: f32,
    min_level_dbfs: f32,
    floor: NoiseFloor,
    recent_power: VecDeque<f64>,
    prev_in: f32,
    prev_out: f32,
}

impl Vad {
    /// A detector with the thresholds and floor memory of `config`.
    pub fn new(config: &VadConfig) -> Self {
        let blocks = (config.floor_memory_ms / (10 * BLOCK_WINDOWS)).max(1) as usize;
        Vad {
            onset_db: config.onset_db,
            hold_db: config.hold_db,
            min_level_dbfs: config.min_level_dbfs,
            floor: NoiseFloor::new(blocks),
            recent_power: VecDeque::with_capacity(FLOOR_SMOOTHING),
            prev_in: 0.0,
            prev_out: 0.0,
        }
    }

    /// Classifies one window of 16 kHz samples. `in_speech` selects the lower hold threshold,
    /// so that the end of a word is not cut while it fades.
    pub fn classify(&mut self, window: &[i16], in_speech: bool) -> WindowDecision {
        let silent = window.iter().all(|&s| s == 0);
        let power = self.power(window);
        let level_dbfs = to_dbfs(power);
        if !silent && level_dbfs > QUIET_DBFS {
            self.observe_floor(power);
        }

        let floor_dbfs = self.noise_floor_dbfs().unwrap_or(QUIET_DBFS);
        let margin = if in_speech {
            self.hold_db
        } else {
            self.onset_db
        };
        let speech =
            !silent && level_dbfs >= self.min_level_dbfs && level_dbfs >= floor_dbfs + margin;
        WindowDecision {
            level_dbfs,
            floor_dbfs,
            speech,
        }
    }

    /// The current noise floor in dBFS, once any sound has been heard.
    pub fn noise_floor_dbfs(&self) -> Option<f32> {
        self.floor.current().map(|floor| floor.max(QUIET_DBFS))
    }

    fn observe_floor(&mut self, power: f64) {
        if self.recent_power.len() == FLOOR_SMOOTHING {
            self.recent_power.pop_front();
        }
        self.recent_power.push_back(power);
        let mean = self.recent_power.iter().sum::<f64>() / self.recent_power.len() as f64;
        self.floor.observe(to_dbfs(mean));
    }

    /// Mean power of the high-passed window, relative to a full-scale square wave.
    fn power(&mut self, window: &[i16]) -> f64 {
        let mut power = 0.0f64;
        for &sample in window {
            let x = f32::from(sample);
            let y = HIGH_PASS * (self.prev_out + x - self.prev_in);
            self.prev_in = x;
            self.prev_out = y;
            power += f64::from(y) * f64::from(y);
        }
        power / window.len().max(1) as f64 / (32768.0 * 32768.0)
    }
}

fn to_dbfs(power: f64) -> f32 {
    if power <= 0.0 {
        SILENT_DBFS
    } else {
        (10.0 * power.log10()).max(f64::from(SILENT_DBFS)) as f32
    }
}

/// The minimum window level over the last few seconds, kept as per-block minima.
#[derive(Debug, Clone)]
struct NoiseFloor {
    blocks: VecDeque<f32>,
    capacity: usize,
    current_min: Option<f32>,
    current_windows: u32,
}

impl NoiseFloor {
    fn new(capacity: usize) -> Self {
        NoiseFloor {
            blocks: VecDeque::with_capacity(capacity),
            capacity,
            current_min: None,
            current_windows: 0,
        }
    }

    fn observe(&mut self, level: f32) {
        self.current_min = Some(self.current_min.map_or(level, |m| m.min(level)));
        self.current_windows += 1;
        if self.current_windows < BLOCK_WINDOWS {
            return;
        }

        if self.blocks.len() == self.capacity {
            self.blocks.pop_front();
        }
        self.blocks.extend(self.current_min.take());
        self.current_windows = 0;
    }

    fn current(&self) -> Option<f32> {
        self.blocks
            .iter()
            .copied()
            .chain(self.current_min)
            .reduce(f32::min)
    }
}
