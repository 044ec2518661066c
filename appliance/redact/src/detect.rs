//! Detection of phone numbers and email addresses in written text.
//!
//! Offsets are byte offsets into the input and always fall on character boundaries.

use std::sync::LazyLock;

use regex::Regex;

/// The kinds of personal data the detector recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A telephone number in any written form: E.164, national, with separators.
    Phone,
    /// An email address.
    Email,
}

impl EntityKind {
    /// The label used inside tokens, e.g. `PHONE` in `[PHONE:7f3a]`.
    pub fn label(self) -> &'static str {
        match self {
            EntityKind::Phone => "PHONE",
            EntityKind::Email => "EMAIL",
        }
    }
}

/// One detected entity: where it is in the input and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte of the entity.
    pub start: usize,
    /// Byte offset one past the last byte of the entity.
    pub end: usize,
    /// What was found there.
    pub kind: EntityKind,
}

// Shortest and longest digit counts of a dialable number: seven-digit local numbers up to the
// fifteen digits E.164 allows.
const PHONE_MIN_DIGITS: usize = 7;
const PHONE_MAX_DIGITS: usize = 15;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}\b")
        .unwrap_or_else(|e| unreachable!("static email pattern: {e}"))
});

// A run of digits with the separators people write inside phone numbers. The digit count is
// checked afterwards, which keeps the pattern simple and linear.
// Digit runs that look like phone numbers by length but are something else a log line carries.
static NOT_PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|\d{4}-\d{2}-\d{2})$")
        .unwrap_or_else(|e| unreachable!("static pattern: {e}"))
});

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\(?|\(|\b)\d(?:[\d\s().-]|\s?(?:ext\.?|x)\s?)*\d\b")
        .unwrap_or_else(|e| unreachable!("static phone pattern: {e}"))
});

/// Finds phone numbers and email addresses in `text`, in order, without overlaps.
pub fn detect(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = EMAIL
        .find_iter(text)
        .map(|m| Span {
            start: m.start(),
            end: m.end(),
            kind: EntityKind::Email,
        })
        .collect();

    for m in PHONE.find_iter(text) {
        let digits = m.as_str().bytes().filter(u8::is_ascii_digit).count();
        let overlaps = spans.iter().any(|s| s.start < m.end() && m.start() < s.end);
        let plausible = (PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&digits)
            && !NOT_PHONE.is_match(m.as_str());
        if plausible && !overlaps {
            spans.push(Span {
                start: m.start(),
                end: m.end(),
                kind: EntityKind::Phone,
            });
        }
    }

    spans.sort_by_key(|s| s.start);
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, EntityKind)> {
        detect(text)
            .into_iter()
            .map(|s| (&text[s.start..s.end], s.kind))
            .collect()
    }

    #[test]
    fn finds_written_phone_numbers() {
        assert_eq!(
            found("call +1 415 555 0134 now"),
            [("+1 415 555 0134", EntityKind::Phone)]
        );
        assert_eq!(
            found("(415) 555-0134"),
            [("(415) 555-0134", EntityKind::Phone)]
        );
        assert_eq!(
            found("+442079460958"),
            [("+442079460958", EntityKind::Phone)]
        );
    }

    #[test]
    fn finds_emails() {
        assert_eq!(
            found("mail jane.doe@example.com today"),
            [("jane.doe@example.com", EntityKind::Email)]
        );
    }

    #[test]
    fn leaves_short_numbers_times_and_versions() {
        assert!(found("at 10:30 we had 3 calls, version 1.2.3, port 5060").is_empty());
        assert!(found("listening on 127.0.0.1:9464").is_empty());
        assert!(found("peer 192.168.100.200 on 2026-12-03").is_empty());
    }
}
