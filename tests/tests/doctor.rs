//! `diala-edge doctor` on a real appliance directory: a healthy box passes with at most
//! warnings, and a world-readable secret and a certificate about to expire are named with what
//! to do. The certificate is made by openssl, as a sysadmin would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::{Command, Output};

use diala_edge_tests::{Appliance, tenants};
use serde_json::Value;

fn doctor(appliance: &Appliance, json: bool) -> Output {
    let mut args = vec!["doctor"];
    if json {
        args.push("--json");
    }
    appliance
        .command(&args)
        .output()
        .expect("run diala-edge doctor")
}

fn checks(output: &Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    report["checks"].as_array().unwrap().clone()
}

fn find<'a>(checks: &'a [Value], name: &str) -> Vec<&'a Value> {
    checks
        .iter()
        .filter(|c| c["check"].as_str().unwrap().starts_with(name))
        .collect()
}

/// A self-signed certificate valid for `days` days, written by openssl to `path`.
fn certificate(path: &std::path::Path, days: u32) {
    let key = path.with_extension("key");
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-subj",
            "/CN=edge.example",
            "-days",
            &days.to_string(),
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(path)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_healthy_box_passes() {
    let appliance = Appliance::new();
    appliance.write_config(&tenants(&["acme"]));
    let mut daemon = appliance.spawn();
    daemon.ready();
    daemon.stop();

    let output = doctor(&appliance, true);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let checks = checks(&output);
    for check in &checks {
        assert_ne!(check["level"], "fail", "{check}");
    }
    assert_eq!(find(&checks, "configuration")[0]["level"], "ok");
    assert_eq!(find(&checks, "state")[0]["level"], "ok", "{checks:?}");
    assert_eq!(find(&checks, "secrets")[0]["level"], "ok", "{checks:?}");
    assert_eq!(find(&checks, "certificates")[0]["level"], "ok");
    // No [asr] section: calls would not be transcribed, which the sysadmin is told.
    assert_eq!(find(&checks, "speech model")[0]["level"], "warn");
    assert!(find(&checks, "disk space").len() == 1 && find(&checks, "clock").len() == 1);

    let human = doctor(&appliance, false);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("ok    configuration")),
        "{text}"
    );
}

#[test]
fn a_world_readable_secret_and_an_expiring_certificate_are_named() {
    let appliance = Appliance::new();
    let soon = appliance.root().join("soon.pem");
    let later = appliance.root().join("later.pem");
    certificate(&soon, 5);
    certificate(&later, 400);
    // Certificates are found under any key that names one, even in sections this build does
    // not know yet; such a section makes the configuration itself fail.
    let extra = format!(
        "{}[twilio]\ntls_cert = \"soon.pem\"\nclient_certificate = \"{}\"\nca_cert = \"missing.pem\"\n",
        tenants(&["acme"]),
        later.display()
    );
    appliance.write_config(&extra);
    appliance.write_secret(
        "master-key",
        diala_edge_tests::MASTER_KEY_HEX.as_bytes(),
        0o644,
    );

    let output = doctor(&appliance, true);
    assert_eq!(output.status.code(), Some(1));
    let checks = checks(&output);
    let config = find(&checks, "configuration");
    assert_eq!(config[0]["level"], "fail");
    assert!(
        config[0]["detail"].as_str().unwrap().contains("twilio"),
        "{config:?}"
    );

    let soon_check = find(&checks, "certificate twilio.tls_cert");
    assert_eq!(soon_check[0]["level"], "warn", "{checks:?}");
    let detail = soon_check[0]["detail"].as_str().unwrap();
    assert!(detail.contains("expires in 4 day(s)") || detail.contains("expires in 5 day(s)"));
    assert!(soon_check[0]["fix"].as_str().unwrap().starts_with("renew "));
    assert_eq!(
        find(&checks, "certificate twilio.client_certificate")[0]["level"],
        "ok"
    );
    assert_eq!(
        find(&checks, "certificate twilio.ca_cert")[0]["level"],
        "fail"
    );

    // The configuration does not validate, so the secrets directory is not known from it; fix
    // the configuration and the secret is named.
    appliance.write_config(&tenants(&["acme"]));
    let output = doctor(&appliance, false);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    let key = appliance.secrets.join("master-key");
    let line = text
        .lines()
        .find(|l| l.starts_with("FAIL  secrets"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(&format!("{} is readable by every user", key.display())),
        "{line}"
    );
    assert!(
        line.ends_with(&format!("chmod 600 {}", key.display())),
        "{line}"
    );
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("1 check(s) failed"), "{err}");
}
