//! From the vaults' outboxes to protocol records: what the appliance sends, and what it does
//! once the control plane has it.
//!
//! Every segment's text is read in its stored redacted form and passed through the tenant's
//! redactor once more before it is put in a record: the record takes only a `Redacted<String>`,
//! and redacting redacted text changes nothing, so this costs one scan and guarantees that a
//! stored row written by any path cannot carry an entity out. Nothing here logs record content.

use std::collections::HashMap;
use std::sync::Arc;

use diala_redact::{Policy, Redactor, TokenKey};
use diala_vault::{OutboxItem, TenantVault, VaultError, Vaults};

use crate::protocol::{AlertBody, AuditBody, CallSummaryBody, Record, RecordBody, SegmentBody};
use crate::window::Claim;

/// How long a claimed record stays lent before another sender could take it: far longer than
/// any acknowledgement takes. Claims are released at start and on a lost connection anyway.
const LEASE_MS: i64 = 10 * 60 * 1000;

/// The outboxes of every tenant on the box, read in turn.
pub struct Outbound {
    vaults: Arc<Vaults>,
    redactors: HashMap<String, Redactor>,
    next_tenant: usize,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").finish_non_exhaustive()
    }
}

impl Outbound {
    /// The outbound side of `vaults`. Hands back every claim a killed sender left behind.
    pub fn new(vaults: Arc<Vaults>) -> Result<Self, VaultError> {
        for entry in vaults.tenants()? {
            vaults.open_tenant(&entry.id)?.release_all_claims()?;
        }
        Ok(Outbound {
            vaults,
            redactors: HashMap::new(),
            next_tenant: 0,
        })
    }

    /// Up to `max` records, from the next tenant in turn that has any ready.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<(Claim, Record)>, VaultError> {
        let tenants = self.vaults.tenants()?;
        for step in 0..tenants.len() {
            let index = (self.next_tenant + step) % tenants.len();
            let Some(entry) = tenants.get(index) else {
                continue;
            };
            let vault = self.vaults.open_tenant(&entry.id)?;
            let items = vault.claim_in_order(max, LEASE_MS)?;
            if items.is_empty() {
                continue;
            }
            self.next_tenant = index + 1;
            return self.records(&vault, items);
        }
        Ok(Vec::new())
    }

    fn records(
        &mut self,
        vault: &TenantVault,
        items: Vec<OutboxItem>,
    ) -> Result<Vec<(Claim, Record)>, VaultError> {
        let tenant = vault.tenant().to_owned();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let claim = Claim {
                tenant: tenant.clone(),
                id: item.id,
            };
            match self.body(vault, &item)? {
                Some(body) => {
                    let key = item.idempotency_key;
                    let tenant = tenant.clone();
                    out.push((claim, Record { tenant, key, body }));
                }
                // A record that can never be built waits its backoff; it is counted in the
                // outbox depth, so it is not lost from sight.
                None => vault.retry_later(item.id)?,
            }
        }
        Ok(out)
    }

    fn body(
        &mut self,
        vault: &TenantVault,
        item: &OutboxItem,
    ) -> Result<Option<RecordBody>, VaultError> {
        Ok(match item.kind.as_str() {
            "segment" => match item.payload.parse::<i64>().ok() {
                Some(id) => match vault.outbound_segment(id)? {
                    Some(segment) => {
                        let text = self.redactor(vault.tenant())?.redact(&segment.redacted);
                        Some(RecordBody::Segment(SegmentBody::new(
                            &segment,
                            text.forward,
                        )))
                    }
                    None => None,
                },
                None => None,
            },
            "deletion" => Some(RecordBody::Deletion {
                call_id: item.payload.clone(),
            }),
            "tenant-deletion" => Some(RecordBody::TenantDeletion),
            "call-summary" => serde_json::from_str::<CallSummaryBody>(&item.payload)
                .ok()
                .map(RecordBody::CallSummary),
            "audit" => serde_json::from_str::<AuditBody>(&item.payload)
                .ok()
                .map(RecordBody::Audit),
            "alert" => serde_json::from_str::<AlertBody>(&item.payload)
                .ok()
                .map(RecordBody::Alert),
            _ => None,
        })
    }

    fn redactor(&mut self, tenant: &str) -> Result<&Redactor, VaultError> {
        if !self.redactors.contains_key(tenant) {
            let key = self.vaults.tenant_token_key(tenant)?;
            let redactor =
                Redactor::new(TokenKey::from_bytes(*key.expose()), Policy::keep_nothing());
            self.redactors.insert(tenant.to_owned(), redactor);
        }
        self.redactors
            .get(tenant)
            .ok_or_else(|| VaultError::UnknownTenant(tenant.to_owned()))
    }

    /// The control plane has these records: they leave the outbox.
    pub fn ack(&self, claims: &[Claim]) -> Result<(), VaultError> {
        self.by_tenant(claims, |vault, ids| vault.ack_many(ids))
    }

    /// The connection was lost before these were acknowledged: they go out again next time.
    pub fn release(&self, claims: &[Claim]) -> Result<(), VaultError> {
        self.by_tenant(claims, |vault, ids| vault.release(ids))
    }

    fn by_tenant(
        &self,
        claims: &[Claim],
        apply: impl Fn(&TenantVault, &[i64]) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        let mut grouped: HashMap<&str, Vec<i64>> = HashMap::new();
        for claim in claims {
            grouped.entry(&claim.tenant).or_default().push(claim.id);
        }
        for (tenant, ids) in grouped {
            match self.vaults.open_tenant(tenant) {
                Ok(vault) => apply(&vault, &ids)?,
                // The tenant was deleted meanwhile: its outbox went with it.
                Err(VaultError::UnknownTenant(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Records waiting in every outbox, and when the oldest was queued.
    pub fn depth(&self) -> Result<(u64, Option<i64>), VaultError> {
        depth(&self.vaults)
    }
}

/// Records waiting in every tenant's outbox together, and when the oldest was queued.
pub fn depth(vaults: &Vaults) -> Result<(u64, Option<i64>), VaultError> {
    let mut pending = 0;
    let mut oldest: Option<i64> = None;
    for entry in vaults.tenants()? {
        let vault = vaults.open_tenant(&entry.id)?;
        pending += vault.outbox_status()?.pending;
        if let Some(at) = vault.outbox_oldest_ms()? {
            oldest = Some(oldest.map_or(at, |o| o.min(at)));
        }
    }
    Ok((pending, oldest))
}
