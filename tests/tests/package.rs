//! The .deb packages as a sysadmin meets them: lintian-clean, installable on a fresh Debian 12
//! root, leaving the right user, files and modes, and a daemon that starts there.
//!
//! `make deb` builds the packages into the directory `DIALA_DEB_DIR` names (`make test` sets it).

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};

use diala_edge_tests::debian::{deb, run};
use diala_edge_tests::{MASTER_KEY_HEX, PATIENCE};

#[test]
fn lintian_finds_no_error_and_no_unexplained_warning() {
    for arch in ["amd64", "arm64"] {
        let output = Command::new("lintian")
            .args(["--fail-on", "error,warning", "--no-tag-display-limit"])
            .arg(deb(arch))
            .output()
            .expect("lintian (Debian package lintian)");
        let report = String::from_utf8_lossy(&output.stdout);
        let problems: Vec<_> = report
            .lines()
            .filter(|l| l.starts_with("E:") || l.starts_with("W:"))
            .collect();
        assert!(
            problems.is_empty() && output.status.success(),
            "{arch}:\n{report}"
        );
    }
}

#[test]
fn the_arm64_binary_runs_under_qemu() {
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb("arm64"))
        .arg(dir.path()));
    let binary = dir.path().join("usr/bin/diala-edge");
    let output = run(Command::new("qemu-aarch64-static")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(&binary)
        .arg("version"));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("target:      aarch64-unknown-linux-gnu"),
        "{text}"
    );
    assert!(text.contains("sqlcipher:   4."), "{text}");
}

#[test]
fn the_package_installs_on_a_fresh_debian_root_and_the_daemon_starts_there() {
    if !nix::unistd::Uid::effective().is_root() {
        panic!("the install test needs root for debootstrap and chroot (CI runs as root)");
    }
    let root =
        diala_edge_tests::debian::fresh_root("bookworm", "libsystemd0,libssl3,ca-certificates");
    let inside = |p: &str| root.path().join(p.trim_start_matches('/'));

    std::fs::copy(deb("amd64"), inside("/tmp/diala-edge.deb")).unwrap();
    chroot(root.path(), &["dpkg", "-i", "/tmp/diala-edge.deb"]);

    // The user and groups, the directories and their modes, as the package leaves them.
    let passwd = std::fs::read_to_string(inside("/etc/passwd")).unwrap();
    let user = passwd
        .lines()
        .find(|l| l.starts_with("diala-edge:"))
        .expect("user diala-edge");
    assert!(
        user.ends_with(":/var/lib/diala-edge:/usr/sbin/nologin"),
        "{user}"
    );
    let group = std::fs::read_to_string(inside("/etc/group")).unwrap();
    assert!(
        group.lines().any(|l| l.starts_with("diala-admin:")),
        "{group}"
    );
    let uid: u32 = user.split(':').nth(2).unwrap().parse().unwrap();
    let mode = |p: &str| std::fs::metadata(inside(p)).unwrap().permissions().mode() & 0o7777;
    let owner = |p: &str| std::fs::metadata(inside(p)).unwrap().uid();
    assert_eq!(
        (mode("/var/lib/diala-edge"), owner("/var/lib/diala-edge")),
        (0o700, uid)
    );
    assert_eq!(
        (mode("/run/diala-edge"), owner("/run/diala-edge")),
        (0o755, uid)
    );
    assert_eq!(mode("/etc/diala-edge"), 0o750);
    assert_eq!(mode("/etc/diala-edge/appliance.toml"), 0o640);
    assert_eq!(mode("/usr/bin/diala-edge"), 0o755);
    let conffiles = chroot(
        root.path(),
        &["dpkg-query", "-W", "-f=${Conffiles}", "diala-edge"],
    );
    assert!(
        conffiles.contains("/etc/diala-edge/appliance.toml"),
        "{conffiles}"
    );

    // A man page per command and completions for three shells, made from the binary's own
    // command definition.
    let page = chroot(
        root.path(),
        &["zcat", "/usr/share/man/man1/diala-edge-call-show.1.gz"],
    );
    assert!(page.contains("\\-\\-reveal"), "{page}");
    let bash = std::fs::read_to_string(inside("/usr/share/bash-completion/completions/diala-edge"));
    assert!(bash.unwrap().contains("rotate-master"));
    assert!(inside("/usr/share/zsh/vendor-completions/_diala-edge").exists());
    assert!(inside("/usr/share/fish/vendor_completions.d/diala-edge.fish").exists());

    let check = [
        "diala-edge",
        "--config",
        "/etc/diala-edge/appliance.toml",
        "check-config",
    ];
    assert!(chroot(root.path(), &check).contains("valid"));

    start_daemon_inside(root.path(), uid);

    // Remove keeps the state; purge removes it.
    chroot(root.path(), &["dpkg", "-r", "diala-edge"]);
    assert!(
        inside("/var/lib/diala-edge/keyring.db").exists(),
        "remove must keep the state"
    );
    chroot(root.path(), &["dpkg", "-P", "diala-edge"]);
    assert!(
        !inside("/var/lib/diala-edge").exists(),
        "purge must remove the state"
    );
}

/// Starts `diala-edge serve` inside the root as its own user, with a credentials directory as
/// systemd would hand it over, and waits for READY=1.
fn start_daemon_inside(root: &Path, uid: u32) {
    let credentials = root.join("run/credentials/diala-edge.service");
    std::fs::create_dir_all(&credentials).unwrap();
    let key = credentials.join("master-key");
    std::fs::write(&key, MASTER_KEY_HEX).unwrap();
    std::fs::set_permissions(&key, PermissionsExt::from_mode(0o400)).unwrap();
    nix::unistd::chown(&key, Some(nix::unistd::Uid::from_raw(uid)), None).unwrap();

    let notify_path = root.join("run/notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    std::fs::set_permissions(&notify_path, PermissionsExt::from_mode(0o777)).unwrap();
    notify.set_read_timeout(Some(PATIENCE)).unwrap();

    let daemon = Command::new("chroot")
        .arg(root)
        .args([
            "setpriv",
            "--reuid=diala-edge",
            "--regid=diala-edge",
            "--init-groups",
        ])
        .args([
            "diala-edge",
            "--config",
            "/etc/diala-edge/appliance.toml",
            "serve",
        ])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("NOTIFY_SOCKET", "/run/notify.sock")
        .env(
            "CREDENTIALS_DIRECTORY",
            "/run/credentials/diala-edge.service",
        )
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 4096];
    let ready = loop {
        match notify.recv(&mut buf) {
            Ok(n) if buf[..n].split(|&b| b == b'\n').any(|l| l == b"READY=1") => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(daemon.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let output = daemon.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        ready,
        "the daemon never became ready inside the root:\n{log}"
    );
    assert_eq!(output.status.code(), Some(0), "{log}");
}

fn chroot(root: &Path, args: &[&str]) -> String {
    let output = run(Command::new("chroot")
        .arg(root)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
    String::from_utf8_lossy(&output.stdout).into_owned()
}
