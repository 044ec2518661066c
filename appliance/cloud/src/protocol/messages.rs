//! The messages of the sync protocol, version 1, as serde types.
//!
//! Every message is a JSON object whose `type` names it. A receiver ignores fields it does not
//! know and skips (and counts) message types it does not know; see `docs/sync-protocol.md`.
//! Text that came from a call reaches these types only as a `Redacted<String>`: the
//! constructors below take nothing else.

use diala_redact::Redacted;
use diala_vault::OutboundSegment;
use serde::{Deserialize, Serialize};

/// The protocol version this code speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The `type` names of the messages each side sends, to tell a malformed message of a known
/// type (an error) from a message of a type this side does not know (skipped).
pub trait MessageTypes {
    /// Every `type` this enum reads.
    const TYPES: &'static [&'static str];
}

impl MessageTypes for ApplianceMessage {
    const TYPES: &'static [&'static str] = &["hello", "batch", "health", "command-result"];
}

impl MessageTypes for ControlMessage {
    const TYPES: &'static [&'static str] = &["welcome", "ack", "settings", "command", "error"];
}

/// What the appliance sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ApplianceMessage {
    /// The first message on a connection.
    Hello(Hello),
    /// Outbox records, to be stored and acknowledged as one.
    Batch(Batch),
    /// The appliance's state, sent on connect and then now and then; never acknowledged.
    Health(Health),
    /// How a settings push or a command went.
    CommandResult(CommandResult),
}

/// What the control plane sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ControlMessage {
    /// The answer to a good hello.
    Welcome(Welcome),
    /// A batch is stored durably.
    Ack(Ack),
    /// New settings for one tenant.
    Settings(TenantSettings),
    /// An action to take.
    Command(Command),
    /// Something went wrong; when `fatal`, the connection closes after it.
    Error(ProtocolError),
}

/// A message of a type this side does not know: skipped and counted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnknownMessage {
    /// The `type` it named.
    #[serde(rename = "type")]
    pub kind: String,
}

/// The first message on a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The appliance id; must be the one the client certificate was issued to.
    pub appliance_id: String,
    /// The daemon's version, for the control plane's inventory.
    pub software: String,
}

/// The control plane's answer to a good hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// [`PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The most records one batch may hold.
    pub max_batch: u32,
    /// The most batches that may wait for their acknowledgement at once.
    pub window: u32,
}

/// Outbox records sent as one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Increasing within a connection; named by its [`Ack`].
    pub batch: u64,
    /// The records, each call's in the order they were queued.
    pub records: Vec<Record>,
}

/// One outbox record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The tenant it belongs to.
    pub tenant: String,
    /// Unique within the appliance and tenant: the control plane applies each key once.
    pub key: String,
    /// What it says.
    pub body: RecordBody,
}

/// What a record says. Only metadata and redacted text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RecordBody {
    /// A redacted transcript segment.
    Segment(SegmentBody),
    /// The facts of a finished call.
    CallSummary(CallSummaryBody),
    /// A call was deleted on the box (retention or purge): delete the copy.
    Deletion {
        /// The call deleted.
        call_id: String,
    },
    /// The tenant was deleted on the box: delete everything of it.
    TenantDeletion,
    /// A record of the appliance's audit chain.
    Audit(AuditBody),
    /// An alert raised on the box.
    Alert(AlertBody),
}

/// A redacted transcript segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentBody {
    /// The call.
    pub call_id: String,
    /// The track (`caller`, `callee`, `agent`).
    pub track: String,
    /// Start, in milliseconds from the start of the call.
    pub start_ms: i64,
    /// End, in milliseconds from the start of the call.
    pub end_ms: i64,
    /// The text with every detected entity replaced by its token.
    pub text: String,
    /// The recogniser's confidence, 0 to 1.
    pub confidence: f64,
}

impl SegmentBody {
    /// The body of a stored segment; its text must have been through the redactor.
    pub fn new(segment: &OutboundSegment, text: Redacted<String>) -> Self {
        SegmentBody {
            call_id: segment.call_id.clone(),
            track: segment.track.clone(),
            start_ms: segment.start_ms,
            end_ms: segment.end_ms,
            text: text.into_inner(),
            confidence: segment.confidence,
        }
    }
}

/// The facts of a finished call: no text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummaryBody {
    /// The call.
    pub call_id: String,
    /// The trunk it came in on.
    pub trunk: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// When it ended.
    pub ended_at_ms: Option<i64>,
    /// How many segments it has.
    pub segments: u64,
}

/// A record of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditBody {
    /// Its place in the chain.
    pub seq: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// `started`, `succeeded` or `failed`.
    pub outcome: String,
}

/// An alert raised on the box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertBody {
    /// A stable name (`outbox-near-cap`, `certificate-expiring`, ...).
    pub name: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// A sentence for the operator, scrubbed like a log line.
    pub detail: String,
}

/// The appliance's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Records waiting in every tenant's outbox together.
    pub outbox_pending: u64,
    /// When the oldest of them was queued.
    pub outbox_oldest_ms: Option<i64>,
    /// Whether the box accepts new calls (storage and outbox below their limits).
    pub accepting_calls: bool,
    /// When the client certificate expires.
    pub certificate_expires_ms: i64,
}

/// A batch is stored durably at the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The batch.
    pub batch: u64,
    /// Records applied for the first time.
    pub applied: u32,
    /// Records whose key had been applied before and were dropped.
    pub duplicates: u32,
}

/// New settings for one tenant. A field left out keeps its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// Unique per push, echoed by the [`CommandResult`].
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// Retention in days, 1 to 365.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// Entity kinds the tenant keeps in clear locally (`phone`, `email`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_in_clear: Option<Vec<String>>,
    /// The JWKS of the tenant API, as a JSON document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Numbers (DIDs) routed to this tenant, by trunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Vec<Route>>,
}

/// A number routed to a tenant on a trunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The trunk.
    pub trunk: String,
    /// The dialled number, E.164.
    pub number: String,
}

/// An action the control plane asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Unique per command, echoed by the [`CommandResult`].
    pub id: String,
    /// The tenant it acts on.
    pub tenant: String,
    /// What to do.
    pub action: Action,
}

/// What a command does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Delete one call of the tenant.
    PurgeCall {
        /// The call.
        call_id: String,
    },
    /// Delete the tenant and every copy of its data (crypto-shredding).
    PurgeTenant,
    /// Rotate the tenant's data key.
    RotateTenantKey,
}

/// How a settings push or command went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    /// The push's or command's id.
    pub id: String,
    /// Whether it was applied.
    pub applied: bool,
    /// Why not, for the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An error a peer reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolError {
    /// A stable code (see the protocol document).
    pub code: String,
    /// A sentence for the operator.
    pub message: String,
    /// Whether the connection closes after it.
    pub fatal: bool,
}

/// The one message an appliance sends on an enrollment connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EnrollMessage {
    /// A certificate request with the one-time token that names who may enroll.
    EnrollRequest(EnrollRequest),
}

/// A certificate request with the one-time token that names who may enroll.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time enrollment token, given to the sysadmin by the control plane.
    pub token: String,
    /// The appliance id the certificate is to name.
    pub appliance_id: String,
    /// The PKCS#10 request, PEM; its key pair was made on the box and stays there.
    pub csr_pem: String,
}

impl std::fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollRequest")
            .field("token", &"[redacted]")
            .field("appliance_id", &self.appliance_id)
            .finish_non_exhaustive()
    }
}

/// The control plane's answer to an enrollment request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EnrollAnswer {
    /// The issued certificate, PEM.
    Enrolled {
        /// The certificate.
        certificate_pem: String,
    },
    /// Refused, and why.
    Error(ProtocolError),
}

impl MessageTypes for EnrollMessage {
    const TYPES: &'static [&'static str] = &["enroll-request"];
}

impl MessageTypes for EnrollAnswer {
    const TYPES: &'static [&'static str] = &["enrolled", "error"];
}
