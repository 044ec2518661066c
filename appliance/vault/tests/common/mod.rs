//! What the vault's integration tests share: an appliance state in a temporary directory, on
//! a manual clock, and segments with text the tests can look for.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use diala_vault::{ManualClock, MasterKey, NewCall, NewSegment, VaultOptions, Vaults};

/// 2026-12-01T00:00:00Z.
pub const T0: i64 = 1_796_083_200_000;

/// A master key of 32 equal bytes.
pub fn master(byte: u8) -> MasterKey {
    MasterKey::from_credential(&[byte; 32]).unwrap()
}

/// The appliance state in `dir` under master key `master_byte`.
pub fn open_with(
    dir: &Path,
    master_byte: u8,
    clock: Arc<ManualClock>,
    options: VaultOptions,
) -> Vaults {
    Vaults::open(dir, master(master_byte), options, clock).unwrap()
}

/// The appliance state in `dir` with no free-space floor and a 10 000-record outbox cap.
pub fn open(dir: &Path, clock: Arc<ManualClock>) -> Vaults {
    let options = VaultOptions {
        min_free_bytes: 0,
        outbox_cap: 10_000,
    };
    open_with(dir, 1, clock, options)
}

/// A call on the `pbx-main` trunk.
pub fn call(id: &str, started_at_ms: i64) -> NewCall {
    NewCall {
        id: id.to_owned(),
        trunk: "pbx-main".to_owned(),
        started_at_ms,
    }
}

/// A caller segment holding `text`.
pub fn segment(text: &str, start_ms: i64) -> NewSegment {
    NewSegment {
        track: "caller".to_owned(),
        start_ms,
        end_ms: start_ms + 900,
        text: Some(text.to_owned()),
        redacted: format!("[redacted] {}", text.len()),
        confidence: 0.91,
    }
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
