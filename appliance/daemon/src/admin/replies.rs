//! The answers of the tenant, call, transcript, retention and key commands on the admin socket.
//! Like every message of the protocol, their field names are what scripts rely on (`--json`)
//! and change only with a new protocol version.
//!
//! Segment text is here only as the command asked for it: redacted, or, after a step-up, the
//! text the tenant's policy kept. These types never reach a log.

use serde::{Deserialize, Serialize};

use super::protocol::AuditEntry;

/// `tenant add`, `tenant show`, `tenant set`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantReply {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Days its transcripts are kept.
    pub retention_days: u16,
    /// Calls stored.
    pub calls: u64,
    /// Segments stored.
    pub segments: u64,
    /// Outbox records waiting for the control plane.
    pub outbox_pending: u64,
    /// The size of its database files, in bytes.
    pub database_bytes: u64,
}

/// One call in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRow {
    /// The call's id.
    pub id: String,
    /// The trunk it came in on.
    pub trunk: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// When it ended, once it has.
    pub ended_at_ms: Option<i64>,
    /// Segments stored for it.
    pub segments: u64,
}

/// `call list`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsReply {
    /// The tenant.
    pub tenant: String,
    /// Its latest calls, newest first.
    pub calls: Vec<CallRow>,
}

/// One segment of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentRow {
    /// The track it was heard on.
    pub track: String,
    /// Start, in milliseconds from the start of the call.
    pub start_ms: i64,
    /// End, in milliseconds from the start of the call.
    pub end_ms: i64,
    /// The text: redacted, or the kept text when revealed.
    pub text: String,
    /// Whether `text` is the kept text rather than the redacted one.
    pub revealed: bool,
    /// The recogniser's confidence, 0 to 1.
    pub confidence: f64,
}

/// `call show`, and one call of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallReply {
    /// The tenant.
    pub tenant: String,
    /// The call.
    pub call: CallRow,
    /// Its segments in time order.
    pub segments: Vec<SegmentRow>,
}

/// `transcript export`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptsReply {
    /// The calls, oldest first, each with its segments.
    pub transcripts: Vec<CallReply>,
}

/// One tenant's retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRow {
    /// The tenant.
    pub tenant: String,
    /// Days its transcripts are kept.
    pub retention_days: u16,
    /// Calls stored.
    pub calls: u64,
    /// When the oldest stored call started.
    pub oldest_started_ms: Option<i64>,
    /// Calls a purge now would delete.
    pub expired: u64,
}

/// `retention status`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionReply {
    /// Every tenant's retention.
    pub retention: Vec<RetentionRow>,
}

/// What one tenant lost in a purge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeRow {
    /// The tenant.
    pub tenant: String,
    /// Calls deleted.
    pub calls: u64,
    /// Segments deleted with them.
    pub segments: u64,
}

/// `retention run`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeReply {
    /// What each tenant lost.
    pub purged: Vec<PurgeRow>,
}

/// `audit export`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditExportReply {
    /// Every kept record, oldest first.
    pub records: Vec<AuditEntry>,
}

/// A command that changed something and has nothing more to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneReply {
    /// What was done, in a sentence for the sysadmin.
    pub done: String,
    /// What the sysadmin must still do, if anything.
    pub next: Option<String>,
}
