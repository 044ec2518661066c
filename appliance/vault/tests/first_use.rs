//! The first use of SQLCipher in a process, from several threads at once.
//!
//! SQLite marks itself initialised before SQLCipher's own start-up has run, so a second thread
//! can key a database while SQLCipher is still starting and be refused. The gap is short, so
//! the test widens it for certain: it runs itself again under gdb, which holds whichever thread
//! enters SQLCipher's start-up for a second while the others go on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};

const CHILD: &str = "DIALA_VAULT_FIRST_USE_CHILD";
const THREADS: usize = 8;
const TEST: &str = "vaults_opened_at_once_by_fresh_threads_all_open";
const HELD: &str = "held a thread in SQLCipher's start-up";

/// gdb, in non-stop mode so that only the thread at the breakpoint stops: it holds the thread
/// that runs SQLCipher's start-up for a second, then lets it go, and quits with the process.
const GDB_SCRIPT: &str = r#"
import gdb, threading
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set non-stop on")
gdb.execute("break sqlcipher_extra_init")

def resume(num):
    gdb.execute("thread %d" % num, to_string=True)
    gdb.execute("continue")

def on_stop(event):
    if isinstance(event, gdb.BreakpointEvent):
        num = event.inferior_thread.num
        print("HELD")
        threading.Timer(1.0, lambda: gdb.post_event(lambda: resume(num))).start()

def on_exit(event):
    code = getattr(event, "exit_code", "unknown")
    print("INFERIOR EXIT %s" % code)
    gdb.post_event(lambda: gdb.execute("quit"))

gdb.events.stop.connect(on_stop)
gdb.events.exited.connect(on_exit)
gdb.execute("run")
"#;

#[test]
fn vaults_opened_at_once_by_fresh_threads_all_open() {
    if std::env::var_os(CHILD).is_some() {
        open_from_threads_at_once();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("hold.py");
    std::fs::write(&script, GDB_SCRIPT.replace("HELD", HELD)).unwrap();
    let me = std::env::current_exe().unwrap();
    let log = dir.path().join("gdb.log");
    let mut gdb = Command::new("gdb")
        .arg("-q")
        .arg("-nx")
        .arg("-x")
        .arg(&script)
        .arg("--args")
        .arg(&me)
        .args(["--exact", TEST, "--test-threads=1"])
        .env(CHILD, "1")
        // gdb quits at the end of its input, so its input stays open until it is done.
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("gdb runs (the Debian package gdb; `make deps` installs it)");
    let input = gdb.stdin.take();
    gdb.wait().unwrap();
    drop(input);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(HELD), "gdb never held the start-up:\n{text}");
    assert!(
        text.contains("INFERIOR EXIT 0"),
        "a thread was refused:\n{text}"
    );
}

/// Opens a fresh appliance state from each of `THREADS` threads, all started together.
fn open_from_threads_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let state = dir.path().join(format!("state-{n}"));
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let clock = Arc::new(diala_vault::ManualClock::at(common::T0));
                start.wait();
                common::open(&state, clock);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
