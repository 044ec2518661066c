//! The admin socket's messages: one JSON object per line each way, every one carrying the
//! protocol version `v`, so an older CLI talking to a newer daemon gets a clear answer instead
//! of a misread one. Field names are part of the interface scripts rely on (`--json`); they
//! change only with a new version.

use serde::{Deserialize, Serialize};

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;
/// The longest request line accepted; a request is a few hundred bytes.
pub const MAX_LINE: u64 = 64 * 1024;

/// Only the version, read first so a message of another version is refused by its version
/// and not as a malformed command.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    /// The protocol version of the message.
    pub v: u32,
}

/// A request from the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The protocol version.
    pub v: u32,
    /// What to do.
    #[serde(flatten)]
    pub command: Command,
}

/// The commands the daemon serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// Version, uptime, tenants, storage.
    Status,
    /// The tenants on the appliance.
    TenantList,
    /// Walk the audit chain.
    AuditVerify,
    /// The latest audit records.
    AuditList {
        /// At most this many, newest last.
        limit: u32,
    },
    /// Step up with a TOTP code.
    Login {
        /// The code from the authenticator app.
        code: OneTimeCode,
    },
    /// Create a TOTP secret for a user (root only).
    TotpEnroll {
        /// The Unix user name.
        user: String,
    },
    /// Create a tenant with its own data key and database.
    TenantAdd {
        /// Its id.
        tenant: String,
        /// Its display name.
        name: String,
        /// Days its transcripts are kept; 90 when absent.
        retention_days: Option<u32>,
    },
    /// One tenant's settings and what it holds.
    TenantShow {
        /// Its id.
        tenant: String,
    },
    /// Change a tenant's settings (step-up).
    TenantSet {
        /// Its id.
        tenant: String,
        /// Days its transcripts are kept.
        retention_days: u32,
    },
    /// Delete a tenant by shredding its data key (step-up).
    TenantDelete {
        /// Its id.
        tenant: String,
    },
    /// A tenant's latest calls.
    CallList {
        /// The tenant.
        tenant: String,
        /// At most this many, newest first.
        limit: u32,
    },
    /// One call with its segments; the kept text only with `reveal` (step-up).
    CallShow {
        /// The tenant.
        tenant: String,
        /// The call.
        call: String,
        /// Show the text the tenant's policy kept instead of the redacted text.
        reveal: bool,
    },
    /// Every segment of a tenant's calls, or of one call, for export (step-up).
    TranscriptExport {
        /// The tenant.
        tenant: String,
        /// Only this call.
        call: Option<String>,
        /// Export the text the tenant's policy kept instead of the redacted text.
        reveal: bool,
    },
    /// Each tenant's retention and what a purge would delete now.
    RetentionStatus,
    /// Run retention over every tenant now (step-up).
    RetentionRun,
    /// The whole kept audit chain (step-up).
    AuditExport,
    /// Re-wrap every key under a new master key (root and step-up).
    KeysRotateMaster {
        /// The new master key.
        new_key: NewMasterKey,
    },
    /// Rekey one tenant's database, or every tenant's (step-up).
    KeysRotateTenant {
        /// The tenant; every tenant when absent.
        tenant: Option<String>,
    },
}

/// A new master key in hexadecimal, kept out of debug output and logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NewMasterKey(pub String);

impl std::fmt::Debug for NewMasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewMasterKey([redacted])")
    }
}

impl Drop for NewMasterKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// A TOTP code, kept out of debug output and logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OneTimeCode(pub String);

impl std::fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeCode(..)")
    }
}

impl Command {
    /// The action's name in the audit chain.
    pub fn audit_action(&self) -> &'static str {
        match self {
            Command::Status => "admin.status",
            Command::TenantList => "admin.tenant-list",
            Command::AuditVerify => "admin.audit-verify",
            Command::AuditList { .. } => "admin.audit-list",
            Command::Login { .. } => "admin.login",
            Command::TotpEnroll { .. } => "admin.totp-enroll",
            Command::TenantAdd { .. } => "admin.tenant-add",
            Command::TenantShow { .. } => "admin.tenant-show",
            Command::TenantSet { .. } => "admin.tenant-set",
            Command::TenantDelete { .. } => "admin.tenant-delete",
            Command::CallList { .. } => "admin.call-list",
            Command::CallShow { reveal: false, .. } => "admin.call-show",
            Command::CallShow { reveal: true, .. } => "admin.call-reveal",
            Command::TranscriptExport { reveal: false, .. } => "admin.transcript-export",
            Command::TranscriptExport { reveal: true, .. } => "admin.transcript-export-reveal",
            Command::RetentionStatus => "admin.retention-status",
            Command::RetentionRun => "admin.retention-run",
            Command::AuditExport => "admin.audit-export",
            Command::KeysRotateMaster { .. } => "admin.keys-rotate-master",
            Command::KeysRotateTenant { .. } => "admin.keys-rotate-tenant",
        }
    }

    /// The action's target in the audit chain.
    pub fn audit_target(&self) -> String {
        match self {
            Command::TotpEnroll { user } => user.clone(),
            Command::TenantAdd { tenant, .. }
            | Command::TenantShow { tenant }
            | Command::TenantSet { tenant, .. }
            | Command::TenantDelete { tenant }
            | Command::CallList { tenant, .. }
            | Command::TranscriptExport {
                tenant, call: None, ..
            }
            | Command::KeysRotateTenant {
                tenant: Some(tenant),
            } => tenant.clone(),
            Command::CallShow { tenant, call, .. }
            | Command::TranscriptExport {
                tenant,
                call: Some(call),
                ..
            } => format!("{tenant}/{call}"),
            _ => "appliance".to_owned(),
        }
    }

    /// Whether the command needs a step-up no older than five minutes: revealing kept text,
    /// exports, tenant deletion, key rotation, retention and policy changes.
    pub fn needs_step_up(&self) -> bool {
        matches!(
            self,
            Command::TenantSet { .. }
                | Command::TenantDelete { .. }
                | Command::CallShow { reveal: true, .. }
                | Command::TranscriptExport { .. }
                | Command::RetentionRun
                | Command::AuditExport
                | Command::KeysRotateMaster { .. }
                | Command::KeysRotateTenant { .. }
        )
    }
}

/// The daemon's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The protocol version.
    pub v: u32,
    /// The answer.
    #[serde(flatten)]
    pub body: Body,
}

/// Success with its data, or an error with its kind; a long command sends progress lines
/// before either.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Body {
    /// Work done so far, for a progress bar; the answer follows.
    Progress {
        /// Steps done.
        done: u64,
        /// Steps in all.
        total: u64,
    },
    /// The command ran.
    Ok {
        /// What it returned.
        data: Reply,
    },
    /// The command did not run, or failed.
    Error {
        /// What kind of failure, for the exit status.
        kind: ErrorKind,
        /// What the sysadmin should do.
        message: String,
    },
}

/// Kinds of failure, each with its own exit status in the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The peer is neither root nor a member of `diala-admin`.
    Refused,
    /// The message is not a request of this version.
    BadRequest,
    /// A TOTP code was wrong or used before, or a command needs a step-up.
    StepUpRefused,
    /// The message is of another protocol version.
    UnsupportedVersion,
    /// The audit record could not be written, so the command was not run.
    AuditUnavailable,
    /// The command ran and failed.
    Failed,
}

/// What a successful command returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Reply {
    /// `status`
    Status(StatusReply),
    /// `tenant list`
    Tenants(TenantsReply),
    /// `audit verify`
    Audit(AuditReply),
    /// `audit list`
    AuditList(AuditListReply),
    /// `login`
    Login(LoginReply),
    /// `admin totp enroll`
    Enrolled(EnrolReply),
    /// `tenant add`, `tenant show`, `tenant set`
    Tenant(super::replies::TenantReply),
    /// `call list`
    Calls(super::replies::CallsReply),
    /// `call show`
    Call(super::replies::CallReply),
    /// `transcript export`
    Transcripts(super::replies::TranscriptsReply),
    /// `retention status`
    Retention(super::replies::RetentionReply),
    /// `retention run`
    Purged(super::replies::PurgeReply),
    /// `audit export`
    AuditExport(super::replies::AuditExportReply),
    /// `tenant delete`, `keys rotate-master`, `keys rotate-tenant`
    Done(super::replies::DoneReply),
}

/// `audit list`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditListReply {
    /// The records, oldest first.
    pub entries: Vec<AuditEntry>,
}

/// One audit record on the wire. It mirrors the vault's record on purpose: the vault's type may
/// change with its schema, this one only with the protocol version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
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
    /// How it went: started, succeeded or failed.
    pub outcome: String,
}

/// `login`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginReply {
    /// When the step-up ends, in milliseconds since the Unix epoch.
    pub step_up_until_ms: i64,
}

/// `admin totp enroll`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolReply {
    /// The Unix user enrolled.
    pub user: String,
    /// Their user id.
    pub uid: u32,
    /// The secret in base32, for typing into an app; shown once.
    pub secret: String,
    /// The `otpauth://` URI with the secret, shown once.
    pub uri: String,
}

/// `status`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReply {
    /// The daemon's version.
    pub version: String,
    /// The daemon's process id.
    pub pid: u32,
    /// Seconds since the daemon started.
    pub uptime_secs: u64,
    /// The appliance's identity.
    pub appliance_id: String,
    /// Tenants with a vault on the appliance.
    pub tenants: u64,
    /// Tenants in the configuration.
    pub tenants_configured: u64,
    /// Whether new calls are accepted.
    pub accepting_calls: bool,
    /// Why new calls are refused, when they are.
    pub refusing_reason: Option<String>,
    /// The metrics endpoint.
    pub metrics: String,
    /// Until when the asking user's step-up lasts, if they hold one.
    pub step_up_until_ms: Option<i64>,
}

/// `tenant list`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantsReply {
    /// Every tenant, by id.
    pub tenants: Vec<TenantRow>,
}

/// One tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantRow {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Days its transcripts are kept.
    pub retention_days: u16,
}

/// `audit verify`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditReply {
    /// Records checked.
    pub records: u64,
    /// Whether every link holds.
    pub intact: bool,
    /// The first record whose link does not hold.
    pub first_broken: Option<i64>,
}

impl Response {
    /// A successful answer.
    pub fn ok(data: Reply) -> Self {
        Response {
            v: VERSION,
            body: Body::Ok { data },
        }
    }

    /// A progress line of a long command.
    pub fn progress(done: u64, total: u64) -> Self {
        Response {
            v: VERSION,
            body: Body::Progress { done, total },
        }
    }

    /// A failure answer.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Self {
        Response {
            v: VERSION,
            body: Body::Error {
                kind,
                message: message.into(),
            },
        }
    }
}

/// Reads one request line: its version first, then the command.
pub fn parse_request(line: &[u8]) -> Result<Request, (ErrorKind, String)> {
    let bad = |e: serde_json::Error| (ErrorKind::BadRequest, format!("not a request: {e}"));
    let envelope: Envelope = serde_json::from_slice(line).map_err(bad)?;
    if envelope.v != VERSION {
        return Err((
            ErrorKind::UnsupportedVersion,
            format!(
                "this daemon speaks admin protocol {VERSION}, the request is version {}; \
                 use the diala-edge command of the installed package",
                envelope.v
            ),
        ));
    }
    serde_json::from_slice(line).map_err(bad)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn requests_are_stable_json_lines() {
        let request = Request {
            v: VERSION,
            command: Command::TenantList,
        };
        let line = serde_json::to_string(&request).unwrap();
        assert_eq!(line, r#"{"v":1,"command":"tenant-list"}"#);
        assert_eq!(parse_request(line.as_bytes()).unwrap(), request);
        let login = r#"{"v":1,"command":"login","code":"123456"}"#;
        let parsed = parse_request(login.as_bytes()).unwrap();
        assert!(!format!("{parsed:?}").contains("123456"));
    }

    #[test]
    fn sensitive_commands_need_a_step_up_and_keys_stay_out_of_debug() {
        let reveal = r#"{"v":1,"command":"call-show","tenant":"acme","call":"c1","reveal":true}"#;
        let parsed = parse_request(reveal.as_bytes()).unwrap().command;
        assert!(parsed.needs_step_up());
        assert_eq!(parsed.audit_action(), "admin.call-reveal");
        assert_eq!(parsed.audit_target(), "acme/c1");
        let show = r#"{"v":1,"command":"call-show","tenant":"acme","call":"c1","reveal":false}"#;
        assert!(
            !parse_request(show.as_bytes())
                .unwrap()
                .command
                .needs_step_up()
        );
        for line in [
            r#"{"v":1,"command":"tenant-delete","tenant":"acme"}"#,
            r#"{"v":1,"command":"tenant-set","tenant":"acme","retention_days":7}"#,
            r#"{"v":1,"command":"transcript-export","tenant":"acme","call":null,"reveal":false}"#,
            r#"{"v":1,"command":"retention-run"}"#,
            r#"{"v":1,"command":"audit-export"}"#,
            r#"{"v":1,"command":"keys-rotate-tenant","tenant":null}"#,
        ] {
            assert!(
                parse_request(line.as_bytes())
                    .unwrap()
                    .command
                    .needs_step_up(),
                "{line}"
            );
        }
        let key = "ab".repeat(32);
        let rotate = format!(r#"{{"v":1,"command":"keys-rotate-master","new_key":"{key}"}}"#);
        let parsed = parse_request(rotate.as_bytes()).unwrap();
        assert!(parsed.command.needs_step_up());
        assert!(!format!("{parsed:?}").contains(&key));
        let progress = serde_json::to_string(&Response::progress(2, 5)).unwrap();
        assert_eq!(
            progress,
            r#"{"v":1,"result":"progress","done":2,"total":5}"#
        );
    }

    #[test]
    fn responses_round_trip() {
        let response = Response::ok(Reply::Audit(AuditReply {
            records: 3,
            intact: true,
            first_broken: None,
        }));
        let line = serde_json::to_string(&response).unwrap();
        assert_eq!(
            line,
            r#"{"v":1,"result":"ok","data":{"records":3,"intact":true,"first_broken":null}}"#
        );
        let back: Response = serde_json::from_str(&line).unwrap();
        assert_eq!(back, response);
        let error = Response::error(ErrorKind::Refused, "no");
        let line = serde_json::to_string(&error).unwrap();
        assert_eq!(
            line,
            r#"{"v":1,"result":"error","kind":"refused","message":"no"}"#
        );
    }

    #[test]
    fn other_versions_and_garbage_are_refused_by_kind() {
        let kind = |line: &str| parse_request(line.as_bytes()).unwrap_err().0;
        assert_eq!(
            kind(r#"{"v":2,"command":"status"}"#),
            ErrorKind::UnsupportedVersion
        );
        assert_eq!(kind(r#"{"command":"status"}"#), ErrorKind::BadRequest);
        assert_eq!(
            kind(r#"{"v":1,"command":"format-disk"}"#),
            ErrorKind::BadRequest
        );
        assert_eq!(kind("status"), ErrorKind::BadRequest);
    }
}
