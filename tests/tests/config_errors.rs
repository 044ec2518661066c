//! A bad configuration is refused before anything starts, with the file, line, column and key.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Output;

use diala_edge_tests::Appliance;

// sysexits' EX_CONFIG: the unit stops restarting on it.
const EXIT_CONFIG: i32 = 78;

fn check(appliance: &Appliance, toml: &str) -> (Output, String) {
    std::fs::write(&appliance.config, toml).unwrap();
    let output = appliance.command(&["check-config"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

fn assert_refused(appliance: &Appliance, toml: &str, location: &str, key: &str, expected: &str) {
    let (output, stderr) = check(appliance, toml);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG), "{stderr}");
    let place = format!("{}:{location}: key `{key}`", appliance.config.display());
    assert!(stderr.contains(&place), "wanted `{place}` in: {stderr}");
    assert!(
        stderr.contains(expected),
        "wanted `{expected}` in: {stderr}"
    );
}

#[test]
fn a_typo_in_a_key_names_the_key_and_the_right_spelling() {
    let appliance = Appliance::new();
    let toml = "[daemon]\nshutdown_grace_sec = 3\n";
    assert_refused(
        &appliance,
        toml,
        "2:1",
        "daemon.shutdown_grace_sec",
        "`shutdown_grace_secs`",
    );
}

#[test]
fn a_wrong_type_says_what_was_expected() {
    let appliance = Appliance::new();
    let toml = "[daemon]\nshutdown_grace_secs = \"soon\"\n";
    let expected = "invalid type: string \"soon\", expected a number of seconds from 1 to 600";
    assert_refused(
        &appliance,
        toml,
        "2:23",
        "daemon.shutdown_grace_secs",
        expected,
    );
}

#[test]
fn an_out_of_range_value_gives_the_range() {
    let appliance = Appliance::new();
    let toml = "[[tenants]]\nid = \"acme\"\nname = \"Acme\"\nretention_days = 400\n";
    let expected = "integer `400`, expected a number of days from 1 to 365";
    assert_refused(
        &appliance,
        toml,
        "4:18",
        "tenants[0].retention_days",
        expected,
    );
}

#[test]
fn metrics_must_stay_on_loopback() {
    let appliance = Appliance::new();
    let toml = "[metrics]\nlisten = \"0.0.0.0:9464\"\n";
    assert_refused(
        &appliance,
        toml,
        "2:10",
        "metrics.listen",
        "a loopback address",
    );
}

#[test]
fn a_trunk_for_an_unknown_tenant_is_refused() {
    let appliance = Appliance::new();
    let toml = "[[trunks]]\nname = \"pbx\"\ntenant = \"globex\"\nsources = [\"192.0.2.1/32\"]\n";
    assert_refused(
        &appliance,
        toml,
        "3:10",
        "trunks[0].tenant",
        "no tenant `globex`",
    );
}

#[test]
fn a_number_that_is_not_e164_is_refused_without_echoing_it() {
    let appliance = Appliance::new();
    let toml = "[[tenants]]\nid = \"acme\"\nname = \"Acme\"\n\n[[trunks]]\nname = \"pbx\"\n\
                tenant = \"acme\"\nsources = [\"192.0.2.1/32\"]\nnumbers = [\"415 555 0134\"]\n";
    let (output, stderr) = check(&appliance, toml);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG), "{stderr}");
    assert!(stderr.contains("key `trunks[0].numbers[0]`"), "{stderr}");
    assert!(stderr.contains("E.164"), "{stderr}");
    assert!(!stderr.contains("555 0134"), "{stderr}");
}

#[test]
fn a_missing_file_says_which() {
    let appliance = Appliance::new();
    std::fs::remove_file(&appliance.config).unwrap();
    let output = appliance.command(&["check-config"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG), "{stderr}");
    assert!(stderr.contains(&format!(
        "cannot read the configuration {}",
        appliance.config.display()
    )));
}

#[test]
fn the_daemon_refuses_to_start_on_a_bad_config() {
    let appliance = Appliance::new();
    std::fs::write(&appliance.config, "[metrics]\nlisten = 9464\n").unwrap();
    let mut daemon = appliance.spawn();
    let exit = daemon.wait_exit(diala_edge_tests::PATIENCE);
    assert_eq!(exit.code(), Some(EXIT_CONFIG));
    assert!(
        daemon.log().contains("key `metrics.listen`"),
        "{}",
        daemon.log()
    );
}

#[test]
fn a_valid_config_is_summarised() {
    let appliance = Appliance::new();
    let output = appliance
        .command(&["check-config", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["valid"], true);
    assert_eq!(summary["tenants"][0]["id"], "acme");
    assert_eq!(summary["tenants"][0]["retention_days"], 90);
}

#[test]
fn the_shipped_default_config_is_valid() {
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../firmware-config/appliance.toml"
    );
    let output = std::process::Command::new(diala_edge_tests::binary())
        .args(["--config", shipped, "check-config"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
