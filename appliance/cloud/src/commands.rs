//! What the appliance does with settings and commands from the control plane.
//!
//! Each is validated before anything changes, written to the audit chain (actor
//! `control-plane`) as `started` before it takes effect and refused if that fails, then as
//! `succeeded` or `failed`. A tenant the box does not have gets the same refusal whether or not
//! another appliance has it. Nothing here trusts the control plane with more than its messages
//! name: a command acts on one tenant's handle, opened for that tenant.

use std::sync::Arc;

use diala_vault::{Outcome, RetentionDays, VaultError, Vaults};

use crate::protocol::{Action, Command, CommandResult, TenantSettings};

/// The actor the audit chain names for the control plane.
pub const ACTOR: &str = "control-plane";

/// Where settings and commands are applied. The daemon may wrap it to reload what it caches.
pub trait CommandHooks: Send + Sync {
    /// Validates and applies a settings push; `Err` is the reason reported back.
    fn apply_settings(&self, settings: &TenantSettings) -> Result<(), String>;
    /// Runs a command; `Err` is the reason reported back.
    fn run(&self, command: &Command) -> Result<(), String>;
}

/// Builds the result sent back for a push or command.
pub fn result_of(id: &str, outcome: Result<(), String>) -> CommandResult {
    CommandResult {
        id: id.to_owned(),
        applied: outcome.is_ok(),
        reason: outcome.err(),
    }
}

/// Applies settings and commands to the vaults.
#[derive(Debug, Clone)]
pub struct VaultCommands {
    vaults: Arc<Vaults>,
    now_ms: fn() -> i64,
}

fn wall_clock_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

impl VaultCommands {
    /// Commands applied to `vaults`.
    pub fn new(vaults: Arc<Vaults>) -> Self {
        VaultCommands {
            vaults,
            now_ms: wall_clock_ms,
        }
    }

    fn known_tenant(&self, tenant: &str) -> Result<(), String> {
        let known = self
            .vaults
            .tenants()
            .map_err(|e| e.to_string())?
            .iter()
            .any(|t| t.id == tenant);
        if known {
            Ok(())
        } else {
            Err("no such tenant on this appliance".to_owned())
        }
    }

    /// Writes `started`, runs `action`, writes how it went.
    fn audited(
        &self,
        action: &str,
        tenant: &str,
        run: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), String> {
        let audit = self.vaults.audit();
        audit
            .append((self.now_ms)(), ACTOR, action, tenant, Outcome::Started)
            .map_err(|e| format!("not applied: the audit log is unavailable: {e}"))?;
        let result = run();
        let outcome = if result.is_ok() {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        };
        audit
            .append((self.now_ms)(), ACTOR, action, tenant, outcome)
            .map_err(|e| format!("applied, but the audit log is unavailable: {e}"))?;
        result
    }
}

/// Checks a push before anything is applied: every field must be one this box applies.
fn validate(settings: &TenantSettings) -> Result<Option<RetentionDays>, String> {
    // Limitation: the redaction policy, the tenant API's JWKS and number routing are set in
    // appliance.toml; a push that names them is refused whole rather than half applied.
    let unsupported = [
        ("keep_in_clear", settings.keep_in_clear.is_some()),
        ("jwks", settings.jwks.is_some()),
        ("routing", settings.routing.is_some()),
    ];
    if let Some((field, _)) = unsupported.iter().find(|(_, set)| *set) {
        return Err(format!(
            "`{field}` is not applied over sync on this appliance; set it in appliance.toml"
        ));
    }
    settings
        .retention_days
        .map(RetentionDays::new)
        .transpose()
        .map_err(|e| e.to_string())
}

impl CommandHooks for VaultCommands {
    fn apply_settings(&self, settings: &TenantSettings) -> Result<(), String> {
        self.known_tenant(&settings.tenant)?;
        let retention = validate(settings)?;
        self.audited("settings.apply", &settings.tenant, || {
            let vault = self
                .vaults
                .open_tenant(&settings.tenant)
                .map_err(|e| e.to_string())?;
            if let Some(days) = retention {
                vault.set_retention(days).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    }

    fn run(&self, command: &Command) -> Result<(), String> {
        self.known_tenant(&command.tenant)?;
        let tenant = command.tenant.as_str();
        let text = |e: VaultError| e.to_string();
        match &command.action {
            Action::PurgeCall { call_id } => self.audited("call.purge", tenant, || {
                let vault = self.vaults.open_tenant(tenant).map_err(text)?;
                match vault.purge_call(call_id).map_err(text)? {
                    true => Ok(()),
                    false => Err("no such call".to_owned()),
                }
            }),
            // These two write their own audit records.
            Action::PurgeTenant => self.vaults.delete_tenant(ACTOR, tenant).map_err(text),
            Action::RotateTenantKey => self.vaults.rotate_tenant_key(ACTOR, tenant).map_err(text),
        }
    }
}
