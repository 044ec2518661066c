//! Tampering with stored bytes is detected: flipped bytes in a tenant database, and an audit
//! record edited through SQLCipher with the right key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{T0, call, open, segment};
use diala_vault::{KeyPurpose, ManualClock, Vaults};

const PAGE: usize = 4096;

/// A tenant with enough segments for a few dozen pages, checkpointed and closed.
fn filled(dir: &Path) -> std::path::PathBuf {
    let vaults = open(dir, Arc::new(ManualClock::at(T0)));
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("c1", T0)).unwrap();
    for i in 0..300 {
        acme.insert_segment(
            "c1",
            &segment(&format!("segment number {i} of the call"), i),
        )
        .unwrap();
    }
    assert!(acme.integrity_problems().unwrap().is_empty());
    vaults.checkpoint_all().unwrap();
    dir.join("tenants/acme/vault.db")
}

fn flip(file: &Path, offset: usize) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[offset] ^= 0x5a;
    std::fs::write(file, bytes).unwrap();
}

/// What a reader sees after the flip: an error opening, or problems from the checks.
fn detected(dir: &Path) -> bool {
    let vaults = open(dir, Arc::new(ManualClock::at(T0)));
    match vaults.open_tenant("acme") {
        Err(_) => true,
        Ok(acme) => match acme.integrity_problems() {
            Err(_) => true,
            Ok(problems) => !problems.is_empty(),
        },
    }
}

#[test]
fn byte_flips_in_first_middle_and_last_page_are_detected() {
    for which in ["first", "middle", "last"] {
        let dir = tempfile::tempdir().unwrap();
        let file = filled(dir.path());
        let pages = std::fs::metadata(&file).unwrap().len() as usize / PAGE;
        assert!(pages >= 10, "only {pages} pages");
        let page = match which {
            "first" => 0,
            "middle" => pages / 2,
            _ => pages - 1,
        };
        flip(&file, page * PAGE + 100);
        assert!(
            detected(dir.path()),
            "a flip in the {which} page went unnoticed"
        );
    }
}

#[test]
fn an_untouched_database_passes_both_checks() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path());
    assert!(!detected(dir.path()));
}

#[test]
fn an_audit_record_edited_with_the_right_key_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let vaults = open(dir.path(), clock.clone());
    for id in ["acme", "globex", "initech"] {
        vaults.create_tenant("admin:uid=0", id, id).unwrap();
        clock.advance(1_000);
    }
    vaults.delete_tenant("admin:uid=0", "globex").unwrap();
    let report = vaults.audit().verify().unwrap();
    assert_eq!(report.records, 8);
    assert_eq!(report.first_broken, None);
    vaults.checkpoint_all().unwrap();
    drop(vaults);

    // Someone with the audit database key rewrites who deleted the tenant.
    let conn = open_audit_with_its_key(dir.path());
    let changed = conn
        .execute("UPDATE records SET actor = 'config' WHERE seq = 7", [])
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let vaults = open(dir.path(), clock);
    let report = vaults.audit().verify().unwrap();
    assert_eq!(report.first_broken, Some(7));
}

#[test]
fn a_removed_audit_record_is_caught_and_pruning_keeps_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let vaults = open(dir.path(), clock.clone());
    let audit = vaults.audit();
    for i in 0..10 {
        audit
            .append(
                T0 + i * diala_vault::DAY_MS * 60,
                "test",
                "probe",
                "appliance",
                diala_vault::Outcome::Succeeded,
            )
            .unwrap();
    }
    // Fourteen months after the first record, the first few are older than 13 months.
    let pruned = audit.prune(T0 + 14 * 31 * diala_vault::DAY_MS).unwrap();
    assert!(pruned > 0 && pruned < 10, "{pruned}");
    let report = audit.verify().unwrap();
    assert_eq!(report.first_broken, None);
    assert_eq!(report.records, 10 - pruned);
    audit
        .append(
            T0 + 700 * diala_vault::DAY_MS,
            "test",
            "probe",
            "appliance",
            diala_vault::Outcome::Succeeded,
        )
        .unwrap();
    assert_eq!(audit.verify().unwrap().first_broken, None);
    vaults.checkpoint_all().unwrap();
    drop(vaults);

    let conn = open_audit_with_its_key(dir.path());
    let middle: i64 = conn
        .query_row(
            "SELECT seq FROM records ORDER BY seq LIMIT 1 OFFSET 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute("DELETE FROM records WHERE seq = ?1", [middle])
        .unwrap();
    drop(conn);
    let vaults: Vaults = open(dir.path(), clock);
    assert_eq!(
        vaults.audit().verify().unwrap().first_broken,
        Some(middle + 1)
    );
}

/// The audit database opened directly with its own key, as someone holding it could.
fn open_audit_with_its_key(dir: &Path) -> rusqlite::Connection {
    let key = common::master(1).derive(KeyPurpose::Audit);
    let conn = rusqlite::Connection::open(dir.join("audit.db")).unwrap();
    conn.pragma_update(None, "key", format!("x'{}'", hex(key.expose())))
        .unwrap();
    conn
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
