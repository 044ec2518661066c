//! Tenant lifecycle: create, list, settings, delete with crypto-shredding, key rotation, and
//! isolation between tenants.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::{T0, call, open, segment};
use diala_vault::{ManualClock, RetentionDays, VaultError};

#[test]
fn create_list_settings_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    {
        let vaults = open(dir.path(), clock.clone());
        let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
        vaults.create_tenant("test", "globex", "Globex").unwrap();
        assert!(matches!(
            vaults.create_tenant("test", "acme", "Again"),
            Err(VaultError::TenantExists(_))
        ));
        assert!(matches!(
            vaults.create_tenant("test", "../etc", "Bad"),
            Err(VaultError::BadTenantId(_))
        ));
        assert_eq!(acme.retention().unwrap(), RetentionDays::DEFAULT);
        acme.set_retention(RetentionDays::new(7).unwrap()).unwrap();
        acme.begin_call(&call("c1", T0)).unwrap();
        acme.insert_segment("c1", &segment("hello there", 0))
            .unwrap();
        vaults.checkpoint_all().unwrap();
    }

    let vaults = open(dir.path(), clock);
    let ids: Vec<_> = vaults
        .tenants()
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["acme", "globex"]);
    let acme = vaults.open_tenant("acme").unwrap();
    assert_eq!(acme.retention().unwrap().days(), 7);
    let segments = acme.segments("c1").unwrap();
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].segment.text.as_deref(), Some("hello there"));
    assert!(matches!(
        vaults.open_tenant("initech"),
        Err(VaultError::UnknownTenant(_))
    ));
    assert!(RetentionDays::new(0).is_err());
    assert!(RetentionDays::new(366).is_err());
    assert!(RetentionDays::new(365).is_ok());
}

#[test]
fn a_vanished_tenant_file_is_an_error_not_a_new_empty_vault() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let path = {
        let vaults = open(dir.path(), clock.clone());
        let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
        acme.begin_call(&call("c1", T0)).unwrap();
        vaults.checkpoint_all().unwrap();
        acme.path().to_owned()
    };
    std::fs::remove_file(&path).unwrap();

    let vaults = open(dir.path(), clock);
    let error = vaults.open_tenant("acme").unwrap_err();
    assert!(
        matches!(error, VaultError::TenantFileMissing { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("restore it from a backup"),
        "{error}"
    );
    assert!(!path.exists(), "no empty file was made in its place");

    // Deleting the tenant and adding it again is the way back to an empty vault.
    vaults.delete_tenant("test", "acme").unwrap();
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    assert_eq!(acme.call("c1").unwrap(), None);
}

#[test]
fn a_file_left_without_a_keyring_entry_is_replaced_on_creation() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let vaults = open(dir.path(), clock);
    // What a creation that stopped after writing the file and before the keyring leaves.
    let orphan = dir.path().join("tenants/acme/vault.db");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, [7u8; 4096]).unwrap();

    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("c1", T0)).unwrap();
    assert!(acme.call("c1").unwrap().is_some());
}

#[test]
fn a_foreign_call_id_finds_what_a_random_one_finds() {
    let dir = tempfile::tempdir().unwrap();
    let vaults = open(dir.path(), Arc::new(ManualClock::at(T0)));
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    let globex = vaults.create_tenant("test", "globex", "Globex").unwrap();
    globex.begin_call(&call("globex-call", T0)).unwrap();
    globex
        .insert_segment("globex-call", &segment("secret plans", 0))
        .unwrap();

    assert_eq!(
        acme.call("globex-call").unwrap(),
        acme.call("no-such-call").unwrap()
    );
    assert_eq!(acme.call("globex-call").unwrap(), None);
    assert!(acme.segments("globex-call").unwrap().is_empty());
    let foreign = acme
        .insert_segment("globex-call", &segment("x", 0))
        .unwrap_err();
    let random = acme
        .insert_segment("no-such-call", &segment("x", 0))
        .unwrap_err();
    assert!(matches!(foreign, VaultError::UnknownCall(_)), "{foreign}");
    assert!(matches!(random, VaultError::UnknownCall(_)), "{random}");
    assert_eq!(
        globex.call("globex-call").unwrap().unwrap().tenant,
        "globex"
    );
}

#[test]
fn tenant_a_file_does_not_open_with_tenant_b_key() {
    let dir = tempfile::tempdir().unwrap();
    let vaults = open(dir.path(), Arc::new(ManualClock::at(T0)));
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("c1", T0)).unwrap();
    vaults.checkpoint_all().unwrap();
    vaults.create_tenant("test", "globex", "Globex").unwrap();
    drop(vaults);

    // Put acme's file where globex's belongs: globex's key must not open it.
    let tenants = dir.path().join("tenants");
    std::fs::copy(
        tenants.join("acme/vault.db"),
        tenants.join("globex/vault.db"),
    )
    .unwrap();
    let vaults = open(dir.path(), Arc::new(ManualClock::at(T0)));
    let err = vaults.open_tenant("globex").unwrap_err();
    assert!(matches!(err, VaultError::WrongKey { .. }), "{err}");
    assert!(vaults.open_tenant("acme").is_ok());
}

#[test]
fn deleting_a_tenant_makes_an_earlier_copy_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let backup = tempfile::tempdir().unwrap();
    let vaults = open(dir.path(), Arc::new(ManualClock::at(T0)));
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("c1", T0)).unwrap();
    acme.insert_segment("c1", &segment("account 4417", 0))
        .unwrap();
    acme.checkpoint().unwrap();
    let file = dir.path().join("tenants/acme/vault.db");
    let copy = backup.path().join("vault.db");
    std::fs::copy(&file, &copy).unwrap();

    vaults.delete_tenant("test", "acme").unwrap();
    assert!(!file.exists());
    assert!(vaults.tenants().unwrap().is_empty());
    // The old handle now answers as for a tenant that does not exist.
    assert!(matches!(acme.call("c1"), Err(VaultError::UnknownTenant(_))));
    assert!(matches!(
        vaults.open_tenant("acme"),
        Err(VaultError::UnknownTenant(_))
    ));

    // The copy, put back where it was, does not open: no key for it exists any more, and the
    // tenant created again under the same id has a new one.
    vaults.create_tenant("test", "acme", "Acme again").unwrap();
    drop(vaults);
    std::fs::copy(&copy, &file).unwrap();
    let vaults = open(dir.path(), Arc::new(ManualClock::at(T0)));
    let err = vaults.open_tenant("acme").unwrap_err();
    assert!(matches!(err, VaultError::WrongKey { .. }), "{err}");

    let actions: Vec<_> = vaults
        .audit()
        .records()
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {} {}", r.action, r.target, r.outcome))
        .collect();
    assert!(
        actions.contains(&"tenant.delete acme started".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"tenant.delete acme succeeded".to_owned()),
        "{actions:?}"
    );
}

#[test]
fn tenant_key_rotation_while_segments_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let vaults = Arc::new(open(dir.path(), Arc::new(ManualClock::at(T0))));
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("live", T0)).unwrap();

    let writer = {
        let acme = acme.clone();
        std::thread::spawn(move || {
            (0..400)
                .map(|i| {
                    acme.insert_segment("live", &segment(&format!("utterance {i}"), i))
                        .unwrap()
                })
                .collect::<Vec<_>>()
        })
    };
    for _ in 0..3 {
        vaults.rotate_tenant_key("test", "acme").unwrap();
    }
    let written = writer.join().unwrap();
    drop(acme);
    drop(vaults);

    let vaults = open(dir.path(), Arc::new(ManualClock::at(T0)));
    let acme = vaults.open_tenant("acme").unwrap();
    let stored: Vec<_> = acme
        .segments("live")
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(stored, written);
    assert!(acme.integrity_problems().unwrap().is_empty());
}

#[test]
fn master_key_rotation_keeps_every_tenant_readable() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    {
        let vaults = open(dir.path(), clock.clone());
        let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
        acme.begin_call(&call("c1", T0)).unwrap();
        vaults.rotate_master("test", common::master(2)).unwrap();
        acme.insert_segment("c1", &segment("after rotation", 0))
            .unwrap();
        vaults.checkpoint_all().unwrap();
    }
    let options = diala_vault::VaultOptions {
        min_free_bytes: 0,
        outbox_cap: 10,
    };
    let refused = diala_vault::Vaults::open(dir.path(), common::master(1), options, clock.clone());
    assert!(matches!(refused, Err(VaultError::WrongKey { .. })));
    let vaults = common::open_with(dir.path(), 2, clock, options);
    let acme = vaults.open_tenant("acme").unwrap();
    assert_eq!(acme.segments("c1").unwrap().len(), 1);
    assert_eq!(vaults.audit().verify().unwrap().first_broken, None);
}

#[test]
fn an_action_whose_audit_record_cannot_be_written_is_not_taken() {
    let dir = tempfile::tempdir().unwrap();
    let vaults = open(dir.path(), Arc::new(ManualClock::at(T0)));
    vaults.create_tenant("test", "acme", "Acme").unwrap();

    // Break the audit database from another connection holding its key.
    let key = common::master(1).derive(diala_vault::KeyPurpose::Audit);
    let conn = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    let hex: String = key.expose().iter().map(|b| format!("{b:02x}")).collect();
    conn.pragma_update(None, "key", format!("x'{hex}'"))
        .unwrap();
    conn.execute_batch("DROP TABLE records;").unwrap();
    drop(conn);

    let err = vaults
        .create_tenant("test", "globex", "Globex")
        .unwrap_err();
    assert!(matches!(err, VaultError::AuditUnavailable(_)), "{err}");
    let err = vaults.delete_tenant("test", "acme").unwrap_err();
    assert!(matches!(err, VaultError::AuditUnavailable(_)), "{err}");
    let ids: Vec<_> = vaults
        .tenants()
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["acme"]);
    assert!(vaults.open_tenant("acme").is_ok());
    assert!(!dir.path().join("tenants/globex").exists());
}

#[test]
fn token_keys_differ_per_tenant_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path(), Arc::new(ManualClock::at(T0)));
    let acme = first.tenant_token_key("acme").unwrap();
    let globex = first.tenant_token_key("globex").unwrap();
    assert_ne!(acme.expose(), globex.expose());
    drop(first);
    let again = open(dir.path(), Arc::new(ManualClock::at(T0)));
    assert_eq!(
        again.tenant_token_key("acme").unwrap().expose(),
        acme.expose()
    );
}
