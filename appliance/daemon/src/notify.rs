//! Talking to systemd: readiness, status lines, stopping, and watchdog pings.
//!
//! Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op.

use std::time::Duration;

/// Sends `READY=1` with a status line.
pub fn ready(status: &str) {
    send(&[("READY", "1"), ("STATUS", status)]);
}

/// Sends a `STATUS=` line, shown by `systemctl status`.
pub fn status(status: &str) {
    send(&[("STATUS", status)]);
}

/// Sends `STOPPING=1` with a status line.
pub fn stopping(status: &str) {
    send(&[("STOPPING", "1"), ("STATUS", status)]);
}

/// Sends `RELOADING=1` with the monotonic time systemd asks for.
pub fn reloading() {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| (t.tv_sec() as u64) * 1_000_000 + (t.tv_nsec() as u64) / 1000)
        .unwrap_or(0);
    send(&[("RELOADING", "1"), ("MONOTONIC_USEC", &now.to_string())]);
}

/// Sends `WATCHDOG=1`.
pub fn watchdog() {
    send(&[("WATCHDOG", "1")]);
}

/// How often to ping the watchdog: half of `WatchdogSec=`, or `None` when it is not armed.
pub fn watchdog_interval() -> Option<Duration> {
    match systemd::daemon::watchdog_enabled(false) {
        Ok(usec) if usec > 0 => Some(Duration::from_micros(usec / 2)),
        _ => None,
    }
}

fn send(state: &[(&str, &str)]) {
    if let Err(e) = systemd::daemon::notify(false, state.iter()) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}
