//! Secrets come from credential files only, readable by the daemon alone, and never show up in
//! the environment, the command line or the log of the running process.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;

use diala_edge_tests::{Appliance, MASTER_KEY_HEX, PATIENCE};
use nix::unistd::{Uid, User, chown};

const EXIT_CONFIG: i32 = 78;

#[test]
fn a_group_readable_secret_file_is_refused_with_the_fix() {
    let appliance = Appliance::new();
    appliance.write_secret("master-key", MASTER_KEY_HEX.as_bytes(), 0o644);
    let mut daemon = appliance.spawn();
    assert_eq!(daemon.wait_exit(PATIENCE).code(), Some(EXIT_CONFIG));
    let log = daemon.log();
    assert!(log.contains("mode 0644"), "{log}");
    assert!(log.contains(&format!(
        "chmod 600 {}",
        appliance.secrets.join("master-key").display()
    )));
}

#[test]
fn a_secret_in_the_environment_is_refused_without_echoing_it() {
    for name in ["DIALA_MASTER_KEY", "TWILIO_AUTH_TOKEN"] {
        let appliance = Appliance::new();
        let mut daemon = appliance.spawn_with(&["--log-format", "text"], |command| {
            command.env(name, MASTER_KEY_HEX);
        });
        assert_eq!(daemon.wait_exit(PATIENCE).code(), Some(EXIT_CONFIG));
        let log = daemon.log();
        assert!(
            log.contains(name) && log.contains("systemd credentials"),
            "{log}"
        );
        assert!(!log.contains(MASTER_KEY_HEX), "{log}");
    }
}

#[test]
fn a_missing_or_malformed_master_key_says_what_to_do() {
    let appliance = Appliance::new();
    appliance.write_secret("master-key", b"not a key", 0o600);
    let mut daemon = appliance.spawn();
    assert_eq!(daemon.wait_exit(PATIENCE).code(), Some(EXIT_CONFIG));
    assert!(
        daemon.log().contains("head -c 32 /dev/urandom"),
        "{}",
        daemon.log()
    );

    std::fs::remove_file(appliance.secrets.join("master-key")).unwrap();
    let mut daemon = appliance.spawn();
    assert_eq!(daemon.wait_exit(PATIENCE).code(), Some(EXIT_CONFIG));
    assert!(
        daemon.log().contains("cannot read secret"),
        "{}",
        daemon.log()
    );
}

#[test]
fn the_systemd_credentials_directory_wins() {
    let appliance = Appliance::new();
    // The configured directory holds a broken key; the credentials directory a good one.
    appliance.write_secret("master-key", b"broken", 0o600);
    let credentials = appliance.root().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    let key = credentials.join("master-key");
    std::fs::write(&key, MASTER_KEY_HEX).unwrap();
    std::fs::set_permissions(&key, PermissionsExt::from_mode(0o400)).unwrap();

    let mut daemon = appliance.spawn_with(&["--log-format", "text"], |command| {
        command.env("CREDENTIALS_DIRECTORY", &credentials);
    });
    daemon.ready();
    daemon.stop();
}

#[test]
fn the_running_daemon_holds_no_secret_where_others_can_read_it() {
    let appliance = Appliance::new();
    let daemon = appliance.spawn();
    daemon.ready();

    let proc = format!("/proc/{}", daemon.pid());
    let environ = std::fs::read(format!("{proc}/environ")).unwrap();
    let cmdline = std::fs::read(format!("{proc}/cmdline")).unwrap();
    let raw_key = hex_decode(MASTER_KEY_HEX);
    for (what, bytes) in [("environ", &environ), ("cmdline", &cmdline)] {
        let text = String::from_utf8_lossy(bytes).to_lowercase();
        assert!(
            !text.contains(MASTER_KEY_HEX),
            "{what} holds the master key"
        );
        assert!(
            !bytes.windows(raw_key.len()).any(|w| w == raw_key),
            "{what} holds the key"
        );
    }
    assert!(!daemon.log().contains(MASTER_KEY_HEX), "{}", daemon.log());
}

#[test]
fn the_daemon_makes_itself_non_dumpable() {
    // The kernel gives a non-dumpable process's /proc files to root; a dumpable one's belong
    // to the process's own user. So the daemon must run as someone other than root here.
    let appliance = Appliance::new();
    let as_nobody = Uid::effective().is_root();
    if as_nobody {
        let nobody = User::from_name("nobody").unwrap().expect("user nobody");
        for path in [
            appliance.root(),
            &appliance.secrets,
            &appliance.secrets.join("master-key"),
        ] {
            chown(path, Some(nobody.uid), Some(nobody.gid)).unwrap();
        }
        std::fs::set_permissions(appliance.root(), PermissionsExt::from_mode(0o755)).unwrap();
    }
    let daemon = appliance.spawn_with(&["--log-format", "text"], |command| {
        if as_nobody {
            command.uid(65534).gid(65534);
        }
    });
    daemon.ready();
    let owner = std::fs::metadata(format!("/proc/{}/environ", daemon.pid()))
        .unwrap()
        .uid();
    assert_eq!(
        owner, 0,
        "the daemon's /proc entries belong to its own user: it is dumpable"
    );
}

#[test]
fn a_secret_owned_by_another_user_is_refused() {
    if !Uid::effective().is_root() {
        eprintln!("skipped: giving a file to another user needs the test to run as root");
        return;
    }
    let appliance = Appliance::new();
    let nobody = User::from_name("nobody").unwrap().expect("user nobody");
    chown(
        &appliance.secrets.join("master-key"),
        Some(nobody.uid),
        None,
    )
    .unwrap();
    let mut daemon = appliance.spawn();
    assert_eq!(daemon.wait_exit(PATIENCE).code(), Some(EXIT_CONFIG));
    assert!(
        daemon.log().contains("is owned by uid 65534"),
        "{}",
        daemon.log()
    );
    assert!(daemon.log().contains("run `chown root"), "{}", daemon.log());
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}
