//! The shipped systemd unit and firmware defaults, checked with systemd's own tools.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command
        .output()
        .expect("systemd-analyze (Debian package systemd)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_unit_is_hardened_to_an_exposure_of_at_most_1_5() {
    let unit = repo("systemd/diala-edge.service");
    let (_, report) = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&unit));
    let line = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .expect(&report);
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect(line);
    assert!(score <= 1.5, "exposure {score} is above 1.5:\n{report}");
}

#[test]
fn the_unit_verifies_against_the_built_binary() {
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(repo("systemd/diala-edge.service")).unwrap();
    let binary = diala_edge_tests::binary();
    let unit = unit.replace("/usr/bin/diala-edge", &binary.display().to_string());
    let path = dir.path().join("diala-edge.service");
    std::fs::write(&path, unit).unwrap();
    let (ok, report) = run(Command::new("systemd-analyze").arg("verify").arg(&path));
    assert!(
        ok && report.trim().is_empty(),
        "systemd-analyze verify:\n{report}"
    );
}

#[test]
fn the_unit_runs_the_daemon_as_systemd_expects_it() {
    let unit = std::fs::read_to_string(repo("systemd/diala-edge.service")).unwrap();
    for line in [
        "Type=notify",
        "RestartPreventExitStatus=78",
        "User=diala-edge",
        "StateDirectory=diala-edge",
        "LoadCredentialEncrypted=master-key:/etc/credstore.encrypted/diala-edge.master-key",
        "MemoryDenyWriteExecute=yes",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks `{line}`");
    }
    let watchdog = unit
        .lines()
        .find_map(|l| l.strip_prefix("WatchdogSec="))
        .expect("WatchdogSec=");
    assert!(watchdog.ends_with('s'), "{watchdog}");
}
