//! SIGHUP re-reads the configuration; a broken one is refused and the old one keeps serving.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diala_edge_tests::{Appliance, http_get, sample, tenants};
use nix::sys::signal::Signal;

const APPLIED: &str = r#"diala_edge_config_reloads_total{outcome="applied"}"#;
const REFUSED: &str = r#"diala_edge_config_reloads_total{outcome="refused"}"#;
const TENANTS: &str = "diala_edge_tenants_configured";

#[test]
fn a_broken_config_is_refused_and_a_good_one_applied() {
    let appliance = Appliance::new();
    let mut daemon = appliance.spawn();
    let addr = daemon.ready();

    let good = std::fs::read_to_string(&appliance.config).unwrap();
    std::fs::write(
        &appliance.config,
        good.replace("shutdown_grace_secs", "shutdown_grace"),
    )
    .unwrap();
    daemon.signal(Signal::SIGHUP);
    daemon.wait_for("RELOADING=1");
    let status = daemon.wait_for("READY=1");
    assert!(status.contains("reload refused"), "{status}");
    assert!(status.contains("key `daemon.shutdown_grace`"), "{status}");

    let (_, metrics) = http_get(addr, "/metrics");
    assert_eq!(sample(&metrics, REFUSED), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, APPLIED), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, TENANTS), Some(1.0), "{metrics}");
    assert!(
        daemon.log().contains("keeping the running one"),
        "{}",
        daemon.log()
    );

    appliance.write_config(&tenants(&["acme", "globex"]));
    daemon.signal(Signal::SIGHUP);
    daemon.wait_for("RELOADING=1");
    let status = daemon.wait_for("READY=1");
    assert!(status.contains("configuration reloaded"), "{status}");
    let (_, metrics) = http_get(addr, "/metrics");
    assert_eq!(sample(&metrics, APPLIED), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, TENANTS), Some(2.0), "{metrics}");

    daemon.stop();
}

#[test]
fn a_change_that_needs_a_restart_is_reported_and_not_half_applied() {
    let appliance = Appliance::new();
    let daemon = appliance.spawn();
    let addr = daemon.ready();

    let config = std::fs::read_to_string(&appliance.config).unwrap();
    std::fs::write(
        &appliance.config,
        config.replace("127.0.0.1:0", "127.0.0.1:1"),
    )
    .unwrap();
    daemon.signal(Signal::SIGHUP);
    daemon.wait_for("READY=1");

    let (status, _) = http_get(addr, "/metrics");
    assert!(
        status.contains("200"),
        "the old listener must keep serving: {status}"
    );
    let log = daemon.log();
    assert!(log.contains("change only when the daemon restarts") && log.contains("metrics.listen"));
}
