//! The daemon and its vaults: configured tenants are opened at start, and a full disk makes
//! the daemon refuse new calls and say so, until space returns.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use diala_edge_tests::{Appliance, http_get, sample, tenants};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn configured_tenants_get_private_encrypted_vaults() {
    let appliance = Appliance::new();
    appliance.write_config(&tenants(&["acme", "globex"]));
    let mut daemon = appliance.spawn();
    daemon.ready();
    daemon.stop();

    for tenant in ["acme", "globex"] {
        let dir = appliance.state.join("tenants").join(tenant);
        let file = dir.join("vault.db");
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
    }
    assert_eq!(mode(&appliance.state.join("audit.db")), 0o600);

    // A restart opens the same vaults rather than making new ones.
    let mut daemon = appliance.spawn();
    daemon.ready();
    daemon.stop();
    assert!(
        !daemon.log().contains("creating the tenant's vault"),
        "{}",
        daemon.log()
    );
}

/// A tmpfs mounted over the appliance's state directory, unmounted when dropped.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(path: &'a Path, size: &str) -> Self {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .expect("run mount(8)");
        assert!(
            out.status.success(),
            "this test needs a small tmpfs to fill and could not mount one (run it as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(path)
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_refuses_new_calls_and_recovers_when_space_returns() {
    let appliance = Appliance::new();
    let _tmpfs = Tmpfs::mount(&appliance.state, "80m");

    // Leave less than the 64 MiB the daemon keeps free for calls already running.
    let filler = appliance.state.join("filler");
    std::fs::write(&filler, vec![0u8; 40 * 1024 * 1024]).unwrap();
    let mut daemon = appliance.spawn();
    let ready = daemon.wait_for("READY=1");
    assert!(ready.contains("refusing new calls"), "{ready}");
    assert!(
        daemon.log().contains("new calls are refused"),
        "{}",
        daemon.log()
    );
    let addr = daemon.ready_addr_from(&ready);
    let (_, body) = http_get(addr, "/metrics");
    assert_eq!(
        sample(&body, "diala_edge_storage_refusing_new_calls"),
        Some(1.0),
        "{body}"
    );

    std::fs::remove_file(&filler).unwrap();
    daemon.wait_for("STATUS=serving; storage has room again");
    let (_, body) = http_get(addr, "/metrics");
    assert_eq!(
        sample(&body, "diala_edge_storage_refusing_new_calls"),
        Some(0.0),
        "{body}"
    );
    daemon.stop();
}
