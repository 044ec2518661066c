//! TOTP enrolment and step-up through the real daemon: root enrolls a user, the user logs in
//! with the current code once, and a code is never accepted twice. Expiry after five minutes
//! is tested on an injected clock in the daemon's unit tests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::os::unix::fs::PermissionsExt as _;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use diala_edge_tests::{Appliance, MASTER_KEY_HEX, tenants};
use diala_vault::{AuditLog, MasterKey};
use serde_json::Value;
use totp_rs::{Algorithm, Secret, TOTP};

fn appliance() -> Appliance {
    let appliance = Appliance::new();
    appliance.write_config(&tenants(&["acme"]));
    appliance
}

fn run(appliance: &Appliance, args: &[&str], stdin: &str) -> Output {
    appliance.run_with_input(args, stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key(secret: &str) -> TOTP {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new(Algorithm::SHA1, 6, 0, 30, bytes).unwrap()
}

#[test]
fn root_enrolls_a_user_who_steps_up_once_per_code() {
    let appliance = appliance();
    let mut daemon = appliance.spawn();
    daemon.ready();

    // Before enrolment there is nothing to log in with.
    let output = run(&appliance, &["login"], "123456\n");
    assert_eq!(output.status.code(), Some(77), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("no TOTP secret is enrolled for uid 0"));

    let human = run(&appliance, &["admin", "totp", "enroll", "root"], "");
    assert_eq!(human.status.code(), Some(0), "{}", text(&human.stderr));
    let shown = text(&human.stdout);
    assert!(
        shown.contains('█') || shown.contains('▀'),
        "no QR code:\n{shown}"
    );
    assert!(
        shown.contains("uri:    otpauth://totp/diala-edge:root?secret="),
        "{shown}"
    );

    // Enrolling again replaces the secret; the JSON answer holds the new one.
    let output = run(
        &appliance,
        &["admin", "totp", "enroll", "root", "--json"],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let enrolled: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(enrolled["user"], "root");
    assert_eq!(enrolled["uid"], 0);
    let secret = enrolled["secret"].as_str().unwrap();
    assert!(enrolled["uri"].as_str().unwrap().contains(secret));
    let file = appliance.state.join("admin-totp").join("0");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let key = key(secret);
    let stale = key.generate(now_secs() - 3600);
    let output = run(&appliance, &["login"], &format!("{stale}\n"));
    assert_eq!(output.status.code(), Some(77), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("not valid now"));

    let code = key.generate(now_secs());
    let output = run(&appliance, &["login", "--json"], &format!("{code}\n"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let granted: Value = serde_json::from_slice(&output.stdout).unwrap();
    let until = granted["step_up_until_ms"].as_i64().unwrap();
    let now_ms = i64::try_from(now_secs() * 1000).unwrap();
    assert!(
        until > now_ms && until <= now_ms + 5 * 60 * 1000 + 1000,
        "{granted}"
    );

    let output = run(&appliance, &["login"], &format!("{code}\n"));
    assert_eq!(output.status.code(), Some(77), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("already used"));

    let status = run(&appliance, &["status", "--json"], "");
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["step_up_until_ms"].as_i64(), Some(until));

    let output = run(
        &appliance,
        &["admin", "totp", "enroll", "no-such-user-x"],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("there is no Unix user `no-such-user-x`"));
    daemon.stop();

    assert!(!daemon.log().contains(&code), "a code reached the log");
    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    let audit = AuditLog::open(&appliance.state, &master).unwrap();
    let logins: Vec<_> = audit
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "admin.login" && r.outcome != "started")
        .map(|r| r.outcome)
        .collect();
    assert_eq!(logins, ["failed", "failed", "succeeded", "failed"]);
    let enrolments = audit
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "admin.totp-enroll" && r.target == "root")
        .count();
    assert_eq!(enrolments, 4, "two enrolments, each started and succeeded");
}
