//! Keys and encrypted storage: the key hierarchy, the keyring, one SQLCipher database per
//! tenant (calls, segments, outbox, settings), retention that really deletes, and the
//! hash-chained audit log.
//!
//! The master key comes from the secrets loader and never leaves this crate except as keys
//! derived from it. Every database is a SQLCipher file opened with a raw 256-bit key, in a 0700
//! directory as a 0600 file. This crate knows nothing of networks or protocols; it must never
//! log key material or stored text, and never open a tenant's database without its key.
#![forbid(unsafe_code)]

mod audit;
pub mod baseline;
mod clock;
mod db;
mod error;
mod fsperm;
mod health;
mod keyring;
mod keys;
mod migrate;
mod tenant;
mod vaults;
mod wrap;

pub use audit::{AUDIT_KEEP_MS, AuditLog, AuditRecord, ChainReport, Outcome};
pub use clock::{Clock, DAY_MS, ManualClock, SystemClock};
pub use db::sqlcipher_version;
pub use error::VaultError;
pub use health::StorageHealth;
pub use keyring::{Keyring, TenantEntry};
pub use keys::{DataKey, DerivedKey, KeyPurpose, MasterKey, MasterKeyError};
pub use tenant::{
    CallRecord, CallStats, CallSummary, Enqueued, NewCall, NewOutboxRecord, NewSegment,
    OutboundSegment, OutboxItem, OutboxStatus, PURGE_BATCH_CALLS, PurgeReport, RetentionDays,
    StoredSegment, TenantVault,
};
pub use vaults::{VaultOptions, Vaults, check_tenant_id};
