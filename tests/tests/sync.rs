//! Control-plane sync end to end with the real binaries: the reference control plane as its
//! own process, `diala-edge enroll` and `sync status`, and `serve` connecting, reporting its
//! health and applying a retention push, all over QUIC with mutual TLS on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diala_edge_tests::{Appliance, PATIENCE, binary, http_get, sample};
use serde_json::Value;

/// The reference control plane of this build, next to `diala-edge`.
fn control_plane_binary() -> PathBuf {
    let path = binary().with_file_name("diala-control-plane");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p diala-cloud` first",
        path.display()
    );
    path
}

fn control_plane(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(control_plane_binary())
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The control plane's process, killed when the test ends, passed or failed.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `diala-control-plane serve` on a free port; returns the process and `host:port`.
fn serve_control_plane(dir: &Path) -> (Killed, String) {
    let mut child = Command::new(control_plane_binary())
        .arg("--dir")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().to_owned();
    (Killed(child), format!("localhost:{port}"))
}

fn run(appliance: &Appliance, args: &[&str]) -> Output {
    appliance.command(args).output().expect("run diala-edge")
}

fn status(appliance: &Appliance) -> Value {
    let out = run(appliance, &["sync", "status", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn store(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("store.db")).unwrap()
}

#[test]
fn an_enrolled_daemon_syncs_and_applies_a_retention_push() {
    let cp_dir = tempfile::tempdir().unwrap();
    control_plane(cp_dir.path(), &["init", "localhost"]);
    let token = control_plane(cp_dir.path(), &["token"]);
    let (_cp, address) = serve_control_plane(cp_dir.path());
    let appliance = Appliance::new();
    assert_eq!(status(&appliance)["enrolled"], false);

    let ca = cp_dir.path().join("ca.pem");
    let args = ["enroll", "--token", &token, "--control-plane", &address];
    let out = run(
        &appliance,
        &[&args[..], &["--ca", ca.to_str().unwrap()]].concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let enrolled = status(&appliance);
    assert_eq!(enrolled["control_plane"], address.as_str());
    let appliance_id = enrolled["appliance_id"].as_str().unwrap().to_owned();
    let key = appliance.state.join("sync/client.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    let mut daemon = appliance.spawn();
    let metrics = daemon.ready();
    eventually("the daemon reported its health", || {
        let health: i64 = store(cp_dir.path())
            .query_row(
                "SELECT count(*) FROM health WHERE appliance_id = ?1",
                [&appliance_id],
                |r| r.get(0),
            )
            .unwrap();
        health > 0
    });
    eventually("sync status says connected", || {
        status(&appliance)["sync"]["state"] == "connected"
    });
    let (_, page) = http_get(metrics, "/metrics");
    assert_eq!(sample(&page, "diala_edge_sync_connected"), Some(1.0));

    let push = control_plane(cp_dir.path(), &["retention", &appliance_id, "acme", "7"]);
    eventually("the push was answered", || {
        store(cp_dir.path())
            .query_row("SELECT applied FROM commands WHERE id = ?1", [&push], |r| {
                r.get::<_, Option<bool>>(0)
            })
            .unwrap()
            .is_some()
    });
    let applied: bool = store(cp_dir.path())
        .query_row("SELECT applied FROM commands WHERE id = ?1", [&push], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(applied);
    daemon.stop();

    let master =
        diala_vault::MasterKey::from_credential(diala_edge_tests::MASTER_KEY_HEX.as_bytes())
            .unwrap();
    let audit = diala_vault::AuditLog::open(&appliance.state, &master).unwrap();
    let by_cp = audit
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.actor == "control-plane" && r.action == "settings.apply")
        .count();
    assert_eq!(by_cp, 2, "started and succeeded");
}
