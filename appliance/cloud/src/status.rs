//! What the sync client reports about itself: for `diala-edge sync status`, the metrics and
//! the health message. Counts and times only, never record content.

use serde::{Deserialize, Serialize};

/// The connection's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionState {
    /// Not started yet.
    #[default]
    Idle,
    /// Dialling.
    Connecting,
    /// Connected and sending.
    Connected,
    /// The last attempt failed; waiting to try again.
    Offline,
    /// Stopped for good until the sysadmin acts (certificate revoked or expired, refused).
    Stopped,
}

/// The sync client's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The connection's state.
    pub state: ConnectionState,
    /// When the client certificate expires, in milliseconds since the Unix epoch.
    pub certificate_expires_ms: Option<i64>,
    /// Records the control plane applied for the first time.
    pub delivered: u64,
    /// Records the control plane had already applied (sent again after a lost ack).
    pub duplicates: u64,
    /// Records waiting in the outboxes, at the last look.
    pub outbox_pending: u64,
    /// When the oldest of them was queued.
    pub outbox_oldest_ms: Option<i64>,
    /// Failed connections since start.
    pub reconnects: u64,
    /// Alerts raised (sync stopped).
    pub alerts: u64,
    /// Messages of unknown types skipped.
    pub unknown_messages: u64,
    /// Why the last connection failed or sync stopped.
    pub last_error: Option<String>,
}
