//! The admin socket and the CLI on it, end to end: the real daemon, the real binary as root and
//! as an unprivileged user, and the audit chain read back from the state it leaves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use diala_edge_tests::{Appliance, MASTER_KEY_HEX, binary, tenants};
use diala_vault::{AuditLog, KeyPurpose, MasterKey};
use serde_json::Value;

/// An appliance with two tenants whose admin socket is in `<root>/run`, a directory anyone may
/// enter, so that only the socket's own mode and the daemon's check keep a user out.
fn appliance() -> (Appliance, PathBuf) {
    let appliance = Appliance::new();
    let socket = appliance.admin_socket();
    let run = socket.parent().unwrap();
    std::fs::create_dir_all(run).unwrap();
    std::fs::set_permissions(appliance.root(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(run, std::fs::Permissions::from_mode(0o755)).unwrap();
    appliance.write_config(&tenants(&["acme", "globex"]));
    (appliance, socket)
}

fn run(appliance: &Appliance, args: &[&str]) -> Output {
    appliance.command(args).output().expect("run diala-edge")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(appliance: &Appliance, args: &[&str]) -> Value {
    let output = run(appliance, args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("--json prints one JSON object")
}

/// `diala-edge --admin-socket <socket> <args>` as the user `nobody`, without root's groups.
fn as_nobody(socket: &Path, args: &[&str]) -> Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(binary())
        .arg("--admin-socket")
        .arg(socket)
        .args(args)
        .env_clear()
        .output()
        .expect("run setpriv (util-linux)")
}

fn audit_records(appliance: &Appliance) -> Vec<(String, String, String)> {
    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    let audit = AuditLog::open(&appliance.state, &master).unwrap();
    let report = audit.verify().unwrap();
    assert_eq!(report.first_broken, None);
    let records = audit.records().unwrap();
    records
        .into_iter()
        .map(|r| (r.actor, r.action, r.outcome))
        .collect()
}

#[test]
fn status_tenants_and_audit_verify_through_the_socket() {
    let (appliance, socket) = appliance();
    let mut daemon = appliance.spawn();
    daemon.ready();
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);

    let status = json(&appliance, &["status", "--json"]);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["pid"], daemon.pid());
    assert_eq!(status["tenants"], 2);
    assert_eq!(status["tenants_configured"], 2);
    assert_eq!(status["accepting_calls"], true);
    assert!(
        status["metrics"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let human = run(&appliance, &["status"]);
    assert!(
        stdout(&human).contains("tenants:      2 (2 configured)"),
        "{}",
        stdout(&human)
    );
    assert!(stdout(&human).contains("new calls:    accepted"));

    let list = json(&appliance, &["tenant", "list", "--json"]);
    let tenants = list["tenants"].as_array().unwrap();
    let ids: Vec<_> = tenants.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["acme", "globex"]);
    assert_eq!(tenants[0]["name"], "Tenant acme");
    assert!(tenants[0]["retention_days"].as_u64().unwrap() >= 1);
    let table = stdout(&run(&appliance, &["tenant", "list"]));
    let lines: Vec<_> = table.lines().collect();
    assert!(lines[0].starts_with("ID "), "{table}");
    assert!(
        lines[1].starts_with("acme ") && lines[1].contains("Tenant acme"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");

    let verified = json(&appliance, &["audit", "verify", "--json"]);
    assert_eq!(verified["intact"], true);
    assert_eq!(verified["first_broken"], Value::Null);
    assert!(verified["records"].as_u64().unwrap() >= 5);
    let line = stdout(&run(&appliance, &["audit", "verify"]));
    assert!(line.starts_with("audit chain intact: "), "{line}");
    daemon.stop();

    // Each command was recorded as started before it ran, then as succeeded.
    let records = audit_records(&appliance);
    let admin: Vec<_> = records
        .iter()
        .filter(|(actor, _, _)| actor == "admin:uid=0")
        .map(|(_, action, outcome)| format!("{action} {outcome}"))
        .collect();
    let mut expected = Vec::new();
    for action in [
        "admin.status",
        "admin.status",
        "admin.tenant-list",
        "admin.tenant-list",
        "admin.audit-verify",
        "admin.audit-verify",
    ] {
        expected.push(format!("{action} started"));
        expected.push(format!("{action} succeeded"));
    }
    assert_eq!(admin, expected);
    assert!(!socket.exists(), "the socket is removed at stop");
}

#[test]
fn audit_list_shows_the_latest_records_including_its_own() {
    let (appliance, _socket) = appliance();
    let mut daemon = appliance.spawn();
    daemon.ready();
    assert!(run(&appliance, &["tenant", "list"]).status.success());
    let list = json(&appliance, &["audit", "list", "--limit", "3", "--json"]);
    let entries = list["entries"].as_array().unwrap();
    let seen: Vec<_> = entries
        .iter()
        .map(|e| format!("{} {} {}", e["actor"], e["action"], e["outcome"]))
        .collect();
    assert_eq!(
        seen,
        [
            r#""admin:uid=0" "admin.tenant-list" "started""#,
            r#""admin:uid=0" "admin.tenant-list" "succeeded""#,
            r#""admin:uid=0" "admin.audit-list" "started""#,
        ]
    );
    let seqs: Vec<_> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(entries[0]["target"], "appliance");

    let table = stdout(&run(&appliance, &["audit", "list"]));
    let lines: Vec<_> = table.lines().collect();
    assert!(lines[0].trim_start().starts_with("SEQ  TIME"), "{table}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("tenant.create") && l.contains("acme")),
        "{table}"
    );
    let bad = run(&appliance, &["audit", "list", "--limit", "lots"]);
    assert_eq!(bad.status.code(), Some(2), "clap's usage error");
    daemon.stop();
}

#[test]
fn with_no_daemon_the_cli_says_so_and_exits_unavailable() {
    let (appliance, _socket) = appliance();
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["tenant", "list", "--json"],
        &["audit", "verify"],
    ] {
        let output = run(&appliance, args);
        assert_eq!(output.status.code(), Some(69), "{args:?}");
        assert!(
            stderr(&output).contains("daemon is not running"),
            "{}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn an_unprivileged_user_is_refused() {
    let (appliance, socket) = appliance();
    let mut daemon = appliance.spawn();
    daemon.ready();

    // The socket's mode keeps the user out.
    let output = as_nobody(&socket, &["status"]);
    assert_eq!(output.status.code(), Some(77), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("may not use the admin socket"),
        "{}",
        stderr(&output)
    );

    // With the mode opened up by mistake, the daemon's own check still refuses.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    for args in [
        &["status"][..],
        &["tenant", "list", "--json"],
        &["audit", "verify"],
    ] {
        let output = as_nobody(&socket, args);
        assert_eq!(output.status.code(), Some(77), "{}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.contains("refused by the daemon: uid 65534"),
            "{message}"
        );
        assert!(message.contains("diala-admin"), "{message}");
        assert!(output.stdout.is_empty());
    }
    assert!(
        daemon.log().contains("admin request refused"),
        "{}",
        daemon.log()
    );
    let root = run(&appliance, &["status"]);
    assert_eq!(root.status.code(), Some(0), "{}", stderr(&root));
    daemon.stop();

    let records = audit_records(&appliance);
    assert!(records.iter().all(|(actor, _, _)| !actor.contains("65534")));
}

/// Rewrites one audit record in the database, as someone holding the database key could.
fn tamper_with_audit_record(appliance: &Appliance, seq: i64) {
    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    let key = master.derive(KeyPurpose::Audit);
    let hex: String = key.expose().iter().map(|b| format!("{b:02x}")).collect();
    let conn = rusqlite::Connection::open(appliance.state.join("audit.db")).unwrap();
    conn.pragma_update(None, "key", format!("x'{hex}'"))
        .unwrap();
    let changed = conn
        .execute(
            "UPDATE records SET outcome = 'failed' WHERE seq = ?1",
            [seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

#[test]
fn audit_verify_names_the_first_altered_record_and_exits_65() {
    let (appliance, _socket) = appliance();
    let mut daemon = appliance.spawn();
    daemon.ready();
    assert!(run(&appliance, &["status"]).status.success());
    daemon.stop();
    let master = MasterKey::from_credential(MASTER_KEY_HEX.as_bytes()).unwrap();
    let records = AuditLog::open(&appliance.state, &master)
        .unwrap()
        .records()
        .unwrap();
    let seq = records
        .iter()
        .find(|r| r.action == "admin.status")
        .unwrap()
        .seq;
    tamper_with_audit_record(&appliance, seq);

    let mut daemon = appliance.spawn();
    daemon.ready();
    let output = run(&appliance, &["audit", "verify", "--json"]);
    assert_eq!(output.status.code(), Some(65), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_broken"], seq);
    let message = format!("the audit chain is broken at record {seq} of ");
    assert!(stderr(&output).contains(&message), "{}", stderr(&output));
    let human = run(&appliance, &["audit", "verify"]);
    assert_eq!(human.status.code(), Some(65));
    let line = format!("audit chain BROKEN at record {seq} (");
    assert!(stdout(&human).starts_with(&line), "{}", stdout(&human));
    daemon.stop();
}

/// Runs `command`, which must succeed.
fn must(command: &mut Command) {
    let output = command.output().expect("run a user-database tool");
    assert!(output.status.success(), "{command:?}: {}", stderr(&output));
}

/// What the test added to this machine's user database, removed again when it ends, even by a
/// failed assertion. What was there before is left alone.
struct Made {
    user: Option<&'static str>,
    group: Option<&'static str>,
}

impl Drop for Made {
    fn drop(&mut self) {
        // The user first: a group that is some user's primary group cannot be deleted.
        if let Some(user) = self.user {
            let _ = Command::new("userdel").arg(user).output();
        }
        if let Some(group) = self.group {
            let _ = Command::new("groupdel").arg(group).output();
        }
    }
}

#[test]
fn a_member_of_diala_admin_is_served_and_audited_by_uid() {
    let mut made = Made {
        user: None,
        group: None,
    };
    if nix::unistd::Group::from_name("diala-admin")
        .unwrap()
        .is_none()
    {
        must(Command::new("groupadd").args(["--system", "diala-admin"]));
        made.group = Some("diala-admin");
    }
    let user = "diala-adm-test";
    if nix::unistd::User::from_name(user).unwrap().is_none() {
        must(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "--groups",
            "diala-admin",
            user,
        ]));
        made.user = Some(user);
    }
    let member = nix::unistd::User::from_name(user).unwrap().unwrap();
    let (appliance, socket) = appliance();
    let mut daemon = appliance.spawn();
    daemon.ready();
    let meta = std::fs::metadata(&socket).unwrap();
    let admin_gid = nix::unistd::Group::from_name("diala-admin")
        .unwrap()
        .unwrap()
        .gid;
    assert_eq!(
        std::os::unix::fs::MetadataExt::gid(&meta),
        admin_gid.as_raw()
    );

    let output = Command::new("setpriv")
        .arg(format!("--reuid={}", member.uid))
        .arg(format!("--regid={}", member.gid))
        .arg("--init-groups")
        .arg(binary())
        .arg("--admin-socket")
        .arg(&socket)
        .args(["tenant", "list", "--json"])
        .env_clear()
        .output()
        .expect("run setpriv (util-linux)");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let list: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list["tenants"].as_array().unwrap().len(), 2);
    daemon.stop();

    let actor = format!("admin:uid={}", member.uid);
    let records = audit_records(&appliance);
    let mine: Vec<_> = records
        .iter()
        .filter(|(a, _, _)| *a == actor)
        .map(|(_, action, outcome)| format!("{action} {outcome}"))
        .collect();
    assert_eq!(
        mine,
        ["admin.tenant-list started", "admin.tenant-list succeeded"]
    );
    let (made_user, made_group) = (made.user.is_some(), made.group.is_some());
    drop(made);
    if made_user {
        assert!(nix::unistd::User::from_name(user).unwrap().is_none());
    }
    if made_group {
        assert!(
            nix::unistd::Group::from_name("diala-admin")
                .unwrap()
                .is_none()
        );
    }
}

fn exchange(stream: &mut BufReader<UnixStream>, line: &str) -> Value {
    stream.get_mut().write_all(line.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).unwrap()
}

#[test]
fn the_protocol_answers_bad_requests_and_other_versions_plainly() {
    let (appliance, socket) = appliance();
    let mut daemon = appliance.spawn();
    daemon.ready();
    let mut stream = BufReader::new(UnixStream::connect(&socket).unwrap());

    let answer = exchange(&mut stream, "{\"v\":2,\"command\":\"status\"}\n");
    assert_eq!(answer["v"], 1);
    assert_eq!(answer["result"], "error");
    assert_eq!(answer["kind"], "unsupported-version");
    let answer = exchange(&mut stream, "{\"v\":1,\"command\":\"format-disk\"}\n");
    assert_eq!(answer["kind"], "bad-request");
    let answer = exchange(&mut stream, "not json\n");
    assert_eq!(answer["kind"], "bad-request");
    // The connection still serves a good request after bad ones.
    let answer = exchange(&mut stream, "{\"v\":1,\"command\":\"tenant-list\"}\n");
    assert_eq!(answer["result"], "ok");
    assert_eq!(answer["data"]["tenants"].as_array().unwrap().len(), 2);
    drop(stream);

    // A second daemon does not take over a socket that answers.
    let (other, _) = self::appliance();
    other.write_config_with_admin_socket(&socket, &tenants(&["acme"]));
    let mut second = other.spawn();
    let exit = second.wait_exit(std::time::Duration::from_secs(30));
    assert_eq!(exit.code(), Some(1), "{}", second.log());
    assert!(
        second
            .log()
            .contains("another diala-edge daemon is serving"),
        "{}",
        second.log()
    );
    assert!(run(&appliance, &["status"]).status.success());
    daemon.stop();
}
