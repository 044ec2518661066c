//! The worker pool: a job channel in front, one thread per whisper.cpp state behind, and a
//! slot count that refuses work instead of letting it pile up.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use whisper_rs::{WhisperContext, WhisperContextParameters, WhisperState};

use super::decode::{self, DecodeOptions};
use super::{EngineConfig, EngineError};
use crate::model;
use crate::transcriber::{Pending, Segment, Slots, TranscribeError, Transcriber, Utterance};

type Reply = mpsc::SyncSender<Result<Vec<Segment>, TranscribeError>>;

struct Job {
    utterance: Utterance,
    reply: Reply,
}

/// Speech recognition with whisper.cpp on a pool of worker threads.
pub struct WhisperEngine {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    slots: Arc<Slots>,
}

impl std::fmt::Debug for WhisperEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperEngine")
            .field("workers", &self.workers.len())
            .field("in_flight", &self.slots.used())
            .finish()
    }
}

impl WhisperEngine {
    /// Checks and loads the model, makes one state per worker, and starts the workers.
    pub fn start(config: &EngineConfig) -> Result<WhisperEngine, EngineError> {
        model::check(&config.model)?;
        whisper_rs::install_logging_hooks();
        let load_error = |detail: String| EngineError::Load {
            path: config.model.clone(),
            detail,
        };
        let context =
            WhisperContext::new_with_params(&config.model, WhisperContextParameters::default())
                .map_err(|e| load_error(e.to_string()))?;
        if !context.is_multilingual() && config.decode.language != "en" {
            return Err(EngineError::Language(config.decode.language.clone()));
        }

        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut workers = Vec::with_capacity(config.workers);
        for index in 0..config.workers.max(1) {
            let state = context
                .create_state()
                .map_err(|e| load_error(e.to_string()))?;
            let (queue, options) = (Arc::clone(&queue), config.decode.clone());
            let worker = std::thread::Builder::new()
                .name(format!("asr-worker-{index}"))
                .spawn(move || work(state, &options, &queue))
                .map_err(EngineError::Thread)?;
            workers.push(worker);
        }
        Ok(WhisperEngine {
            jobs: Some(jobs),
            workers,
            slots: Slots::new(config.queue_depth.max(1)),
        })
    }

    /// Utterances accepted and not yet collected.
    pub fn in_flight(&self) -> usize {
        self.slots.used()
    }
}

impl Transcriber for WhisperEngine {
    fn submit(&self, utterance: Utterance) -> Result<Pending, TranscribeError> {
        let slot = self.slots.take()?;
        let (reply, result) = mpsc::sync_channel(1);
        let jobs = self.jobs.as_ref().ok_or(TranscribeError::Stopped)?;
        jobs.send(Job { utterance, reply })
            .map_err(|_| TranscribeError::Stopped)?;
        Ok(Pending::new(result, slot))
    }
}

impl Drop for WhisperEngine {
    /// Stops taking work, lets the workers finish what is queued, and waits for them.
    fn drop(&mut self) {
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A worker: takes the next job, recognises it on its own state, replies.
fn work(mut state: WhisperState, options: &DecodeOptions, queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, never while recognising.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let result = decode::run(&mut state, options, &job.utterance);
        // The caller may have given up on the result; that is not the worker's concern.
        let _ = job.reply.send(result);
    }
}
