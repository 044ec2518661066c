//! What the daemon logs is scrubbed before it is written, whatever the sink.
//!
//! The configuration is put under a directory whose name holds a phone number and an email, so
//! the daemon's own start-up line carries both, as a log line about a caller would.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use diala_edge_tests::Appliance;

const PHONE: &str = "+1 415 555 0134";
const EMAIL: &str = "jane.doe@example.com";

fn run_and_collect(format: &str) -> String {
    let appliance = Appliance::under(&Path::new(EMAIL).join(PHONE));
    let mut daemon = appliance.spawn_with(&["--log-format", format], |_| {});
    daemon.ready();
    daemon.stop();
    daemon.log()
}

fn assert_scrubbed(log: &str) {
    assert!(
        log.contains("starting"),
        "the start-up line is missing: {log}"
    );
    assert!(
        !log.contains("555 0134") && !log.contains("5550134"),
        "phone leaked: {log}"
    );
    assert!(!log.contains("jane.doe"), "email leaked: {log}");
    assert!(
        log.contains("[PHONE:") && log.contains("[EMAIL:"),
        "tokens missing: {log}"
    );
}

#[test]
fn text_lines_are_scrubbed() {
    assert_scrubbed(&run_and_collect("text"));
}

#[test]
fn json_lines_are_scrubbed_and_parse() {
    let log = run_and_collect("json");
    assert_scrubbed(&log);
    for line in log.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("one JSON object a line");
        assert!(
            record["level"].is_string() && record["message"].is_string(),
            "{line}"
        );
    }
}
