//! The key commands of the admin socket: rotate the master key, and rekey tenant databases.
//!
//! The new master key arrives from root's CLI over the socket and is held only in zeroizing
//! memory; it is never logged or answered back. After the vault has re-wrapped every data key
//! and rekeyed its own databases, the sysadmins' TOTP secrets are sealed again under it.

use diala_vault::{KeyPurpose, MasterKey};
use subtle::ConstantTimeEq as _;

use super::handlers::{AdminApi, CommandError, Progress};
use super::peer::Admin;
use super::protocol::NewMasterKey;
use super::replies::DoneReply;

impl AdminApi {
    // Limitation: the request line and the JSON parser's copies of the new key are freed
    // without being zeroized; only `NewMasterKey` and `MasterKey` are wiped.
    // Limitation: a crash between the vault's rotation and resealing the TOTP secrets leaves
    // the secrets under the previous master key; those sysadmins must be enrolled again.
    pub(super) fn rotate_master(
        &self,
        admin: &Admin,
        new_key: &NewMasterKey,
        progress: Progress<'_>,
    ) -> Result<DoneReply, CommandError> {
        if admin.uid != 0 {
            return Err(CommandError::RootOnly);
        }
        let new = MasterKey::from_credential(new_key.0.as_bytes())?;
        let new_totp = new.derive(KeyPurpose::AdminTotp);
        let current = self.vaults.admin_totp_key();
        if bool::from(new_totp.expose().ct_eq(current.expose())) {
            return Err(CommandError::SameMasterKey);
        }
        progress(0, 2);
        self.vaults.rotate_master(&admin.actor(), new)?;
        progress(1, 2);
        let resealed = self.totp.reseal(new_totp)?;
        progress(2, 2);
        Ok(DoneReply {
            done: format!(
                "master key rotated: every tenant data key re-wrapped, the keyring and audit \
                 databases rekeyed, {resealed} TOTP secret(s) sealed again"
            ),
            next: Some(
                "install the new key as the master-key credential now (see `diala-edge \
                 master-key create`), before the daemon restarts: the old key no longer opens \
                 the state"
                    .to_owned(),
            ),
        })
    }

    pub(super) fn rotate_tenants(
        &self,
        actor: &str,
        tenant: Option<&str>,
        progress: Progress<'_>,
    ) -> Result<DoneReply, CommandError> {
        let tenants = match tenant {
            Some(tenant) => vec![tenant.to_owned()],
            None => self.vaults.tenants()?.into_iter().map(|t| t.id).collect(),
        };
        let total = tenants.len() as u64;
        progress(0, total);
        for (done, tenant) in tenants.iter().enumerate() {
            self.vaults.rotate_tenant_key(actor, tenant)?;
            progress(done as u64 + 1, total);
        }
        Ok(DoneReply {
            done: format!(
                "data key rotated and database rekeyed for {}",
                tenants.join(", ")
            ),
            next: None,
        })
    }
}
