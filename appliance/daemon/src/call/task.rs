//! One call from start to end: begun in the tenant's vault, its frames fed to their tracks,
//! backlogged utterances retried, and at the end every track flushed and the call closed.
//!
//! The call runs in one tokio task under a span naming the tenant, call and trunk; each track's
//! results are stored by a collector task of its own so a slow commit never delays cutting.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diala_media::Track;
use diala_redact::{Policy, Redactor, TokenKey, TrackRedactor};
use diala_vault::{NewCall, TenantVault, VaultError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use super::collect::Collector;
use super::track::TrackPipeline;
use super::{CallEnd, CallStart, Shared, TrackFrame};

/// How often utterances waiting for the recogniser are offered again.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// A track's media stage and the collector storing its segments.
struct TrackParts {
    pipeline: TrackPipeline,
    collector: JoinHandle<()>,
}

/// One call's pipeline.
pub(super) struct CallTask {
    shared: Arc<Shared>,
    start: CallStart,
    policy: Policy,
    tracks: HashMap<Track, TrackParts>,
}

impl CallTask {
    pub(super) fn new(shared: Arc<Shared>, start: CallStart, policy: Policy) -> Self {
        CallTask {
            shared,
            start,
            policy,
            tracks: HashMap::new(),
        }
    }

    /// Runs the call until it ends, then flushes and closes it.
    pub(super) async fn run(
        self,
        frames: mpsc::Receiver<TrackFrame>,
        end: oneshot::Receiver<CallEnd>,
    ) {
        let span = tracing::info_span!(
            "call",
            tenant = %self.start.tenant,
            call = %self.start.call_id,
            trunk = self.start.trunk
        );
        self.serve(frames, end).instrument(span).await;
    }

    async fn serve(
        mut self,
        mut frames: mpsc::Receiver<TrackFrame>,
        mut end: oneshot::Receiver<CallEnd>,
    ) {
        let metrics = self.shared.metrics.clone();
        let tenant = self.start.tenant.clone();
        let opened = open(self.shared.clone(), self.start.clone(), self.policy).await;
        let (vault, redactor) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                metrics.calls_refused.with_label_values(&[&tenant]).inc();
                tracing::warn!(%error, "call not recorded: the vault refused it");
                return;
            }
        };
        metrics
            .calls_started
            .with_label_values(&[&tenant, self.start.trunk])
            .inc();
        metrics.calls_active.inc();
        tracing::info!("call started");

        let mut retry = tokio::time::interval(RETRY_EVERY);
        let how = loop {
            let backlog = self.tracks.values().any(|t| t.pipeline.has_backlog());
            tokio::select! {
                biased;
                how = &mut end => {
                    while let Ok(frame) = frames.try_recv() {
                        self.feed(&frame, &vault, &redactor);
                    }
                    break how.unwrap_or(CallEnd::Disconnected);
                }
                frame = frames.recv() => match frame {
                    Some(frame) => self.feed(&frame, &vault, &redactor),
                    None => break CallEnd::Disconnected,
                },
                _ = retry.tick(), if backlog => self.retry(),
            }
        };

        self.close(&vault, how, &mut retry).await;
        metrics.calls_active.dec();
        metrics
            .calls_ended
            .with_label_values(&[&tenant, how.as_str()])
            .inc();
    }

    fn feed(&mut self, frame: &TrackFrame, vault: &Arc<TenantVault>, redactor: &Redactor) {
        if !self.tracks.contains_key(&frame.track) {
            match self.track(frame.track, vault, redactor) {
                Some(parts) => self.tracks.insert(frame.track, parts),
                None => return,
            };
        }
        let asr = self.shared.transcriber.as_ref();
        if let Some(parts) = self.tracks.get_mut(&frame.track) {
            parts.pipeline.push(frame, asr, &self.shared.metrics);
        }
    }

    fn retry(&mut self) {
        let asr = self.shared.transcriber.as_ref();
        for parts in self.tracks.values_mut() {
            parts.pipeline.submit(asr, &self.shared.metrics);
        }
    }

    /// A new track's pipeline and collector.
    fn track(
        &self,
        track: Track,
        vault: &Arc<TenantVault>,
        redactor: &Redactor,
    ) -> Option<TrackParts> {
        // Each pending result holds a recogniser slot; see `TrackPipeline::submit`.
        let depth = self.shared.transcriber.as_ref().map_or(1, |_| QUEUE_ROOM);
        let (results, received) = mpsc::channel(depth);
        let pipeline = match TrackPipeline::new(track, &self.start.tenant, results) {
            Ok(pipeline) => pipeline,
            Err(error) => {
                tracing::error!(%error, "the media stage refused its settings");
                return None;
            }
        };
        let collector = Collector {
            vault: vault.clone(),
            call_id: self.start.call_id.clone(),
            track,
            redactor: TrackRedactor::new(redactor.clone()),
            keeps_text: self.policy.kept().next().is_some(),
            metrics: self.shared.metrics.clone(),
        };
        let collector = self
            .shared
            .tasks
            .spawn(collector.run(received).in_current_span());
        Some(TrackParts {
            pipeline,
            collector,
        })
    }

    /// Flushes every track, waits for its segments to be stored, and ends the call.
    async fn close(
        &mut self,
        vault: &Arc<TenantVault>,
        how: CallEnd,
        retry: &mut tokio::time::Interval,
    ) {
        let metrics = self.shared.metrics.clone();
        for parts in self.tracks.values_mut() {
            parts.pipeline.finish(&metrics);
        }
        // What was said before the hang-up is still recognised: wait for room, tick by tick.
        while self.tracks.values().any(|t| t.pipeline.has_backlog()) {
            retry.tick().await;
            self.retry();
        }
        for (_, parts) in self.tracks.drain() {
            drop(parts.pipeline);
            let _ = parts.collector.await;
        }

        let (vault, call_id) = (vault.clone(), self.start.call_id.clone());
        let ended = tokio::task::spawn_blocking(move || vault.end_call(&call_id, now_ms())).await;
        match ended {
            Ok(Ok(())) => tracing::info!(end = how.as_str(), "call ended"),
            Ok(Err(error)) => tracing::error!(%error, "the call's end could not be stored"),
            Err(_) => tracing::error!("the call's end could not be stored"),
        }
    }
}

/// The tenant's vault with the call begun in it, and the tenant's redactor.
async fn open(
    shared: Arc<Shared>,
    start: CallStart,
    policy: Policy,
) -> Result<(Arc<TenantVault>, Redactor), VaultError> {
    let tenant = start.tenant.clone();
    let call = NewCall {
        id: start.call_id,
        trunk: start.trunk.to_owned(),
        started_at_ms: now_ms(),
    };
    let opened = tokio::task::spawn_blocking(move || {
        let vaults = &shared.vaults;
        let vault = vaults.open_tenant(&start.tenant)?;
        vault.begin_call(&call)?;
        let key = vaults.tenant_token_key(&start.tenant)?;
        let redactor = Redactor::new(TokenKey::from_bytes(*key.expose()), policy);
        Ok::<_, VaultError>((vault, redactor))
    })
    .await;
    opened.unwrap_or_else(|_| Err(VaultError::UnknownTenant(tenant)))
}

/// Room for pending results per track. Slots are shared by every call, so a track can never
/// hold more pending results than the recogniser has slots; this is the most it may hold.
const QUEUE_ROOM: usize = 4096;

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
