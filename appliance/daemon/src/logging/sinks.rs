//! Sinks that write scrubbed records as text or JSON lines.

use std::fmt::Write as _;
use std::io::Write;

use parking_lot::Mutex;

use super::{Record, Sink};

/// Human-readable lines: time, level, target, spans, message, fields.
pub struct TextSink<W> {
    out: Mutex<W>,
}

impl<W: Write + Send + 'static> TextSink<W> {
    /// A sink writing to `out`, usually stderr.
    pub fn new(out: W) -> Self {
        TextSink {
            out: Mutex::new(out),
        }
    }
}

impl<W: Write + Send + 'static> Sink for TextSink<W> {
    fn write(&self, record: &Record<'_>) {
        let mut line = format!(
            "{} {:>5} {}: ",
            humantime::format_rfc3339_millis(record.time),
            record.level,
            record.target
        );
        for (name, fields) in &record.spans {
            line.push_str(name);
            if !fields.is_empty() {
                line.push('{');
                push_pairs(&mut line, fields);
                line.push('}');
            }
            line.push_str(": ");
        }
        line.push_str(&record.message);
        if !record.fields.is_empty() {
            line.push(' ');
            push_pairs(&mut line, &record.fields);
        }
        line.push('\n');

        // A log line that cannot be written has nowhere else to go.
        let _ = self.out.lock().write_all(line.as_bytes());
    }
}

fn push_pairs(line: &mut String, pairs: &[(&str, String)]) {
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let _ = write!(line, "{key}={value}");
    }
}

/// One JSON object per line, for log shippers.
pub struct JsonSink<W> {
    out: Mutex<W>,
}

impl<W: Write + Send + 'static> JsonSink<W> {
    /// A sink writing to `out`, usually stderr.
    pub fn new(out: W) -> Self {
        JsonSink {
            out: Mutex::new(out),
        }
    }
}

impl<W: Write + Send + 'static> Sink for JsonSink<W> {
    fn write(&self, record: &Record<'_>) {
        let object = |pairs: &[(&str, String)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(v.as_str())))
                .collect::<serde_json::Map<_, _>>()
        };
        let spans: Vec<_> = record
            .spans
            .iter()
            .map(|(name, fields)| serde_json::json!({ "name": name, "fields": object(fields) }))
            .collect();
        let value = serde_json::json!({
            "timestamp": humantime::format_rfc3339_millis(record.time).to_string(),
            "level": record.level.as_str(),
            "target": record.target,
            "message": record.message,
            "fields": object(&record.fields),
            "spans": spans,
        });

        let mut line = value.to_string();
        line.push('\n');
        let _ = self.out.lock().write_all(line.as_bytes());
    }
}
