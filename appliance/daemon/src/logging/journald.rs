//! journald's native protocol: one datagram per record on journald's socket, with structured
//! fields journalctl can filter on.
//!
//! Written here rather than through libsystemd's `sd_journal_send` because the sink must be
//! pointed at a socket a test binds, so that the code under test is the code in production.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use tracing::Level;

use super::{Record, Sink};

/// Where journald listens for native-protocol datagrams.
pub const SOCKET: &str = "/run/systemd/journal/socket";

/// Writes records to journald.
pub struct JournaldSink {
    socket: UnixDatagram,
    path: PathBuf,
}

impl JournaldSink {
    /// A sink sending to the journald socket at `path`.
    pub fn connect(path: &Path) -> std::io::Result<Self> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(path)?;
        Ok(JournaldSink {
            socket,
            path: path.to_owned(),
        })
    }

    fn encode(record: &Record<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        put(&mut out, "MESSAGE", &record.message);
        put(&mut out, "PRIORITY", priority(record.level));
        put(&mut out, "SYSLOG_IDENTIFIER", "diala-edge");
        put(&mut out, "TARGET", record.target);
        let span_fields = record.spans.iter().flat_map(|(_, fields)| fields.iter());
        for (key, value) in span_fields.chain(record.fields.iter()) {
            put(&mut out, &field_name(key), value);
        }
        out
    }
}

impl Sink for JournaldSink {
    fn write(&self, record: &Record<'_>) {
        let datagram = Self::encode(record);
        if self.socket.send(&datagram).is_err() {
            // Limitation: a record larger than one datagram would need a memfd; it goes to
            // stderr instead, which systemd also hands to journald.
            let line = format!("{} {}: {}\n", record.level, record.target, record.message);
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

impl std::fmt::Debug for JournaldSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournaldSink")
            .field("path", &self.path)
            .finish()
    }
}

fn priority(level: Level) -> &'static str {
    match level {
        Level::ERROR => "3",
        Level::WARN => "4",
        Level::INFO => "6",
        Level::DEBUG | Level::TRACE => "7",
    }
}

/// journald field names are upper-case letters, digits and underscores, not starting with an
/// underscore or digit (those are reserved for journald's own fields).
fn field_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        name.insert_str(0, "F_");
    }
    name
}

/// Appends one field: `NAME=value\n`, or the length-prefixed form when the value has a newline.
fn put(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    if value.contains('\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        out.extend_from_slice(value.as_bytes());
    } else {
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_follow_journald_rules() {
        assert_eq!(field_name("call_id"), "CALL_ID");
        assert_eq!(field_name("_private"), "F__PRIVATE");
        assert_eq!(field_name("9lives"), "F_9LIVES");
    }

    #[test]
    fn multi_line_values_are_length_prefixed() {
        let mut out = Vec::new();
        put(&mut out, "MESSAGE", "a\nb");
        assert_eq!(out, b"MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n");
    }
}
