//! `diala-edge master-key create`: a key made on the box, stored where the unit loads it, that
//! the daemon then starts with; an existing key is never overwritten.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use diala_edge_tests::Appliance;

fn create(args: &[&str], output: &Path) -> std::process::Output {
    Command::new(diala_edge_tests::binary())
        .args(["master-key", "create"])
        .args(args)
        .arg("--output")
        .arg(output)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn assert_daemon_starts_with(appliance: &Appliance, credentials: &Path) {
    let mut daemon = appliance.spawn_with(&["--log-format", "text"], |command| {
        command.env("CREDENTIALS_DIRECTORY", credentials);
    });
    daemon.ready();
    daemon.stop();
}

#[test]
fn a_plain_key_is_private_random_and_starts_the_daemon() {
    let appliance = Appliance::new();
    let credentials = appliance.root().join("credstore");
    let key = credentials.join("master-key");
    let output = create(&["--plain"], &key);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(mode(&key), 0o600);
    let bytes = std::fs::read(&key).unwrap();
    assert_eq!(bytes.len(), 32);

    let again = create(&["--plain"], &key);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));
    assert_eq!(
        std::fs::read(&key).unwrap(),
        bytes,
        "the first key must be untouched"
    );

    assert_daemon_starts_with(&appliance, &credentials);
}

#[test]
fn an_encrypted_key_decrypts_with_systemd_creds_and_starts_the_daemon() {
    let appliance = Appliance::new();
    let sealed = appliance.root().join("diala-edge.master-key");
    let output = create(&[], &sealed);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(mode(&sealed), 0o600);

    // What systemd does for LoadCredentialEncrypted=: decrypt into the credentials directory.
    let credentials = appliance.root().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    let key = credentials.join("master-key");
    let decrypt = Command::new("systemd-creds")
        .args(["decrypt", "--name=master-key"])
        .arg(&sealed)
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        decrypt.status.success(),
        "{}",
        String::from_utf8_lossy(&decrypt.stderr)
    );
    std::fs::set_permissions(&key, PermissionsExt::from_mode(0o400)).unwrap();
    assert_eq!(std::fs::read(&key).unwrap().len(), 32);

    assert_daemon_starts_with(&appliance, &credentials);
}
