//! How the CLI shows the answers of the tenant, call, retention and key commands to a person:
//! aligned tables and short sentences, and a progress bar on the terminal while a long
//! command runs. Scripts use `--json` instead, which bypasses all of this.

use std::io::{IsTerminal as _, Write};

use indicatif::{ProgressBar, ProgressStyle};

use super::client::time_of;
use super::protocol::Reply;
use super::replies::{CallReply, CallsReply, DoneReply, PurgeReply, RetentionReply, TenantReply};

/// A progress bar on standard error, drawn only when standard output is a terminal (a person
/// is watching) and only once the daemon reports progress.
#[derive(Debug)]
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    /// A bar that appears with the first progress line.
    pub fn new() -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::hidden();
            let style = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Bar { bar }
    }

    /// Shows `done` of `total`.
    pub fn show(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            if bar.is_hidden() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    /// Removes the bar once the answer is in.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Writes one of the replies this module knows; the older ones are written by the client.
pub fn write(reply: &Reply, out: &mut impl Write) -> std::io::Result<()> {
    match reply {
        Reply::Tenant(tenant) => write_tenant(tenant, out),
        Reply::Calls(calls) => write_calls(calls, out),
        Reply::Call(call) => write_call(call, out),
        Reply::Retention(retention) => write_retention(retention, out),
        Reply::Purged(purged) => write_purged(purged, out),
        Reply::Done(done) => write_done(done, out),
        Reply::Transcripts(t) => writeln!(out, "{} call(s) exported", t.transcripts.len()),
        Reply::AuditExport(a) => writeln!(out, "{} record(s) exported", a.records.len()),
        _ => Ok(()),
    }
}

fn write_tenant(tenant: &TenantReply, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "tenant:       {}", tenant.id)?;
    writeln!(out, "name:         {}", tenant.name)?;
    writeln!(out, "created:      {}", time_of(tenant.created_at_ms))?;
    writeln!(out, "retention:    {} days", tenant.retention_days)?;
    writeln!(
        out,
        "calls:        {} ({} segments)",
        tenant.calls, tenant.segments
    )?;
    writeln!(out, "outbox:       {} pending", tenant.outbox_pending)?;
    writeln!(out, "database:     {} bytes", tenant.database_bytes)
}

fn ended(at: Option<i64>) -> String {
    at.map_or_else(|| "-".to_owned(), time_of)
}

fn write_calls(reply: &CallsReply, out: &mut impl Write) -> std::io::Result<()> {
    if reply.calls.is_empty() {
        return writeln!(out, "tenant {} has no calls", reply.tenant);
    }
    let id = reply
        .calls
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let trunk = reply
        .calls
        .iter()
        .map(|c| c.trunk.len())
        .max()
        .unwrap_or(0)
        .max(5);
    writeln!(
        out,
        "{:id$}  {:trunk$}  {:20}  {:20}  SEGMENTS",
        "CALL", "TRUNK", "STARTED", "ENDED"
    )?;
    for call in &reply.calls {
        writeln!(
            out,
            "{:id$}  {:trunk$}  {:20}  {:20}  {:>8}",
            call.id,
            call.trunk,
            time_of(call.started_at_ms),
            ended(call.ended_at_ms),
            call.segments
        )?;
    }
    Ok(())
}

fn write_call(reply: &CallReply, out: &mut impl Write) -> std::io::Result<()> {
    let call = &reply.call;
    writeln!(
        out,
        "call {} of tenant {} (trunk {})",
        call.id, reply.tenant, call.trunk
    )?;
    writeln!(
        out,
        "started {}, ended {}",
        time_of(call.started_at_ms),
        ended(call.ended_at_ms)
    )?;
    let revealed = reply.segments.iter().any(|s| s.revealed);
    writeln!(
        out,
        "{}",
        if revealed {
            "text as the tenant's policy kept it (revealed)"
        } else {
            "text redacted (`--reveal` shows what the tenant's policy kept)"
        }
    )?;
    for segment in &reply.segments {
        let start = segment.start_ms as f64 / 1000.0;
        let end = segment.end_ms as f64 / 1000.0;
        writeln!(
            out,
            "[{start:8.2} - {end:8.2}] {}: {}",
            segment.track, segment.text
        )?;
    }
    Ok(())
}

fn write_retention(reply: &RetentionReply, out: &mut impl Write) -> std::io::Result<()> {
    let width = reply
        .retention
        .iter()
        .map(|r| r.tenant.len())
        .max()
        .unwrap_or(0)
        .max(6);
    writeln!(
        out,
        "{:width$}  RETENTION  CALLS  EXPIRED  OLDEST CALL",
        "TENANT"
    )?;
    for row in &reply.retention {
        writeln!(
            out,
            "{:width$}  {:>4} days  {:>5}  {:>7}  {}",
            row.tenant,
            row.retention_days,
            row.calls,
            row.expired,
            ended(row.oldest_started_ms)
        )?;
    }
    Ok(())
}

fn write_purged(reply: &PurgeReply, out: &mut impl Write) -> std::io::Result<()> {
    let calls: u64 = reply.purged.iter().map(|p| p.calls).sum();
    let segments: u64 = reply.purged.iter().map(|p| p.segments).sum();
    writeln!(
        out,
        "retention deleted {calls} call(s) and {segments} segment(s)"
    )?;
    for row in reply.purged.iter().filter(|p| p.calls > 0) {
        writeln!(
            out,
            "  {}: {} call(s), {} segment(s)",
            row.tenant, row.calls, row.segments
        )?;
    }
    Ok(())
}

fn write_done(reply: &DoneReply, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{}", reply.done)?;
    match &reply.next {
        Some(next) => writeln!(out, "next: {next}"),
        None => Ok(()),
    }
}
