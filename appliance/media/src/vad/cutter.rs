//! The utterance state machine of one track: idle, or holding an open utterance.
//!
//! Frames come in at their own rate and call time; the cutter converts them to 16 kHz, splits
//! them into 10 ms windows, and moves between two states. Idle, it keeps the last pre-roll of
//! windows. On a speech window it opens an utterance with that pre-roll, announces the turn once
//! the minimum speech is reached, and closes on the hang-over of silence, on the maximum length
//! (cutting at the quietest moment of the last second and carrying the rest over), or at the end
//! of the stream. Gaps between frames are silence; a frame that overlaps what came before is
//! refused without changing anything.

use std::collections::VecDeque;

use super::level::{Vad, WINDOW};
use super::open::{Open, PER_MS, Window};
use super::{Ended, Utterance, VadConfig, VadError, VadEvent};
use crate::frame::{Frame, Track, samples_to_ms};
use crate::resample::Resampler;

/// The rate everything is cut at: speech recognition's.
const RATE_16K: u32 = 16_000;
/// Gaps up to this long are filled with silence sample by sample; longer ones (a call on hold)
/// end any utterance and jump ahead, so that an hour of hold costs nothing.
const MAX_FILL_MS: u64 = 1000;
/// How far back from the maximum length a cut may move to find a quiet moment: 1 s of windows.
const CUT_SEARCH_WINDOWS: usize = 100;

/// The input side of a stream: its rate, its converter and how much audio it has carried.
#[derive(Debug)]
struct Stream {
    rate: u32,
    resampler: Resampler,
    base_ms: u64,
    samples: u64,
}

impl Stream {
    fn end_ms(&self) -> u64 {
        self.base_ms + samples_to_ms(self.samples, self.rate)
    }
}

/// Cuts one track's audio into utterances; see the module documentation of `vad`.
#[derive(Debug)]
pub struct UtteranceCutter {
    track: Track,
    config: VadConfig,
    vad: Vad,
    stream: Option<Stream>,
    /// 16 kHz sample position (call-relative) of the next window.
    position: u64,
    partial: Vec<i16>,
    converted: Vec<i16>,
    ring: VecDeque<Window>,
    open: Option<Open>,
}

impl UtteranceCutter {
    /// A cutter for `track`; refuses a configuration that does not validate.
    pub fn new(track: Track, config: VadConfig) -> Result<Self, VadError> {
        config.validate()?;
        Ok(UtteranceCutter {
            track,
            vad: Vad::new(&config),
            config,
            stream: None,
            position: 0,
            partial: Vec::with_capacity(WINDOW),
            converted: Vec::new(),
            ring: VecDeque::new(),
            open: None,
        })
    }

    /// The track this cutter serves.
    pub fn track(&self) -> Track {
        self.track
    }

    /// Whether a turn has been announced and not yet ended.
    pub fn in_turn(&self) -> bool {
        self.open.as_ref().is_some_and(|open| open.announced)
    }

    /// The detector's current noise floor, in dBFS.
    pub fn noise_floor_dbfs(&self) -> Option<f32> {
        self.vad.noise_floor_dbfs()
    }

    /// Feeds one frame. A gap since the previous frame counts as silence. A frame that overlaps
    /// audio already given, changes rate, or belongs to another track is refused, and the
    /// cutter is left as it was.
    pub fn push(&mut self, frame: &Frame) -> Result<Vec<VadEvent>, VadError> {
        if frame.track != self.track {
            return Err(VadError::WrongTrack {
                expected: self.track,
                got: frame.track,
            });
        }
        let expected_ms = match &self.stream {
            Some(stream) if stream.rate != frame.sample_rate => {
                return Err(VadError::RateChanged {
                    from: stream.rate,
                    to: frame.sample_rate,
                });
            }
            Some(stream) => stream.end_ms(),
            None => self.position.div_ceil(PER_MS),
        };
        // A millisecond of slack: frame times are whole milliseconds, sample counts are not.
        if frame.start_ms + 1 < expected_ms {
            return Err(VadError::Overlap {
                start_ms: frame.start_ms,
                expected_ms,
            });
        }

        let mut events = Vec::new();
        if self.stream.is_none() {
            let resampler = Resampler::new(frame.sample_rate, RATE_16K)?;
            self.stream = Some(Stream {
                rate: frame.sample_rate,
                resampler,
                base_ms: 0,
                samples: 0,
            });
            self.jump_to(frame.start_ms);
        }
        self.fill_to(frame.start_ms, &mut events)?;
        self.feed_input(&frame.samples, &mut events)?;
        Ok(events)
    }

    /// Tells the cutter that call time has reached `now_ms` with no more audio: the time since
    /// the last frame counts as silence, so a turn ends even when the far end stops sending.
    /// Later frames must start at or after `now_ms`.
    pub fn advance_to(&mut self, now_ms: u64) -> Result<Vec<VadEvent>, VadError> {
        let mut events = Vec::new();
        self.fill_to(now_ms, &mut events)?;
        Ok(events)
    }

    /// Ends the stream (the call hung up): flushes held-back audio and closes any utterance.
    /// The next frame starts a new stream, at any rate.
    pub fn finish(&mut self) -> Result<Vec<VadEvent>, VadError> {
        let mut events = Vec::new();
        self.drain_stream(&mut events)?;
        self.pad_partial(&mut events);
        self.close(Ended::EndOfStream, &mut events);
        Ok(events)
    }

    /// Counts the time from the end of the stream to `target_ms` as silence.
    fn fill_to(&mut self, target_ms: u64, events: &mut Vec<VadEvent>) -> Result<(), VadError> {
        let Some(stream) = &self.stream else {
            return Ok(());
        };
        let end_ms = stream.end_ms();
        if target_ms <= end_ms + 1 {
            return Ok(());
        }

        let gap_ms = target_ms - end_ms;
        if gap_ms <= MAX_FILL_MS {
            let samples = (gap_ms * u64::from(stream.rate) / 1000) as usize;
            return self.feed_input(&vec![0; samples], events);
        }

        // A long gap: let the hang-over run out on silence, then restart the clock at the target.
        self.drain_stream(events)?;
        self.pad_partial(events);
        let hang_over_windows = self.config.hang_over_ms as usize / 10 + 1;
        for _ in 0..hang_over_windows {
            if self.open.is_none() {
                break;
            }
            self.step([0; WINDOW], events);
        }
        self.jump_to(target_ms);
        Ok(())
    }

    /// Restarts the input clock at `start_ms` (no audio is held back at this point).
    fn jump_to(&mut self, start_ms: u64) {
        self.position = self.position.max(start_ms * PER_MS);
        if let Some(stream) = &mut self.stream {
            stream.base_ms = start_ms;
            stream.samples = 0;
        }
    }

    fn feed_input(&mut self, samples: &[i16], events: &mut Vec<VadEvent>) -> Result<(), VadError> {
        let Some(stream) = &mut self.stream else {
            return Ok(());
        };
        stream.samples += samples.len() as u64;
        let mut converted = std::mem::take(&mut self.converted);
        converted.clear();
        let result = stream.resampler.process(samples, &mut converted);
        self.feed_16k(&converted, events);
        self.converted = converted;
        Ok(result?)
    }

    /// Flushes the converter's tail into the windows and forgets the stream.
    fn drain_stream(&mut self, events: &mut Vec<VadEvent>) -> Result<(), VadError> {
        let Some(mut stream) = self.stream.take() else {
            return Ok(());
        };
        let mut tail = Vec::new();
        let result = stream.resampler.finish(&mut tail);
        self.feed_16k(&tail, events);
        Ok(result?)
    }

    fn feed_16k(&mut self, mut samples: &[i16], events: &mut Vec<VadEvent>) {
        while !samples.is_empty() {
            let room = WINDOW - self.partial.len();
            let (head, rest) = samples.split_at(room.min(samples.len()));
            self.partial.extend_from_slice(head);
            samples = rest;
            if let Ok(window) = <[i16; WINDOW]>::try_from(self.partial.as_slice()) {
                self.partial.clear();
                self.step(window, events);
            }
        }
    }

    /// Completes a partial last window with silence.
    fn pad_partial(&mut self, events: &mut Vec<VadEvent>) {
        if !self.partial.is_empty() {
            let missing = WINDOW - self.partial.len();
            self.feed_16k(&vec![0; missing], events);
        }
    }

    fn step(&mut self, samples: [i16; WINDOW], events: &mut Vec<VadEvent>) {
        let decision = self.vad.classify(&samples, self.open.is_some());
        let start = self.position;
        self.position += WINDOW as u64;
        let window = Window { samples, decision };

        match &mut self.open {
            Some(open) => open.push(window),
            None if decision.speech => {
                let pre_roll: Vec<Window> = self.ring.drain(..).collect();
                let mut open = Open {
                    start: start - (pre_roll.len() * WINDOW) as u64,
                    ..Open::default()
                };
                pre_roll.into_iter().for_each(|w| open.push(w));
                open.push(window);
                self.open = Some(open);
            }
            None => {
                self.remember(window);
                return;
            }
        }
        self.after_push(events);
    }

    /// Keeps `window` in the pre-roll ring.
    fn remember(&mut self, window: Window) {
        let capacity = self.config.pre_roll_ms as usize / 10;
        if capacity == 0 {
            return;
        }
        if self.ring.len() >= capacity {
            self.ring.pop_front();
        }
        self.ring.push_back(window);
    }

    fn after_push(&mut self, events: &mut Vec<VadEvent>) {
        let Some(open) = &mut self.open else { return };
        if !open.announced && open.speech_windows * 10 >= self.config.min_speech_ms as usize {
            open.announced = true;
            let at_ms = open.time_ms(open.first_speech.unwrap_or(0));
            events.push(VadEvent::SpeechStarted {
                track: self.track,
                at_ms,
            });
        }

        if open.silence_run * 10 >= self.config.hang_over_ms as usize {
            self.close(Ended::Silence, events);
        } else if open.windows.len() >= self.config.max_utterance_ms as usize / 10 {
            self.cut_at_max(events);
        }
    }

    /// Ends the open utterance, emitting it (trimmed to the post-roll) and the endpoint if the
    /// turn was announced; speech too short to announce is dropped.
    fn close(&mut self, ended: Ended, events: &mut Vec<VadEvent>) {
        let Some(open) = self.open.take() else { return };
        let post_roll = self.config.post_roll_ms as usize / 10;
        let keep = match open.last_speech {
            Some(last) if open.announced => (last + 1 + post_roll).min(open.windows.len()),
            _ => 0,
        };

        // The next pre-roll comes from what this utterance did not keep, so none overlap.
        let pre_roll = self.config.pre_roll_ms as usize / 10;
        let tail_from = open.windows.len().saturating_sub(pre_roll).max(keep);
        self.ring = open
            .windows
            .get(tail_from..)
            .unwrap_or_default()
            .iter()
            .cloned()
            .collect();
        if !open.announced {
            return;
        }

        let mut speech_end_ms = open.time_ms(0);
        if let Some(last) = open.last_speech {
            speech_end_ms = open.time_ms(last + 1);
            let windows = open.windows.get(..keep).unwrap_or_default();
            events.push(self.utterance(open.start, windows, ended));
        }
        let detected_ms = self.position / PER_MS;
        events.push(VadEvent::Endpoint {
            track: self.track,
            speech_end_ms,
            detected_ms,
        });
    }

    /// Cuts an utterance that reached the maximum length at the quietest window of its last
    /// second, emits the first part and keeps collecting from the cut.
    fn cut_at_max(&mut self, events: &mut Vec<VadEvent>) {
        let Some(mut open) = self.open.take() else {
            return;
        };
        let len = open.windows.len();
        let quietest = (len.saturating_sub(CUT_SEARCH_WINDOWS)..len)
            .filter_map(|i| open.windows.get(i).map(|w| (i, w.decision.level_dbfs)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(len, |(i, _)| i + 1);

        let carried = open.windows.split_off(quietest);
        if open.announced && open.speech_windows > 0 {
            events.push(self.utterance(open.start, &open.windows, Ended::MaxLength));
        }

        let start = open.start + (quietest * WINDOW) as u64;
        let mut next = Open {
            start,
            announced: open.announced,
            ..Open::default()
        };
        carried.into_iter().for_each(|w| next.push(w));
        self.open = Some(next);
    }

    fn utterance(&self, start: u64, windows: &[Window], ended: Ended) -> VadEvent {
        let samples_16k = windows.iter().flat_map(|w| w.samples).collect();
        VadEvent::Utterance(Utterance {
            track: self.track,
            start_ms: start / PER_MS,
            samples_16k,
            ended,
        })
    }
}
