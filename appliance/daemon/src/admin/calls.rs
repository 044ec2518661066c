//! The call and transcript commands of the admin socket: a tenant's calls, one call's
//! segments, and the export of transcripts.
//!
//! Text is redacted unless the sysadmin asked to reveal it and holds a fresh step-up (checked
//! before these run); revealed is only what the tenant's policy kept, never more. A call of
//! another tenant is answered exactly as a call that does not exist. Text is never logged.

use diala_vault::{CallSummary, StoredSegment, TenantVault};

use super::handlers::{AdminApi, CommandError, Progress};
use super::replies::{CallReply, CallRow, CallsReply, SegmentRow, TranscriptsReply};

/// Calls an export of a whole tenant may hold: the answer is one message held in memory. A
/// larger tenant is refused, never cut short, and exported call by call.
// Limitation: a whole-tenant export is built in memory as one answer, not streamed.
pub(super) const EXPORT_MAX_CALLS: u32 = 100_000;

fn call_row(call: CallSummary) -> CallRow {
    CallRow {
        id: call.id,
        trunk: call.trunk,
        started_at_ms: call.started_at_ms,
        ended_at_ms: call.ended_at_ms,
        segments: call.segments,
    }
}

fn segment_row(stored: StoredSegment, reveal: bool) -> SegmentRow {
    let segment = stored.segment;
    let (text, revealed) = match (reveal, segment.text) {
        (true, Some(kept)) => (kept, true),
        _ => (segment.redacted, false),
    };
    SegmentRow {
        track: segment.track,
        start_ms: segment.start_ms,
        end_ms: segment.end_ms,
        text,
        revealed,
        confidence: segment.confidence,
    }
}

/// One call with its segments.
fn transcript(vault: &TenantVault, call: CallRow, reveal: bool) -> Result<CallReply, CommandError> {
    let segments = vault.segments(&call.id)?;
    Ok(CallReply {
        tenant: vault.tenant().to_owned(),
        call,
        segments: segments
            .into_iter()
            .map(|s| segment_row(s, reveal))
            .collect(),
    })
}

impl AdminApi {
    pub(super) fn call_list(&self, tenant: &str, limit: u32) -> Result<CallsReply, CommandError> {
        let vault = self.vaults.open_tenant(tenant)?;
        let calls = vault.calls(limit)?.into_iter().map(call_row).collect();
        Ok(CallsReply {
            tenant: tenant.to_owned(),
            calls,
        })
    }

    /// The call `call` of `tenant`, as the list shows it.
    fn find_call(&self, vault: &TenantVault, call: &str) -> Result<CallRow, CommandError> {
        let record = vault.call(call)?.ok_or_else(|| CommandError::NoSuchCall {
            tenant: vault.tenant().to_owned(),
            call: call.to_owned(),
        })?;
        let segments = vault.segments(call)?.len() as u64;
        Ok(CallRow {
            id: record.id,
            trunk: record.trunk,
            started_at_ms: record.started_at_ms,
            ended_at_ms: record.ended_at_ms,
            segments,
        })
    }

    pub(super) fn call_show(
        &self,
        tenant: &str,
        call: &str,
        reveal: bool,
    ) -> Result<CallReply, CommandError> {
        let vault = self.vaults.open_tenant(tenant)?;
        let row = self.find_call(&vault, call)?;
        transcript(&vault, row, reveal)
    }

    pub(super) fn export(
        &self,
        tenant: &str,
        call: Option<&str>,
        reveal: bool,
        progress: Progress<'_>,
    ) -> Result<TranscriptsReply, CommandError> {
        let vault = self.vaults.open_tenant(tenant)?;
        let mut calls = match call {
            Some(call) => vec![self.find_call(&vault, call)?],
            None => {
                let calls = vault.calls(EXPORT_MAX_CALLS + 1)?;
                if calls.len() > EXPORT_MAX_CALLS as usize {
                    return Err(CommandError::ExportTooLarge(tenant.to_owned()));
                }
                calls.into_iter().map(call_row).collect()
            }
        };
        calls.reverse();
        let total = calls.len() as u64;
        let mut transcripts = Vec::with_capacity(calls.len());
        for (done, row) in calls.into_iter().enumerate() {
            transcripts.push(transcript(&vault, row, reveal)?);
            progress(done as u64 + 1, total);
        }
        Ok(TranscriptsReply { transcripts })
    }
}
