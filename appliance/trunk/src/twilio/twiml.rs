//! TwiML answers to a voice webhook: where Twilio sends the call's audio.
//!
//! A call the appliance handles is answered `<Connect><Stream>` (Twilio hands the whole call to
//! the stream); a call that continues to the customer's PBX is answered `<Start><Stream
//! track="both_tracks">` followed by a `<Dial>`, so both sides are transcribed while the call
//! goes on. Every value written into the XML is escaped; nothing here reads a clock or a file.

use std::fmt::Write as _;

/// Where a forked call continues after the stream has started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialTarget {
    /// A SIP URI on the customer's PBX (`sip:reception@pbx.example.com`).
    Sip(String),
    /// A phone number in E.164 form.
    Number(String),
}

/// How a tenant's calls are answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamMode {
    /// The appliance handles the call: `<Connect><Stream>`, inbound audio only.
    Connect,
    /// Transcribe both sides while the call continues to `DialTarget`.
    Fork(DialTarget),
}

/// The TwiML document answering a call with `mode`, its stream at `stream_url`.
pub fn answer(mode: &StreamMode, stream_url: &str) -> String {
    let url = escape(stream_url);
    let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    match mode {
        StreamMode::Connect => {
            let _ = write!(xml, r#"<Connect><Stream url="{url}"/></Connect>"#);
        }
        StreamMode::Fork(target) => {
            let _ = write!(
                xml,
                r#"<Start><Stream url="{url}" track="both_tracks"/></Start>"#
            );
            let _ = match target {
                DialTarget::Sip(uri) => write!(xml, "<Dial><Sip>{}</Sip></Dial>", escape(uri)),
                DialTarget::Number(n) => write!(xml, "<Dial><Number>{}</Number></Dial>", escape(n)),
            };
        }
    }
    xml.push_str("</Response>");
    xml
}

/// Escapes text for an XML attribute or element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "wss://edge.example/twilio/stream/abc.def";

    #[test]
    fn connect_hands_the_call_to_the_stream() {
        assert_eq!(
            answer(&StreamMode::Connect, URL),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>\
             <Stream url=\"wss://edge.example/twilio/stream/abc.def\"/></Connect></Response>"
        );
    }

    #[test]
    fn fork_streams_both_tracks_then_dials_on() {
        let mode = StreamMode::Fork(DialTarget::Sip("sip:desk@pbx.example?x=1&y=2".into()));
        let xml = answer(&mode, URL);
        let start = concat!(
            r#"<Start><Stream url="wss://edge.example/twilio/stream/abc.def""#,
            r#" track="both_tracks"/></Start>"#
        );
        assert!(xml.contains(start));
        assert!(
            xml.ends_with("<Dial><Sip>sip:desk@pbx.example?x=1&amp;y=2</Sip></Dial></Response>")
        );
    }

    #[test]
    fn values_cannot_break_out_of_the_document() {
        let xml = answer(&StreamMode::Connect, r#"wss://e/"/><Hangup/><x a=""#);
        assert!(!xml.contains("<Hangup/>"));
        assert!(xml.contains("&quot;/&gt;&lt;Hangup/&gt;"));
    }
}
