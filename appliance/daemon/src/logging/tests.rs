//! Every sink, fed through the real layer, writes no phone number and no email.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;

use diala_redact::{Scrubber, TokenKey};
use parking_lot::Mutex;
use tracing_subscriber::layer::SubscriberExt;

use super::*;

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().clone()).unwrap()
    }
}

const PHONE: &str = "+1 415 555 0134";
const EMAIL: &str = "jane.doe@example.com";

fn assert_scrubbed(sink: &str, out: &str) {
    assert!(
        !out.contains("555 0134") && !out.contains("5550134"),
        "{sink} leaked: {out}"
    );
    assert!(!out.contains("jane.doe"), "{sink} leaked: {out}");
    assert!(
        out.contains("[PHONE:") && out.contains("[EMAIL:"),
        "{sink} lost tokens: {out}"
    );
}

#[test]
fn every_sink_writes_scrubbed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("journal.socket");
    let journal = UnixDatagram::bind(&journal_path).unwrap();

    let text = Shared::default();
    let json = Shared::default();
    let sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(TextSink::new(text.clone())),
        Box::new(JsonSink::new(json.clone())),
        Box::new(JournaldSink::connect(&journal_path).unwrap()),
    ];
    let layer = ScrubLayer::new(Scrubber::new(TokenKey::ephemeral()), sinks);
    let subscriber = tracing_subscriber::registry().with(layer);

    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("call", caller = PHONE);
        let _entered = span.enter();
        tracing::info!(contact = EMAIL, "call from {PHONE}, mail {EMAIL}");
    });

    assert_scrubbed("text", &text.text());
    assert_scrubbed("json", &json.text());
    let mut datagram = vec![0u8; 65536];
    let n = journal.recv(&mut datagram).unwrap();
    let entry = String::from_utf8_lossy(&datagram[..n]).into_owned();
    assert_scrubbed("journald", &entry);
    assert!(
        entry.contains("PRIORITY=6\n") && entry.contains("CALLER=[PHONE:"),
        "{entry}"
    );

    let parsed: serde_json::Value = serde_json::from_str(json.text().trim()).unwrap();
    assert_eq!(parsed["spans"][0]["name"], "call");
    assert!(
        parsed["fields"]["contact"]
            .as_str()
            .unwrap()
            .starts_with("[EMAIL:")
    );
}

#[test]
fn transcript_text_cannot_leak_through_debug() {
    let text = Shared::default();
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(TextSink::new(text.clone()))];
    let layer = ScrubLayer::new(Scrubber::new(TokenKey::ephemeral()), sinks);
    let subscriber = tracing_subscriber::registry().with(layer);

    let said = diala_redact::TranscriptText::new("my pin is one two three four".to_owned());
    tracing::subscriber::with_default(subscriber, || tracing::info!(text = ?said, "segment"));
    let out = text.text();
    assert!(!out.contains("pin"), "{out}");
    assert!(out.contains("chars hidden"), "{out}");
}
