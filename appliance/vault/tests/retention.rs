//! Retention through the appliance: expired calls go, the rest stay, the control plane is told.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::{T0, call, open, segment};
use diala_vault::{DAY_MS, ManualClock, RetentionDays};

#[test]
fn expired_calls_go_with_their_records_and_a_deletion_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let vaults = open(dir.path(), clock.clone());
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    let globex = vaults.create_tenant("test", "globex", "Globex").unwrap();
    acme.set_retention(RetentionDays::new(1).unwrap()).unwrap();
    for (vault, id) in [(&acme, "old"), (&globex, "old")] {
        vault.begin_call(&call(id, T0)).unwrap();
        vault
            .insert_segment(id, &segment("expiring text", 0))
            .unwrap();
    }
    clock.advance(DAY_MS / 2);
    acme.begin_call(&call("young", clock_now(&clock))).unwrap();
    acme.insert_segment("young", &segment("kept text", 0))
        .unwrap();

    // 24 h after the first call: acme's (1 day) is due, globex's (90 days) is not.
    clock.set(T0 + DAY_MS);
    let reports = vaults.purge_expired(100).unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].0, "acme");
    assert_eq!((reports[0].1.calls, reports[0].1.segments), (1, 1));
    assert_eq!(reports[1].1.calls, 0);

    assert_eq!(acme.call("old").unwrap(), None);
    assert!(acme.segments("old").unwrap().is_empty());
    assert_eq!(acme.segments("young").unwrap().len(), 1);
    assert!(globex.call("old").unwrap().is_some());

    let wal = dir.path().join("tenants/acme/vault.db-wal");
    assert_eq!(std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0), 0);

    let queued = acme.claim(100, 1_000).unwrap();
    let deletion = queued.iter().find(|i| i.kind == "deletion").unwrap();
    assert_eq!(deletion.payload, "old");
    assert!(queued.iter().all(|i| i.call_id.as_deref() != Some("old")));
}

fn clock_now(clock: &ManualClock) -> i64 {
    diala_vault::Clock::now_ms(clock)
}
