//! `diala-edge redact`: a sysadmin pipes text through the real binary and gets the tenant's
//! tokens (the same on every run, different for another tenant) and its policy.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::process::{Output, Stdio};

use diala_edge_tests::Appliance;

const INPUT: &str = "call me at four one five, uh, five five five oh one three four\n\
    card 4111 1111 1111 1111, mail jane.doe@example.com\n\
    we open at 9 and close at 17\n";

fn redact(appliance: &Appliance, args: &[&str]) -> Output {
    let mut child = appliance
        .command(&[&["redact"], args].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(INPUT.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// An appliance with two tenants whose daemon has run once, so its state exists.
fn started() -> Appliance {
    let appliance = Appliance::new();
    appliance.write_config(&format!(
        "{}[tenants.redaction]\nkeep_in_clear = [\"email\"]\n\n{}",
        diala_edge_tests::tenants(&["acme"]),
        diala_edge_tests::tenants(&["globex"])
    ));
    let mut daemon = appliance.spawn();
    daemon.ready();
    daemon.stop();
    appliance
}

#[test]
fn lines_in_redacted_lines_out() {
    let out = stdout(&redact(&Appliance::new(), &[]));
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("call me at [PHONE:"), "{out}");
    assert!(!out.contains("five five five") && !out.contains("4111") && !out.contains("jane"));
    assert_eq!(lines[2], "we open at 9 and close at 17");
}

#[test]
fn tenant_tokens_are_stable_and_tenant_bound() {
    let appliance = started();
    let acme = stdout(&redact(&appliance, &["--tenant", "acme", "--json"]));
    assert_eq!(
        acme,
        stdout(&redact(&appliance, &["--tenant", "acme", "--json"]))
    );
    let globex = stdout(&redact(&appliance, &["--tenant", "globex", "--json"]));

    let first: serde_json::Value = serde_json::from_str(acme.lines().next().unwrap()).unwrap();
    let phone = &first["entities"][0];
    assert_eq!(phone["type"], "PHONE");
    assert_eq!(
        (phone["start"].as_u64(), phone["end"].as_u64()),
        (Some(11), Some(62))
    );
    let other: serde_json::Value = serde_json::from_str(globex.lines().next().unwrap()).unwrap();
    assert_ne!(phone["token"], other["entities"][0]["token"]);

    let second: serde_json::Value = serde_json::from_str(acme.lines().nth(1).unwrap()).unwrap();
    let kept: Vec<_> = second["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].clone(), e["kept_locally"].clone()))
        .collect();
    assert_eq!(
        kept,
        [("CARD".into(), false.into()), ("EMAIL".into(), true.into())]
    );
}

#[test]
fn unknown_tenant_and_missing_state_are_refused() {
    let appliance = started();
    let output = redact(&appliance, &["--tenant", "initech"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("configured tenants: acme, globex"));

    let fresh = Appliance::new();
    let output = redact(&fresh, &["--tenant", "acme"]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no daemon state"),
        "{output:?}"
    );
}

#[test]
fn a_policy_keeping_ssns_is_a_config_error() {
    let appliance = Appliance::new();
    appliance.write_config(
        "[[tenants]]\nid = \"acme\"\nname = \"Acme\"\nredaction = { keep_in_clear = [\"ssn\"] }\n",
    );
    let output = appliance.command(&["check-config"]).output().unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("key `tenants[0].redaction.keep_in_clear`")
            && stderr.contains("`ssn` is never kept in clear"),
        "{stderr}"
    );
}
