//! What each admin command does, once its sysadmin is authorised.
//!
//! Every command is written to the audit chain as started before it runs, and is refused if
//! that record cannot be written; how it went is recorded after. Answers never hold a secret,
//! a phone number or transcript text.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use diala_vault::{Clock, Outcome, VaultError, Vaults};
use nix::unistd::User;

use super::enrolment::{EnrolmentError, TotpStore};
use super::peer::Admin;
use super::protocol::{
    AuditEntry, AuditListReply, AuditReply, Command, EnrolReply, ErrorKind, LoginReply, Reply,
    Response, StatusReply, TenantRow, TenantsReply,
};
use super::replies::AuditExportReply;
use super::totp::{StepUp, TotpError};
use crate::metrics::Metrics;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The vaults failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The TOTP secret could not be read or written.
    #[error(transparent)]
    Enrolment(#[from] EnrolmentError),
    /// The TOTP code was refused.
    #[error(transparent)]
    Totp(#[from] TotpError),
    /// A root-only command from someone else.
    #[error("only root may do this; run it with sudo")]
    RootOnly,
    /// The named user does not exist.
    #[error("there is no Unix user `{0}`; create it first")]
    NoSuchUser(String),
    /// A sensitive command without a fresh step-up.
    #[error(
        "this command needs a step-up no older than five minutes; run `diala-edge login` with \
         a code from your authenticator app, then repeat it"
    )]
    StepUpNeeded,
    /// The tenant's vault has no such call (or another tenant's, which is the same answer).
    #[error("tenant {tenant} has no call {call}")]
    NoSuchCall {
        /// The tenant asked.
        tenant: String,
        /// The call asked for.
        call: String,
    },
    /// The new master key is not one.
    #[error("the new master key is unusable: {0}")]
    BadMasterKey(#[from] diala_vault::MasterKeyError),
    /// A whole-tenant export would not fit one answer.
    #[error(
        "tenant {0} holds more than {max} calls, too many for one export; export them call by \
         call with --call (see `diala-edge call list`)",
        max = super::calls::EXPORT_MAX_CALLS
    )]
    ExportTooLarge(String),
    /// The new master key is the one in use.
    #[error("the new master key is the one in use; make a new one with `head -c 32 /dev/urandom`")]
    SameMasterKey,
}

impl CommandError {
    fn kind(&self) -> ErrorKind {
        match self {
            CommandError::Totp(_) | CommandError::Enrolment(EnrolmentError::NotEnrolled(_)) => {
                ErrorKind::StepUpRefused
            }
            CommandError::StepUpNeeded => ErrorKind::StepUpRefused,
            CommandError::RootOnly => ErrorKind::Refused,
            _ => ErrorKind::Failed,
        }
    }
}

/// Told how far a long command has got: steps done, steps in all.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// The daemon's state as admin commands see it.
pub struct AdminApi {
    pub(super) vaults: Arc<Vaults>,
    metrics: Metrics,
    pub(super) clock: Arc<dyn Clock>,
    started: Instant,
    metrics_addr: String,
    step_up: StepUp,
    pub(super) totp: TotpStore,
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi").finish_non_exhaustive()
    }
}

impl AdminApi {
    /// Commands over the open vaults in `state_dir`; `clock` is the one the vaults were opened
    /// with.
    pub fn new(
        vaults: Arc<Vaults>,
        metrics: Metrics,
        clock: Arc<dyn Clock>,
        metrics_addr: String,
        state_dir: &Path,
    ) -> Self {
        AdminApi {
            metrics,
            step_up: StepUp::new(clock.clone()),
            clock,
            started: Instant::now(),
            metrics_addr,
            totp: TotpStore::new(state_dir, vaults.admin_totp_key()),
            vaults,
        }
    }

    /// Audits and runs `command` for `admin`, telling `progress` how a long one goes.
    pub fn handle_with(
        &self,
        admin: &Admin,
        command: &Command,
        progress: Progress<'_>,
    ) -> Response {
        let actor = admin.actor();
        let (action, target) = (command.audit_action(), command.audit_target());
        let target = target.as_str();
        let audit = self.vaults.audit();
        let now = self.clock.now_ms();
        if let Err(error) = audit.append(now, &actor, action, target, Outcome::Started) {
            tracing::error!(
                %error,
                action,
                "admin command refused: the audit log cannot be written"
            );
            let message = format!("the audit log cannot be written, so nothing was done: {error}");
            return Response::error(ErrorKind::AuditUnavailable, message);
        }
        tracing::info!(uid = admin.uid, action, "admin command");

        let result = self
            .check_step_up(admin, command)
            .and_then(|()| self.run(admin, command, progress));
        let outcome = if result.is_ok() {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        };
        let recorded = audit.append(self.clock.now_ms(), &actor, action, target, outcome);
        if let Err(error) = recorded {
            tracing::error!(%error, action, "the outcome of an admin command was not audited");
        }
        match result {
            Ok(reply) => Response::ok(reply),
            Err(error) => Response::error(error.kind(), error.to_string()),
        }
    }

    /// Refuses a sensitive command to a sysadmin without a fresh step-up; the refusal is
    /// audited like any outcome.
    fn check_step_up(&self, admin: &Admin, command: &Command) -> Result<(), CommandError> {
        if command.needs_step_up() && self.step_up.active_until(admin.uid).is_none() {
            return Err(CommandError::StepUpNeeded);
        }
        Ok(())
    }

    fn run(
        &self,
        admin: &Admin,
        command: &Command,
        progress: Progress<'_>,
    ) -> Result<Reply, CommandError> {
        let actor = admin.actor();
        Ok(match command {
            Command::Status => Reply::Status(self.status(admin)?),
            Command::TenantList => Reply::Tenants(self.tenants()?),
            Command::AuditVerify => Reply::Audit(self.audit_verify()?),
            Command::AuditList { limit } => Reply::AuditList(self.audit_list(*limit)?),
            Command::Login { code } => {
                let key = self.totp.key(admin.uid)?;
                let until = self.step_up.login(admin.uid, &key, &code.0)?;
                Reply::Login(LoginReply {
                    step_up_until_ms: until,
                })
            }
            Command::TotpEnroll { user } => Reply::Enrolled(self.enrol(admin, user)?),
            Command::TenantAdd {
                tenant,
                name,
                retention_days,
            } => Reply::Tenant(self.tenant_add(&actor, tenant, name, *retention_days)?),
            Command::TenantShow { tenant } => Reply::Tenant(self.tenant_show(tenant)?),
            Command::TenantSet {
                tenant,
                retention_days,
            } => Reply::Tenant(self.tenant_set(tenant, *retention_days)?),
            Command::TenantDelete { tenant } => Reply::Done(self.tenant_delete(&actor, tenant)?),
            Command::CallList { tenant, limit } => Reply::Calls(self.call_list(tenant, *limit)?),
            Command::CallShow {
                tenant,
                call,
                reveal,
            } => Reply::Call(self.call_show(tenant, call, *reveal)?),
            Command::TranscriptExport {
                tenant,
                call,
                reveal,
            } => Reply::Transcripts(self.export(tenant, call.as_deref(), *reveal, progress)?),
            Command::RetentionStatus => Reply::Retention(self.retention_status()?),
            Command::RetentionRun => Reply::Purged(self.retention_run(progress)?),
            Command::AuditExport => Reply::AuditExport(self.audit_export()?),
            Command::KeysRotateMaster { new_key } => {
                Reply::Done(self.rotate_master(admin, new_key, progress)?)
            }
            Command::KeysRotateTenant { tenant } => {
                Reply::Done(self.rotate_tenants(&actor, tenant.as_deref(), progress)?)
            }
        })
    }

    fn enrol(&self, admin: &Admin, user: &str) -> Result<EnrolReply, CommandError> {
        if admin.uid != 0 {
            return Err(CommandError::RootOnly);
        }
        let found = User::from_name(user).ok().flatten();
        let uid = found
            .ok_or_else(|| CommandError::NoSuchUser(user.to_owned()))?
            .uid
            .as_raw();
        let enrolment = self.totp.enrol(uid, user)?;
        Ok(EnrolReply {
            user: user.to_owned(),
            uid,
            secret: enrolment.secret_base32,
            uri: enrolment.uri,
        })
    }

    fn status(&self, admin: &Admin) -> Result<StatusReply, VaultError> {
        let refusing = self.vaults.storage().refusing();
        Ok(StatusReply {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            uptime_secs: self.started.elapsed().as_secs(),
            appliance_id: self.vaults.appliance_id(),
            tenants: self.vaults.tenants()?.len() as u64,
            tenants_configured: u64::try_from(self.metrics.tenants_configured.get()).unwrap_or(0),
            accepting_calls: refusing.is_none(),
            refusing_reason: refusing,
            metrics: format!("http://{}/metrics", self.metrics_addr),
            step_up_until_ms: self.step_up.active_until(admin.uid),
        })
    }

    fn tenants(&self) -> Result<TenantsReply, VaultError> {
        let mut tenants = Vec::new();
        for entry in self.vaults.tenants()? {
            let retention = self.vaults.open_tenant(&entry.id)?.retention()?;
            tenants.push(TenantRow {
                id: entry.id,
                name: entry.name,
                created_at_ms: entry.created_at_ms,
                retention_days: retention.days(),
            });
        }
        tenants.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(TenantsReply { tenants })
    }

    fn audit_list(&self, limit: u32) -> Result<AuditListReply, VaultError> {
        // Limitation: the whole kept chain (13 months) is read to return its tail.
        let records = self.vaults.audit().records()?;
        let skip = records.len().saturating_sub(limit as usize);
        let entries = records.into_iter().skip(skip).map(entry).collect();
        Ok(AuditListReply { entries })
    }

    fn audit_export(&self) -> Result<AuditExportReply, VaultError> {
        let records = self.vaults.audit().records()?;
        Ok(AuditExportReply {
            records: records.into_iter().map(entry).collect(),
        })
    }

    fn audit_verify(&self) -> Result<AuditReply, VaultError> {
        let report = self.vaults.audit().verify()?;
        Ok(AuditReply {
            records: report.records,
            intact: report.first_broken.is_none(),
            first_broken: report.first_broken,
        })
    }
}

/// An audit record as the protocol carries it.
fn entry(r: diala_vault::AuditRecord) -> AuditEntry {
    AuditEntry {
        seq: r.seq,
        at_ms: r.at_ms,
        actor: r.actor,
        action: r.action,
        target: r.target,
        outcome: r.outcome,
    }
}
