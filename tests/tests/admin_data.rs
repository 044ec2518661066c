//! The sysadmin's data commands end to end: calls and segments stored in real tenant vaults
//! through the vault API before the daemon starts, then listed, shown, revealed, exported,
//! retained, rekeyed and deleted with the real CLI over the real admin socket, with a real TOTP
//! step-up, and every action found in the audit chain afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use diala_edge_tests::{Appliance, MASTER_KEY_HEX, tenants};
use diala_vault::{
    AuditLog, DAY_MS, MasterKey, NewCall, NewSegment, SystemClock, VaultError, VaultOptions, Vaults,
};
use serde_json::Value;
use totp_rs::{Algorithm, Secret, TOTP};

/// A phone number the policy keeps locally; it must show only when revealed.
const KEPT: &str = "call me back on 415 555 0134 please";
const REDACTED: &str = "call me back on [PHONE:7f3a] please";

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

fn segment(start_ms: i64, end_ms: i64, text: Option<&str>, redacted: &str) -> NewSegment {
    NewSegment {
        track: "caller".to_owned(),
        start_ms,
        end_ms,
        text: text.map(str::to_owned),
        redacted: redacted.to_owned(),
        confidence: 0.92,
    }
}

fn open_vaults(state: &Path, key_hex: &str) -> Vaults {
    let master = MasterKey::from_credential(key_hex.as_bytes()).unwrap();
    let options = VaultOptions::default();
    Vaults::open(state, master, options, Arc::new(SystemClock)).unwrap()
}

/// Stores, before the daemon starts: two calls for acme (one with kept text), a two-day-old
/// call for globex, and a tenant `gamma` (not configured) with one call.
fn store_calls(appliance: &Appliance) {
    let vaults = open_vaults(&appliance.state, MASTER_KEY_HEX);
    let now = now_ms();
    let acme = vaults.create_tenant("test", "acme", "Tenant acme").unwrap();
    let call = |id: &str, at| NewCall {
        id: id.to_owned(),
        trunk: "twilio".to_owned(),
        started_at_ms: at,
    };
    acme.begin_call(&call("CA-first", now - 3_600_000)).unwrap();
    acme.insert_segments(
        "CA-first",
        &[
            segment(250, 2_750, Some(KEPT), REDACTED),
            segment(3_723_004, 3_725_000, None, "thanks <bye> & see you"),
        ],
    )
    .unwrap();
    acme.end_call("CA-first", now - 3_000_000).unwrap();
    acme.begin_call(&call("CA-second", now - 60_000)).unwrap();
    acme.insert_segment("CA-second", &segment(0, 900, None, "hello"))
        .unwrap();
    let globex = vaults
        .create_tenant("test", "globex", "Tenant globex")
        .unwrap();
    globex
        .begin_call(&call("GX-old", now - 2 * DAY_MS))
        .unwrap();
    globex
        .insert_segment("GX-old", &segment(0, 1_000, None, "old call"))
        .unwrap();
    let gamma = vaults.create_tenant("test", "gamma", "Gamma").unwrap();
    gamma.begin_call(&call("GM-1", now)).unwrap();
    gamma
        .insert_segment("GM-1", &segment(0, 1_000, Some(KEPT), REDACTED))
        .unwrap();
    vaults.checkpoint_all().unwrap();
}

fn run(appliance: &Appliance, args: &[&str], stdin: &str) -> Output {
    appliance.run_with_input(args, stdin)
}

fn ok(appliance: &Appliance, args: &[&str]) -> String {
    let output = run(appliance, args, "");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {err}");
    String::from_utf8(output.stdout).unwrap()
}

fn json(appliance: &Appliance, args: &[&str]) -> Value {
    serde_json::from_str(&ok(appliance, args)).expect("--json prints one JSON object")
}

/// Runs a command that must be refused for want of a step-up.
fn needs_step_up(appliance: &Appliance, args: &[&str]) {
    let output = run(appliance, args, "");
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(77), "{args:?}: {err}");
    assert!(err.contains("run `diala-edge login`"), "{args:?}: {err}");
    assert!(output.stdout.is_empty(), "{args:?} printed something");
}

/// Enrols root and steps up with the current code.
fn step_up(appliance: &Appliance) -> TOTP {
    let enrolled = json(appliance, &["admin", "totp", "enroll", "root", "--json"]);
    let secret = enrolled["secret"].as_str().unwrap();
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 0, 30, bytes).unwrap();
    let code = totp.generate_current().unwrap();
    let output = run(appliance, &["login"], &format!("{code}\n"));
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    totp
}

/// `HH:MM:SS<sep>mmm` as milliseconds.
fn parse_time(text: &str, sep: char) -> i64 {
    let (hms, millis) = text.split_once(sep).unwrap();
    let parts: Vec<i64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    assert_eq!(parts.len(), 3, "{text}");
    assert_eq!(millis.len(), 3, "{text}");
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + millis.parse::<i64>().unwrap()
}

/// The cue timings of a WebVTT or SRT file.
fn cue_times(text: &str, sep: char) -> Vec<(i64, i64)> {
    text.lines()
        .filter_map(|l| l.split_once(" --> "))
        .map(|(a, b)| (parse_time(a, sep), parse_time(b, sep)))
        .collect()
}

#[test]
fn calls_are_redacted_until_a_step_up_and_exports_parse() {
    let appliance = Appliance::new();
    appliance.write_config(&tenants(&["acme", "globex"]));
    store_calls(&appliance);
    let mut daemon = appliance.spawn();
    daemon.ready();

    let list = json(&appliance, &["call", "list", "--tenant", "acme", "--json"]);
    let ids: Vec<_> = list["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CA-second", "CA-first"], "newest first");
    assert_eq!(list["calls"][1]["segments"], 2);
    let table = ok(&appliance, &["call", "list", "--tenant", "acme"]);
    assert!(table.starts_with("CALL "), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    let shown = ok(
        &appliance,
        &["call", "show", "--tenant", "acme", "CA-first"],
    );
    assert!(shown.contains(REDACTED), "{shown}");
    assert!(!shown.contains("415 555 0134"), "{shown}");
    let shown = json(
        &appliance,
        &["call", "show", "--tenant", "acme", "CA-first", "--json"],
    );
    assert_eq!(shown["segments"][0]["text"], REDACTED);
    assert_eq!(shown["segments"][0]["revealed"], false);

    // A call of another tenant is answered exactly as a call that does not exist.
    let foreign = run(
        &appliance,
        &["call", "show", "--tenant", "globex", "CA-first"],
        "",
    );
    let random = run(
        &appliance,
        &["call", "show", "--tenant", "globex", "CA-nothing"],
        "",
    );
    assert_eq!(foreign.status.code(), random.status.code());
    let text = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        text(&foreign).replace("CA-first", "X"),
        text(&random).replace("CA-nothing", "X")
    );

    for args in [
        &["call", "show", "--tenant", "acme", "CA-first", "--reveal"][..],
        &["transcript", "export", "--tenant", "acme"],
        &["retention", "run"],
        &["audit", "export"],
        &["tenant", "set", "globex", "--retention-days", "1"],
        &["keys", "rotate-tenant", "--tenant", "acme"],
        &["tenant", "delete", "gamma", "--yes"],
    ] {
        needs_step_up(&appliance, args);
    }

    step_up(&appliance);
    let revealed = json(
        &appliance,
        &[
            "call", "show", "--tenant", "acme", "CA-first", "--reveal", "--json",
        ],
    );
    assert_eq!(revealed["segments"][0]["text"], KEPT);
    assert_eq!(revealed["segments"][0]["revealed"], true);
    // Where the policy kept only the redacted text, that is all a reveal shows.
    assert_eq!(revealed["segments"][1]["text"], "thanks <bye> & see you");
    assert_eq!(revealed["segments"][1]["revealed"], false);

    let first = [
        "transcript",
        "export",
        "--tenant",
        "acme",
        "--call",
        "CA-first",
    ];
    let vtt = ok(&appliance, &[&first[..], &["--format", "vtt"][..]].concat());
    assert!(vtt.starts_with("WEBVTT\n\n"), "{vtt}");
    assert_eq!(cue_times(&vtt, '.'), [(250, 2_750), (3_723_004, 3_725_000)]);
    assert!(
        vtt.contains("<v caller>thanks &lt;bye&gt; &amp; see you\n"),
        "{vtt}"
    );
    assert!(vtt.contains(REDACTED) && !vtt.contains("415 555"), "{vtt}");

    let srt_path = appliance.root().join("first.srt");
    let srt_arg = srt_path.to_str().unwrap();
    let mut srt_args = first.to_vec();
    srt_args.extend(["--format", "srt", "--reveal", "--output", srt_arg]);
    ok(&appliance, &srt_args);
    let srt = std::fs::read_to_string(&srt_path).unwrap();
    let mode = std::fs::metadata(&srt_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(cue_times(&srt, ','), [(250, 2_750), (3_723_004, 3_725_000)]);
    let blocks: Vec<_> = srt.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{srt}");
    assert!(
        blocks[0].starts_with("1\n00:00:00,250 --> 00:00:02,750\ncaller: "),
        "{srt}"
    );
    assert!(
        srt.contains(KEPT),
        "revealed export holds the kept text: {srt}"
    );
    // An existing file is never overwritten.
    let again = run(&appliance, &srt_args, "");
    assert_eq!(again.status.code(), Some(1));

    // WebVTT and SRT time one call; a whole tenant goes out as JSON lines.
    let whole = run(
        &appliance,
        &[
            "transcript",
            "export",
            "--tenant",
            "acme",
            "--format",
            "srt",
        ],
        "",
    );
    assert_eq!(whole.status.code(), Some(1));
    let jsonl = ok(&appliance, &["transcript", "export", "--tenant", "acme"]);
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let calls: Vec<_> = lines.iter().map(|l| l["call"].as_str().unwrap()).collect();
    assert_eq!(
        calls,
        ["CA-first", "CA-first", "CA-second"],
        "oldest call first"
    );
    assert_eq!(lines[0]["tenant"], "acme");
    assert_eq!(lines[0]["text"], REDACTED);
    assert_eq!(lines[1]["start_ms"], 3_723_004);

    let missing = run(
        &appliance,
        &["call", "show", "--tenant", "nobody-here", "X"],
        "",
    );
    assert_eq!(missing.status.code(), Some(1));
    daemon.stop();
    assert!(
        !daemon.log().contains("415 555"),
        "kept text reached the log"
    );
}

#[test]
fn tenants_retention_keys_and_deletion_are_audited() {
    let appliance = Appliance::new();
    appliance.write_config(&tenants(&["acme", "globex"]));
    store_calls(&appliance);
    let gamma_db = appliance.state.join("tenants/gamma/vault.db");
    let backup = appliance.root().join("gamma-backup.db");
    std::fs::copy(&gamma_db, &backup).unwrap();
    let mut daemon = appliance.spawn();
    daemon.ready();

    let added = json(
        &appliance,
        &[
            "tenant",
            "add",
            "beta",
            "--name",
            "Beta Ltd",
            "--retention-days",
            "30",
            "--json",
        ],
    );
    assert_eq!(added["id"], "beta");
    assert_eq!(added["retention_days"], 30);
    assert_eq!(added["calls"], 0);
    let again = run(&appliance, &["tenant", "add", "beta", "--name", "B"], "");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = run(&appliance, &["tenant", "add", "Bad_Id", "--name", "B"], "");
    assert_eq!(bad.status.code(), Some(1));
    let shown = json(&appliance, &["tenant", "show", "acme", "--json"]);
    assert_eq!(
        (shown["calls"].as_u64(), shown["segments"].as_u64()),
        (Some(2), Some(3))
    );
    assert!(shown["database_bytes"].as_u64().unwrap() > 0);

    let status = json(&appliance, &["retention", "status", "--json"]);
    let globex = |s: &Value| {
        s["retention"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tenant"] == "globex")
            .cloned()
    };
    assert_eq!(globex(&status).unwrap()["expired"], 0);

    step_up(&appliance);
    let set = json(
        &appliance,
        &["tenant", "set", "globex", "--retention-days", "1", "--json"],
    );
    assert_eq!(set["retention_days"], 1);
    let status = json(&appliance, &["retention", "status", "--json"]);
    assert_eq!(globex(&status).unwrap()["expired"], 1);
    let run_out = json(&appliance, &["retention", "run", "--json"]);
    let purged = run_out["purged"].as_array().unwrap();
    let globex_purge = purged.iter().find(|p| p["tenant"] == "globex").unwrap();
    assert_eq!(
        (
            globex_purge["calls"].as_u64(),
            globex_purge["segments"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let list = json(
        &appliance,
        &["call", "list", "--tenant", "globex", "--json"],
    );
    assert!(list["calls"].as_array().unwrap().is_empty());

    // A long command reports progress on the socket before its answer.
    let mut stream = BufReader::new(UnixStream::connect(appliance.admin_socket()).unwrap());
    let request = "{\"v\":1,\"command\":\"keys-rotate-tenant\",\"tenant\":null}\n";
    stream.get_mut().write_all(request.as_bytes()).unwrap();
    let mut progress = Vec::new();
    let answer = loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        let value: Value = serde_json::from_str(&line).unwrap();
        if value["result"] == "progress" {
            progress.push((
                value["done"].as_u64().unwrap(),
                value["total"].as_u64().unwrap(),
            ));
        } else {
            break value;
        }
    };
    assert_eq!(answer["result"], "ok", "{answer}");
    assert_eq!(progress.last(), Some(&(4, 4)), "{progress:?}");
    let shown = json(
        &appliance,
        &["call", "show", "--tenant", "acme", "CA-first", "--json"],
    );
    assert_eq!(
        shown["segments"][0]["text"], REDACTED,
        "readable after the rekey"
    );

    let deleted = ok(&appliance, &["tenant", "delete", "gamma", "--yes"]);
    assert!(deleted.contains("shredded"), "{deleted}");
    let gone = run(&appliance, &["tenant", "show", "gamma"], "");
    assert_eq!(gone.status.code(), Some(1));
    let unconfirmed = run(&appliance, &["tenant", "delete", "beta"], "");
    assert_eq!(unconfirmed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));

    let export_path = appliance.root().join("audit.jsonl");
    ok(
        &appliance,
        &["audit", "export", "--output", export_path.to_str().unwrap()],
    );
    daemon.stop();

    // The copy of gamma's database taken before the deletion no longer opens: its key is gone,
    // and a tenant made again under the same id has a new one.
    let vaults = open_vaults(&appliance.state, MASTER_KEY_HEX);
    vaults
        .create_tenant("test", "gamma", "Gamma again")
        .unwrap();
    drop(vaults);
    std::fs::copy(&backup, &gamma_db).unwrap();
    let vaults = open_vaults(&appliance.state, MASTER_KEY_HEX);
    let error = vaults.open_tenant("gamma").unwrap_err();
    assert!(matches!(error, VaultError::WrongKey { .. }), "{error}");
    drop(vaults);

    let exported: Vec<Value> = std::fs::read_to_string(&export_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    let audit = AuditLog::open(&appliance.state, &master).unwrap();
    let records = audit.records().unwrap();
    assert!(exported.len() <= records.len() && exported.len() > 20);
    let seen = |action: &str, target: &str, outcome: &str| {
        records.iter().any(|r| {
            r.actor == "admin:uid=0"
                && r.action == action
                && r.target == target
                && r.outcome == outcome
        })
    };
    for (action, target) in [
        ("admin.tenant-add", "beta"),
        ("admin.tenant-show", "acme"),
        ("admin.tenant-set", "globex"),
        ("admin.retention-status", "appliance"),
        ("admin.retention-run", "appliance"),
        ("admin.keys-rotate-tenant", "appliance"),
        ("key.rotate-tenant", "acme"),
        ("admin.tenant-delete", "gamma"),
        ("tenant.delete", "gamma"),
        ("admin.call-list", "globex"),
        ("admin.call-show", "acme/CA-first"),
    ] {
        assert!(seen(action, target, "started"), "{action} {target} started");
        assert!(
            seen(action, target, "succeeded"),
            "{action} {target} succeeded"
        );
    }
    assert!(
        seen("admin.tenant-add", "beta", "failed"),
        "the second add failed"
    );
    assert!(seen("admin.tenant-delete", "gamma", "started"));
    // The export was itself audited before it ran, so it holds its own start.
    let last = exported.last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["outcome"].as_str()),
        (Some("admin.audit-export"), Some("started"))
    );
}

#[test]
fn the_master_key_rotates_and_the_daemon_starts_on_the_new_one() {
    let appliance = Appliance::new();
    appliance.write_config(&tenants(&["acme"]));
    store_calls(&appliance);
    let mut daemon = appliance.spawn();
    daemon.ready();

    let new_key = appliance.root().join("new-master-key");
    let new_hex = "11".repeat(32);
    std::fs::write(&new_key, &new_hex).unwrap();
    std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let args = [
        "keys",
        "rotate-master",
        "--new-key",
        new_key.to_str().unwrap(),
    ];
    let loose = run(&appliance, &args, "");
    assert_eq!(loose.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&loose.stderr).contains("chmod 600"));
    std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    needs_step_up(&appliance, &args);

    let totp = step_up(&appliance);
    let same = appliance.secrets.join("master-key");
    let unchanged = run(
        &appliance,
        &["keys", "rotate-master", "--new-key", same.to_str().unwrap()],
        "",
    );
    assert_eq!(unchanged.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unchanged.stderr).contains("the one in use"));
    let rotated = ok(&appliance, &args);
    assert!(rotated.contains("master key rotated"), "{rotated}");
    assert!(
        rotated.contains("1 TOTP secret(s) sealed again"),
        "{rotated}"
    );
    daemon.stop();
    assert!(
        !daemon.log().contains(&new_hex),
        "the new key reached the log"
    );

    // The old key opens nothing now; the new one opens everything, TOTP secrets included.
    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    assert!(AuditLog::open(&appliance.state, &master).is_err());
    appliance.write_secret("master-key", new_hex.as_bytes(), 0o600);
    let mut daemon = appliance.spawn();
    daemon.ready();
    let shown = json(
        &appliance,
        &["call", "show", "--tenant", "acme", "CA-first", "--json"],
    );
    assert_eq!(shown["segments"][0]["text"], REDACTED);
    let code = totp.generate_current().unwrap();
    let output = run(&appliance, &["login"], &format!("{code}\n"));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    daemon.stop();
}
