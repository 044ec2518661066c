//! The daemon's life as systemd sees it: readiness, the watchdog, and a graceful stop.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use diala_edge_tests::{Appliance, http_get, sample};
use nix::sys::signal::Signal;

// The configured grace (5 s) plus room for a loaded CI machine to schedule the exit.
const STOP_BOUND: Duration = Duration::from_secs(15);

#[test]
fn ready_once_serving_and_stops_cleanly_on_sigterm() {
    let appliance = Appliance::new();
    let mut daemon = appliance.spawn();
    let metrics_addr = daemon.ready();

    let (status, body) = http_get(metrics_addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    assert_eq!(
        sample(&body, "diala_edge_tenants_configured"),
        Some(1.0),
        "{body}"
    );
    assert!(body.contains("diala_edge_build_info{"), "{body}");
    assert!(body.contains("process_resident_memory_bytes"), "{body}");

    // The state is open by the time READY=1 is sent.
    let keyring = appliance.state.join("keyring.db");
    assert_eq!(
        std::fs::metadata(&keyring).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&appliance.state)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    daemon.signal(Signal::SIGTERM);
    daemon.wait_for("STOPPING=1");
    let exit = daemon.wait_exit(STOP_BOUND);
    assert_eq!(exit.code(), Some(0), "{}", daemon.log());
    assert!(daemon.log().contains("stopped"), "{}", daemon.log());
}

#[test]
fn sigint_stops_like_sigterm() {
    let appliance = Appliance::new();
    let mut daemon = appliance.spawn();
    daemon.ready();
    daemon.signal(Signal::SIGINT);
    assert_eq!(
        daemon.wait_exit(STOP_BOUND).code(),
        Some(0),
        "{}",
        daemon.log()
    );
}

#[test]
fn metrics_refuses_and_counts_unknown_paths() {
    let appliance = Appliance::new();
    let daemon = appliance.spawn();
    let addr = daemon.ready();

    let (status, _) = http_get(addr, "/admin");
    assert!(status.contains("404"), "{status}");
    let (_, body) = http_get(addr, "/metrics");
    let refused = r#"diala_edge_refused_requests_total{listener="metrics",reason="not_found"}"#;
    assert_eq!(sample(&body, refused), Some(1.0), "{body}");
}

#[test]
fn pings_the_watchdog_when_armed() {
    let appliance = Appliance::new();
    let daemon = appliance.spawn_with(&["--log-format", "text"], |command| {
        command.env("WATCHDOG_USEC", "200000");
    });
    daemon.ready();
    daemon.wait_for("WATCHDOG=1");
    daemon.wait_for("WATCHDOG=1");
}

#[test]
fn keeps_its_identity_across_restarts() {
    let appliance = Appliance::new();
    let first_id = {
        let mut daemon = appliance.spawn();
        daemon.ready();
        daemon.stop();
        appliance_id(&daemon.log())
    };
    let mut daemon = appliance.spawn();
    daemon.ready();
    assert_eq!(appliance_id(&daemon.log()), first_id);
    daemon.stop();
}

fn appliance_id(log: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.contains("state open"))
        .expect("state open line");
    let id = line.split("appliance=").nth(1).expect("appliance field");
    id.split_whitespace().next().unwrap_or_default().to_owned()
}

#[test]
fn drops_root_to_the_configured_user_after_binding() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: dropping root needs the test to run as root");
        return;
    }
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .expect("user nobody");
    let appliance = Appliance::new();
    // The daemon's user must be able to reach its state once it is no longer root.
    std::fs::set_permissions(appliance.root(), PermissionsExt::from_mode(0o755)).unwrap();
    let config = std::fs::read_to_string(&appliance.config).unwrap();
    let config = config.replace("[daemon]\n", "[daemon]\nuser = \"nobody\"\n");
    std::fs::write(&appliance.config, config).unwrap();

    let mut daemon = appliance.spawn();
    daemon.ready();
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid())).unwrap();
    let uids = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let expected = nobody.uid.as_raw().to_string();
    assert!(
        uids.split_whitespace().skip(1).all(|uid| uid == expected),
        "{uids}"
    );
    let keyring = std::fs::metadata(appliance.state.join("keyring.db")).unwrap();
    assert_eq!(keyring.uid(), nobody.uid.as_raw());

    daemon.stop();
}
