//! A full file system: new calls are refused, committed data stays intact, and new calls are
//! accepted again once there is room. A read-only one is refused too. Runs on a small tmpfs this
//! test mounts (it needs root); it fails, saying why, if it cannot mount one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::{T0, call, open_with, segment};
use diala_vault::{ManualClock, StorageHealth, VaultError, VaultOptions};

/// A tmpfs mounted for the test and unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(options: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("{options},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .expect("run mount(8)");
        assert!(
            out.status.success(),
            "this test needs a small tmpfs to fill and could not mount one (run it as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn full_storage_refuses_new_calls_and_keeps_committed_data() {
    let fs = Tmpfs::mount("size=3m");
    let options = VaultOptions {
        min_free_bytes: 256 * 1024,
        outbox_cap: 1_000_000,
    };
    let vaults = open_with(fs.path(), 1, Arc::new(ManualClock::at(T0)), options);
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    acme.begin_call(&call("running", T0)).unwrap();

    // Fill the file system from outside the vault, as another process would, then write
    // segments until the disk refuses one.
    let filler = fs.path().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 2 * 1024 * 1024]);
    let text = "x".repeat(2000);
    let mut stored = Vec::new();
    let error = loop {
        match acme.insert_segment("running", &segment(&text, stored.len() as i64)) {
            Ok(id) => stored.push(id),
            Err(error) => break error,
        }
        assert!(stored.len() < 10_000, "the file system never filled");
    };
    assert!(error.is_storage(), "{error}");
    assert!(vaults.storage().refusing().is_some());
    let refused = acme.begin_call(&call("new", T0)).unwrap_err();
    assert!(
        matches!(refused, VaultError::StorageFull { .. }),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("new calls are refused"),
        "{refused}"
    );

    // What was committed is all there and sound.
    let ids: Vec<_> = acme
        .segments("running")
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, stored);
    assert!(acme.integrity_problems().unwrap().is_empty());

    // Room again: new calls are accepted.
    std::fs::remove_file(&filler).unwrap();
    acme.begin_call(&call("after-space-returned", T0)).unwrap();
    assert!(vaults.storage().refusing().is_none());

    drop(acme);
    drop(vaults);
}

#[test]
fn a_read_only_file_system_is_refused_and_named() {
    let fs = Tmpfs::mount("size=1m,ro");
    let health = StorageHealth::new(fs.path(), 0);
    let err = health.check().unwrap_err();
    assert!(
        matches!(err, VaultError::StorageUnavailable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(health.refusing().is_some());
}
