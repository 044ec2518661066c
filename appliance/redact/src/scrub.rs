//! The log scrubber: every string a log sink writes passes through here first.

use std::borrow::Cow;

use crate::{TokenKey, detect};

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
        if !text.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
            return Cow::Borrowed(text);
        }
        let spans = detect(text);
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }

        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for span in spans {
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

    #[test]
    fn scrubs_phone_and_email() {
        let scrubber = Scrubber::new(TokenKey::from_bytes([3; 32]));
        let out = scrubber.scrub("caller +1 415 555 0134 wrote jane.doe@example.com");
        assert!(!out.contains("555"), "{out}");
        assert!(!out.contains("jane.doe"), "{out}");
        assert!(out.contains("[PHONE:") && out.contains("[EMAIL:"), "{out}");
    }

    #[test]
    fn clean_text_is_borrowed() {
        let scrubber = Scrubber::new(TokenKey::from_bytes([3; 32]));
        assert!(matches!(scrubber.scrub("daemon ready"), Cow::Borrowed(_)));
    }
}
