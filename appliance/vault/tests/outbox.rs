//! The outbox: idempotent, ordered per call, claim and ack with backoff, capped with an alert.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::{T0, call, open_with, segment};
use diala_vault::{Enqueued, ManualClock, NewOutboxRecord, VaultError, VaultOptions};

fn record(key: &str, call_id: Option<&str>) -> NewOutboxRecord {
    NewOutboxRecord {
        kind: "call-summary".to_owned(),
        call_id: call_id.map(str::to_owned),
        idempotency_key: key.to_owned(),
        payload: "{}".to_owned(),
    }
}

fn options(cap: u64) -> VaultOptions {
    VaultOptions {
        min_free_bytes: 0,
        outbox_cap: cap,
    }
}

#[test]
fn idempotent_ordered_per_call_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let vaults = open_with(dir.path(), 1, clock.clone(), options(100));
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("a", T0)).unwrap();
    acme.begin_call(&call("b", T0)).unwrap();
    let a1 = acme.insert_segment("a", &segment("one", 0)).unwrap();
    let a2 = acme.insert_segment("a", &segment("two", 1000)).unwrap();
    let b1 = acme.insert_segment("b", &segment("three", 0)).unwrap();

    let summary = acme.enqueue(&record("summary/a", Some("a"))).unwrap();
    assert!(matches!(summary, Enqueued::Added(_)));
    assert_eq!(
        acme.enqueue(&record("summary/a", Some("a"))).unwrap(),
        Enqueued::Duplicate
    );

    // One record per call at a time, the earliest first.
    let first = acme.claim(10, 30_000).unwrap();
    let payloads: Vec<_> = first.iter().map(|i| i.payload.clone()).collect();
    assert_eq!(payloads, [a1.to_string(), b1.to_string()]);
    // Claimed records are lent out: nothing more of those calls until acked or expired.
    assert!(acme.claim(10, 30_000).unwrap().is_empty());

    acme.ack(first[0].id).unwrap();
    acme.retry_later(first[1].id).unwrap();
    let next = acme.claim(10, 30_000).unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].payload, a2.to_string());

    // The failed one waits its backoff (1 s), then comes back with its attempt counted.
    clock.advance(999);
    assert!(
        acme.claim(10, 30_000)
            .unwrap()
            .iter()
            .all(|i| i.call_id.as_deref() != Some("b"))
    );
    clock.advance(1);
    let again = acme.claim(10, 30_000).unwrap();
    let b = again
        .iter()
        .find(|i| i.call_id.as_deref() == Some("b"))
        .unwrap();
    assert_eq!(b.attempts, 1);
    assert_eq!(b.idempotency_key, format!("segment/{b1}"));

    // An expired lease makes a record claimable again: at-least-once.
    clock.advance(30_000);
    assert!(!acme.claim(10, 30_000).unwrap().is_empty());
}

#[test]
fn the_cap_alerts_first_then_refuses_new_calls_but_not_running_ones() {
    let dir = tempfile::tempdir().unwrap();
    let vaults = open_with(dir.path(), 1, Arc::new(ManualClock::at(T0)), options(10));
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("running", T0)).unwrap();
    for i in 0..7 {
        acme.insert_segment("running", &segment("x", i)).unwrap();
    }
    assert!(!acme.outbox_status().unwrap().alert);
    acme.insert_segment("running", &segment("x", 8)).unwrap();
    let status = acme.outbox_status().unwrap();
    assert!(status.alert, "{status:?}");
    acme.begin_call(&call("another", T0)).unwrap();
    acme.insert_segment("running", &segment("x", 9)).unwrap();
    acme.insert_segment("running", &segment("x", 10)).unwrap();

    let err = acme.begin_call(&call("refused", T0)).unwrap_err();
    assert!(
        matches!(err, VaultError::OutboxFull { pending: 10, .. }),
        "{err}"
    );
    // The call already running keeps storing what is said.
    acme.insert_segment("running", &segment("x", 11)).unwrap();
    assert_eq!(acme.segments("running").unwrap().len(), 11);
}
