//! Tests that need the crate's insides: decrypting every page with the tenant's own key to
//! look for deleted text, and building the schema at every earlier version.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::Arc;

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, KeyIvInit};

use super::*;
use crate::{DAY_MS, ManualClock, MasterKey, NewCall, NewSegment, VaultOptions, Vaults};

const PAGE: usize = 4096;
/// SQLCipher 4 keeps a 16-byte IV and a 64-byte HMAC at the end of every page.
const RESERVE: usize = 80;
const SALT: usize = 16;
const T0: i64 = 1_796_083_200_000;

/// Every page of a SQLCipher 4 file decrypted with `key` (AES-256-CBC, raw key), free pages
/// included, concatenated.
fn decrypt_all_pages(file: &[u8], key: &[u8; 32]) -> Vec<u8> {
    let mut plain = Vec::with_capacity(file.len());
    for (n, page) in file.chunks_exact(PAGE).enumerate() {
        let start = if n == 0 { SALT } else { 0 };
        let iv = &page[PAGE - RESERVE..PAGE - RESERVE + 16];
        let mut body = page[start..PAGE - RESERVE].to_vec();
        cbc::Decryptor::<aes::Aes256>::new(key.into(), iv.into())
            .decrypt_padded_mut::<NoPadding>(&mut body)
            .unwrap();
        plain.extend_from_slice(&body);
    }
    plain
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn segment(text: &str, start_ms: i64) -> NewSegment {
    NewSegment {
        track: "caller".to_owned(),
        start_ms,
        end_ms: start_ms + 500,
        text: Some(text.to_owned()),
        redacted: "[CARD:0000]".to_owned(),
        confidence: 0.8,
    }
}

fn call(id: &str, started_at_ms: i64) -> NewCall {
    NewCall {
        id: id.to_owned(),
        trunk: "pbx".to_owned(),
        started_at_ms,
    }
}

#[test]
fn a_purged_sentinel_is_gone_even_with_the_key() {
    const SENTINEL: &str = "SENTINEL-4417-1234-5678-9113";
    const KEPT: &str = "KEPT-MARKER-0042";
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    let options = VaultOptions {
        min_free_bytes: 0,
        outbox_cap: 100_000,
    };
    let master = || MasterKey::from_credential(&[7; 32]).unwrap();
    let vaults = Vaults::open(dir.path(), master(), options, clock.clone()).unwrap();
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.set_retention(RetentionDays::new(1).unwrap()).unwrap();
    acme.begin_call(&call("expiring", T0)).unwrap();
    for i in 0..200 {
        acme.insert_segment("expiring", &segment(&format!("{SENTINEL} {i}"), i))
            .unwrap();
    }
    acme.begin_call(&call("kept", T0 + DAY_MS)).unwrap();
    acme.insert_segment("kept", &segment(KEPT, 0)).unwrap();

    let key = {
        let keyring = crate::Keyring::open(dir.path(), &master()).unwrap();
        keyring.data_keys(&master(), "acme").unwrap().remove(0).1
    };
    let db_path = acme.path().to_owned();
    let wal_path = db_path.with_file_name("vault.db-wal");

    // Before the purge the sentinel is there once decrypted: the decryption below works.
    acme.checkpoint().unwrap();
    let before = decrypt_all_pages(&std::fs::read(&db_path).unwrap(), key.expose());
    assert!(contains(&before, SENTINEL));

    clock.set(T0 + DAY_MS + 1);
    let report = acme.purge_expired(50).unwrap();
    assert_eq!((report.calls, report.segments), (1, 200));

    let file = std::fs::read(&db_path).unwrap();
    let wal = std::fs::read(&wal_path).unwrap_or_default();
    assert_eq!(wal.len(), 0, "the WAL was not truncated");
    let plain = decrypt_all_pages(&file, key.expose());
    assert!(
        contains(&plain, KEPT),
        "the decryption found not even the kept text"
    );
    assert!(
        !contains(&plain, SENTINEL),
        "the purged text is still in the database"
    );
    assert!(!contains(&file, SENTINEL));
    assert!(!contains(&wal, SENTINEL));
    assert!(acme.integrity_problems().unwrap().is_empty());
}

/// Rows that exist from each schema version on.
fn fill_version(conn: &Connection, version: usize) {
    if version >= 1 {
        conn.execute_batch(
            "INSERT INTO calls (id, trunk, started_at) VALUES ('c1', 'pbx', 1);
             INSERT INTO segments (call_id, track, start_ms, end_ms, text, redacted, confidence)
             VALUES ('c1', 'caller', 0, 10, 'hello', 'hello', 0.5);",
        )
        .unwrap();
    }
    if version >= 2 {
        conn.execute_batch(
            "INSERT INTO outbox (call_id, kind, idempotency_key, payload, created_at)
             VALUES ('c1', 'segment', 'segment/1', '1', 1);",
        )
        .unwrap();
    }
    if version >= 3 {
        conn.execute_batch("INSERT INTO settings (key, value) VALUES ('retention_days', '30');")
            .unwrap();
    }
}

#[test]
fn migrates_from_every_earlier_version() {
    let shared = Shared {
        health: Arc::new(StorageHealth::new(Path::new("/"), 0)),
        clock: Arc::new(ManualClock::at(T0)),
        outbox_cap: 1_000,
    };
    for version in 0..schema::MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.db");
        let key = DataKey::generate();
        {
            let conn = db::open_encrypted(&path, key.expose()).unwrap();
            migrate::apply_up_to(&path, &conn, schema::MIGRATIONS, version).unwrap();
            fill_version(&conn, version);
        }

        let (vault, _) = TenantVault::open("acme", &path, &[(1, key)], &shared).unwrap();
        let user_version: i64 = vault
            .with_conn(|conn, _| Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))))
            .unwrap()
            .unwrap();
        assert_eq!(
            user_version as usize,
            schema::MIGRATIONS.len(),
            "from version {version}"
        );
        if version >= 1 {
            assert_eq!(
                vault.segments("c1").unwrap().len(),
                1,
                "from version {version}"
            );
        } else {
            vault.begin_call(&call("c1", T0)).unwrap();
        }
        // Every table of the newest version works on the migrated file.
        vault.insert_segment("c1", &segment("after", 20)).unwrap();
        let expected_days = if version >= 3 { 30 } else { 90 };
        assert_eq!(vault.retention().unwrap().days(), expected_days);
        assert!(vault.outbox_status().unwrap().pending >= 1);
        assert!(vault.integrity_problems().unwrap().is_empty());
    }
}

#[test]
fn a_file_newer_than_this_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let key = DataKey::generate();
    {
        let conn = db::open_encrypted(&path, key.expose()).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let shared = Shared {
        health: Arc::new(StorageHealth::new(Path::new("/"), 0)),
        clock: Arc::new(ManualClock::at(T0)),
        outbox_cap: 1_000,
    };
    let err = TenantVault::open("acme", &path, &[(1, key)], &shared).unwrap_err();
    assert!(err.to_string().contains("newer than this binary"), "{err}");
}
