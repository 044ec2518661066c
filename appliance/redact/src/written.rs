//! Entities with a shape of their own, found by regular expressions before numbers are read:
//! written and spelled-out email addresses, IBANs, IP addresses, slash-written expiry dates,
//! and tokens this crate wrote earlier (so redacting twice changes nothing).
//!
//! Everything found here is claimed: the number reader skips its words.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::checks;
use crate::kind::{EntityKind, Span};

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("static pattern {pattern}: {e}"))
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}\b",
    )
});

// An address as a recogniser writes it: "j o h n dot smith at gmail dot com". The local part is
// one word or spelled letters, joined by "dot", "underscore" or "dash"; the domain ends in a
// known top-level domain, which keeps ordinary "at" out.
static SPOKEN_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let atom = r"(?:[a-z0-9](?:\s+[a-z0-9]\b)+|[a-z0-9]+)";
    let join = r"(?:\s+(?:dot|period|underscore|dash|hyphen)\s+|[._-])";
    let dot = r"(?:\s+(?:dot|period)\s+|\.)";
    let tld = r"(?:com|org|net|edu|gov|io|co|uk|us|ca|de|fr|info|biz|me)";
    compile(&format!(
        r"(?i)\b{atom}(?:{join}{atom})*\s+(?:at|@)\s+[a-z0-9]+(?:-[a-z0-9]+)*(?:{dot}[a-z0-9]+)*{dot}{tld}\b"
    ))
});

static IPV4: LazyLock<Regex> = LazyLock::new(|| compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b"));

static IPV6: LazyLock<Regex> = LazyLock::new(|| compile(r"[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]"));

static IBAN: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"));

static SLASH_EXPIRY: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b(?:0?[1-9]|1[0-2]) ?/ ?(?:20)?\d{2}\b"));

static OWN_TOKEN: LazyLock<Regex> = LazyLock::new(|| compile(r"\[[A-Z]+:[0-9a-f]{4}\]"));

/// What the shaped finders found in one text.
#[derive(Debug, Default)]
pub struct Shaped {
    /// Entities found, in no particular order.
    pub spans: Vec<Span>,
    /// Every byte range the number reader must skip: the spans, earlier tokens and dates
    /// written with a slash.
    pub claimed: Vec<Range<usize>>,
    /// Dates written with a slash (`12/27`), which are card expiries when a cue says so.
    pub slash_dates: Vec<Range<usize>>,
}

/// Claimed ranges by start, so an overlap check is one lookup however many there are.
#[derive(Default)]
struct Claims {
    taken: BTreeMap<usize, usize>,
    spans: Vec<Span>,
}

impl Claims {
    /// Claims `range` (as an entity of `kind`, if given) unless something already claimed
    /// overlaps it; says whether it did.
    fn take(&mut self, range: Range<usize>, kind: Option<EntityKind>) -> bool {
        let before = self.taken.range(..range.end).next_back();
        if before.is_some_and(|(_, end)| *end > range.start) {
            return false;
        }
        if let Some(kind) = kind {
            self.spans.push(Span {
                start: range.start,
                end: range.end,
                kind,
            });
        }
        self.taken.insert(range.start, range.end);
        true
    }

    fn take_all(&mut self, text: &str, pattern: &Regex, kind: EntityKind, valid: fn(&str) -> bool) {
        for m in pattern.find_iter(text).filter(|m| valid(m.as_str())) {
            self.take(m.range(), Some(kind));
        }
    }
}

/// Finds every shaped entity in `text`. Earlier finders win overlaps: tokens, then emails,
/// IBANs, IP addresses and slash dates.
pub fn find(text: &str) -> Shaped {
    let mut claims = Claims::default();
    let has = |b: u8| text.as_bytes().contains(&b);
    if has(b'[') {
        for m in OWN_TOKEN.find_iter(text) {
            claims.take(m.range(), None);
        }
    }
    if has(b'@') {
        claims.take_all(text, &EMAIL, EntityKind::Email, |_| true);
    }
    spoken_emails(text, &mut claims);
    if may_hold_iban(text) {
        claims.take_all(text, &IBAN, EntityKind::Iban, |m| {
            let chars: Vec<u8> = m.bytes().filter(|b| *b != b' ').collect();
            checks::iban(&chars)
        });
    }
    if has(b'.') {
        claims.take_all(text, &IPV4, EntityKind::IpAddress, |m| {
            m.parse::<Ipv4Addr>().is_ok()
        });
    }
    if has(b':') {
        for m in IPV6.find_iter(text).filter(|m| ipv6_at(text, m.range())) {
            claims.take(m.range(), Some(EntityKind::IpAddress));
        }
    }
    let mut slash_dates = Vec::new();
    if has(b'/') {
        for m in SLASH_EXPIRY.find_iter(text) {
            if claims.take(m.range(), None) {
                slash_dates.push(m.range());
            }
        }
    }
    Shaped {
        spans: claims.spans,
        claimed: claims
            .taken
            .into_iter()
            .map(|(start, end)| start..end)
            .collect(),
        slash_dates,
    }
}

fn spoken_emails(text: &str, claims: &mut Claims) {
    let has_at = text
        .as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b" at ") || w.get(1..3) == Some(b"@ "));
    if !has_at {
        return;
    }
    let mut at = 0;
    while let Some(m) = SPOKEN_EMAIL.find_at(text, at) {
        // "it's j o h n": the `s` after an apostrophe belongs to the word before it.
        if m.start() > 0 && text.as_bytes().get(m.start() - 1) == Some(&b'\'') {
            at = m.start() + 1;
            continue;
        }
        claims.take(m.range(), Some(EntityKind::Email));
        at = m.end();
    }
}

/// Two capitals and two digits somewhere: the start every IBAN has.
fn may_hold_iban(text: &str) -> bool {
    text.as_bytes().windows(4).any(|w| {
        w.iter().take(2).all(u8::is_ascii_uppercase) && w.iter().skip(2).all(u8::is_ascii_digit)
    })
}

fn ipv6_at(text: &str, range: Range<usize>) -> bool {
    let bytes = text.as_bytes();
    let glued = |i: Option<usize>| {
        i.and_then(|i| bytes.get(i))
            .is_some_and(u8::is_ascii_alphanumeric)
    };
    let candidate = text.get(range.clone()).unwrap_or_default();
    candidate.matches(':').count() >= 2
        && !glued(range.start.checked_sub(1))
        && !glued(Some(range.end))
        && candidate.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, EntityKind)> {
        let mut spans = find(text).spans;
        spans.sort_by_key(|s| s.start);
        spans
            .iter()
            .map(|s| (&text[s.start..s.end], s.kind))
            .collect()
    }

    #[test]
    fn spoken_and_written_emails() {
        assert_eq!(
            found("it's j o h n dot smith at gmail dot com thanks"),
            [("j o h n dot smith at gmail dot com", EntityKind::Email)]
        );
        assert_eq!(
            found("mail jane.doe@example.co.uk"),
            [("jane.doe@example.co.uk", EntityKind::Email)]
        );
        assert!(found("see you at home at five").is_empty());
    }

    #[test]
    fn ibans_need_mod_97() {
        assert_eq!(
            found("iban GB82 WEST 1234 5698 7654 32 ok"),
            [("GB82 WEST 1234 5698 7654 32", EntityKind::Iban)]
        );
        assert!(found("iban GB82 WEST 1234 5698 7654 33").is_empty());
    }

    #[test]
    fn ip_addresses_but_not_times_or_versions() {
        assert_eq!(
            found("from 192.168.10.20 and 2001:db8::1"),
            [
                ("192.168.10.20", EntityKind::IpAddress),
                ("2001:db8::1", EntityKind::IpAddress)
            ]
        );
        assert!(found("at 10:30:00 version 1.2.3, 999.1.1.1").is_empty());
    }

    #[test]
    fn slash_dates_are_set_aside() {
        assert_eq!(
            find("expires 08/27, 1/2028 and 13/27").slash_dates,
            [8..13, 15..21]
        );
    }
}
