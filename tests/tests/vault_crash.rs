//! kill -9 of a process writing segments: every segment it reported stored is there after the
//! restart, and both integrity checks are clean.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use diala_edge_tests::MASTER_KEY_HEX;
use diala_vault::{MasterKey, SystemClock, VaultOptions, Vaults};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[test]
fn segments_reported_stored_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut reported = Vec::new();
    let mut calls = Vec::new();
    for round in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vault-writer"))
            .arg(dir.path())
            .arg(MASTER_KEY_HEX)
            .arg("1000000")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.next().unwrap().unwrap();
        calls.push(ready.strip_prefix("ready ").unwrap().to_owned());

        // Kill it mid-stream, at a different point each round.
        let target = 50 + round * 137;
        let mut ids = Vec::new();
        for line in lines.by_ref() {
            ids.push(line.unwrap().parse::<i64>().unwrap());
            if ids.len() == target {
                kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
                break;
            }
        }
        // Ids printed between the kill and the process's death were also committed.
        ids.extend(
            lines
                .map_while(Result::ok)
                .filter_map(|l| l.parse::<i64>().ok()),
        );
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        reported.push(ids);
    }

    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    let options = VaultOptions {
        min_free_bytes: 0,
        outbox_cap: u64::MAX,
    };
    let vaults = Vaults::open(dir.path(), master, options, Arc::new(SystemClock)).unwrap();
    let acme = vaults.open_tenant("acme").unwrap();
    assert_eq!(acme.integrity_problems().unwrap(), Vec::<String>::new());
    for (call, ids) in calls.iter().zip(&reported) {
        let stored: Vec<i64> = acme
            .segments(call)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert!(ids.len() >= 50, "{call}: only {} reported", ids.len());
        for id in ids {
            assert!(
                stored.contains(id),
                "{call}: segment {id} was reported stored but is gone"
            );
        }
    }
}
