//! The sync client's view of the outbox: ordered batches, released claims, one call purged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use crate::{ManualClock, MasterKey, NewCall, NewSegment, TenantVault, VaultOptions, Vaults};

const T0: i64 = 1_796_083_200_000;

fn open() -> (tempfile::TempDir, Vaults, Arc<TenantVault>) {
    let dir = tempfile::tempdir().unwrap();
    let options = VaultOptions {
        min_free_bytes: 0,
        outbox_cap: 1_000,
    };
    let master = MasterKey::from_credential(&[9; 32]).unwrap();
    let vaults = Vaults::open(dir.path(), master, options, Arc::new(ManualClock::at(T0))).unwrap();
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    (dir, vaults, acme)
}

fn store(vault: &TenantVault, call: &str, count: i64) {
    vault
        .begin_call(&NewCall {
            id: call.to_owned(),
            trunk: "pbx".to_owned(),
            started_at_ms: T0,
        })
        .unwrap();
    for i in 0..count {
        let segment = NewSegment {
            track: "caller".to_owned(),
            start_ms: i * 1000,
            end_ms: i * 1000 + 900,
            text: Some(format!("{call} said {i}")),
            redacted: format!("{call} said [NUMBER:{i}]"),
            confidence: 0.9,
        };
        vault.insert_segment(call, &segment).unwrap();
    }
}

#[test]
fn a_claim_takes_each_call_in_order_and_never_past_a_lent_record() {
    let (_dir, _vaults, acme) = open();
    store(&acme, "a", 3);
    store(&acme, "b", 2);

    let first = acme.claim_in_order(4, 30_000).unwrap();
    let keys: Vec<_> = first.iter().map(|i| i.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["segment/1", "segment/2", "segment/3", "segment/4"]);

    // b's second record waits behind its first, which is lent out.
    assert!(acme.claim_in_order(4, 30_000).unwrap().is_empty());

    acme.release(&[first[3].id]).unwrap();
    let again = acme.claim_in_order(4, 30_000).unwrap();
    let keys: Vec<_> = again.iter().map(|i| i.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["segment/4", "segment/5"]);
}

#[test]
fn acknowledged_records_are_gone_and_released_ones_come_back_without_a_penalty() {
    let (_dir, _vaults, acme) = open();
    store(&acme, "a", 2);
    let claimed = acme.claim_in_order(10, 30_000).unwrap();
    acme.ack_many(&[claimed[0].id]).unwrap();
    acme.release_all_claims().unwrap();

    let again = acme.claim_in_order(10, 30_000).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].idempotency_key, "segment/2");
    assert_eq!(again[0].attempts, 0);
    assert_eq!(acme.outbox_oldest_ms().unwrap(), Some(T0));
}

#[test]
fn an_outbound_segment_carries_only_the_redacted_text() {
    let (_dir, _vaults, acme) = open();
    store(&acme, "a", 1);
    let segment = acme.outbound_segment(1).unwrap().unwrap();
    assert_eq!(segment.redacted, "a said [NUMBER:0]");
    assert_eq!(segment.call_id, "a");
    assert!(acme.outbound_segment(99).unwrap().is_none());
}

#[test]
fn purging_a_call_leaves_only_its_deletion_record() {
    let (_dir, _vaults, acme) = open();
    store(&acme, "a", 2);
    assert!(acme.purge_call("a").unwrap());
    assert!(!acme.purge_call("a").unwrap());
    assert!(acme.call("a").unwrap().is_none());

    let left = acme.claim_in_order(10, 30_000).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, "deletion");
    assert_eq!(left[0].payload, "a");
}
