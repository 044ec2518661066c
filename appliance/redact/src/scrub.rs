//! The log scrubber: every string a log sink writes passes through here first.
//!
//! It uses the same detector as transcripts, so a phone number, email, card or account number
//! in a log line becomes a token before any sink sees it. IP addresses stay: logs name the
//! trunks and peers a sysadmin must be able to find, and those are not callers' data.

use std::borrow::Cow;

use crate::{EntityKind, TokenKey, detect};

/// Replaces every detected entity in a string with its token.
#[derive(Debug)]
pub struct Scrubber {
    key: TokenKey,
}

impl Scrubber {
    /// A scrubber whose tokens are computed under `key`.
    pub fn new(key: TokenKey) -> Self {
        Scrubber { key }
    }

    /// `text` with every detected entity replaced; borrowed when there was nothing to replace,
    /// which is the common case for log lines.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let spans = detect(text);
        let mut replaced = spans
            .iter()
            .filter(|s| s.kind != EntityKind::IpAddress)
            .peekable();
        if replaced.peek().is_none() {
            return Cow::Borrowed(text);
        }

        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for span in replaced {
            out.push_str(text.get(at..span.start).unwrap_or_default());
            let value = text.get(span.start..span.end).unwrap_or_default();
            out.push_str(&self.key.token(span.kind, value));
            at = span.end;
        }
        out.push_str(text.get(at..).unwrap_or_default());
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(TokenKey::from_bytes([3; 32]))
    }

    #[test]
    fn scrubs_phone_and_email() {
        let out = scrubber().scrub("caller +1 415 555 0134 wrote jane.doe@example.com");
        assert!(!out.contains("555"), "{out}");
        assert!(!out.contains("jane.doe"), "{out}");
        assert!(out.contains("[PHONE:") && out.contains("[EMAIL:"), "{out}");
    }

    #[test]
    fn scrubs_spoken_numbers_and_cards() {
        let out = scrubber()
            .scrub("said four one five five five five oh one three four, card 4111111111111111");
        assert!(
            !out.contains("four one five") && !out.contains("4111"),
            "{out}"
        );
    }

    #[test]
    fn clean_lines_and_peer_addresses_are_borrowed() {
        for line in [
            "daemon ready",
            "call ended call_id=4f2a9c tenant=acme duration_ms=48213",
            "metrics listening on 127.0.0.1:9464",
        ] {
            assert!(matches!(scrubber().scrub(line), Cow::Borrowed(_)), "{line}");
        }
    }
}
