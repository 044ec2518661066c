//! Decides what a number is from its digits, how it was written and the cue before it.
//!
//! Checksums come first where they exist (Luhn, ABA, SSA rules), so an order number that fails
//! one stays in clear; a cue is required where digits alone say nothing (CVV, PIN, account).

use crate::checks;
use crate::context::Cue;
use crate::kind::EntityKind;

/// A number as read, with what is known about it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Its digits, without an extension.
    pub digits: &'a [u8],
    /// The text it was read from.
    pub raw: &'a str,
    /// It began with `+` or "plus".
    pub plus: bool,
    /// It carries an extension.
    pub ext: bool,
    /// The cue before it.
    pub cue: Option<Cue>,
}

/// What the candidate is, if it is personal data at all.
pub fn classify(c: &Candidate<'_>) -> Option<EntityKind> {
    let n = c.digits.len();
    if c.ext {
        return phone(c, n).then_some(EntityKind::Phone);
    }
    if let Some(kind) = by_cue(c, n) {
        return Some(kind);
    }
    if counting(c.digits) {
        return None;
    }
    if checks::card(c.digits) {
        return Some(EntityKind::Card);
    }
    if ssn_shaped(c.raw) && checks::ssn(c.digits) {
        return Some(EntityKind::Ssn);
    }
    if date_shaped(c.raw) || (c.cue == Some(Cue::Other) && !c.plus) {
        return None;
    }
    phone(c, n).then_some(EntityKind::Phone)
}

fn by_cue(c: &Candidate<'_>, n: usize) -> Option<EntityKind> {
    let d = c.digits;
    let kind = match c.cue? {
        Cue::Cvv if (3..=4).contains(&n) => EntityKind::Cvv,
        Cue::Expiry if expiry(d) => EntityKind::CardExpiry,
        Cue::Pin if (4..=6).contains(&n) => EntityKind::Pin,
        Cue::Routing if checks::aba(d) => EntityKind::Routing,
        Cue::Ssn if checks::ssn(d) => EntityKind::Ssn,
        Cue::Account if (6..=17).contains(&n) && !checks::card(d) => EntityKind::BankAccount,
        _ => return None,
    };
    Some(kind)
}

/// "one two three four five six seven": someone counting, not a number.
pub fn counting(d: &[u8]) -> bool {
    const COUNT: &[u8] = b"0123456789101112131415";
    d.len() >= 6 && COUNT.windows(d.len()).any(|w| w == d)
}

/// Month and year as MYY, MMYY or MMYYYY.
// Limitation: a month said by name ("april twenty seven") is not read as an expiry.
fn expiry(d: &[u8]) -> bool {
    let month = |m: &[u8]| {
        let v = m
            .iter()
            .fold(0u32, |v, b| v * 10 + u32::from(b.wrapping_sub(b'0')));
        (1..=12).contains(&v)
    };
    match d.len() {
        3 => d.first().is_some_and(|m| (b'1'..=b'9').contains(m)),
        4 => d.get(..2).is_some_and(month),
        6 => d.get(..2).is_some_and(month) && d.get(2..4) == Some(b"20"),
        _ => false,
    }
}

/// A North American number without its country code: area code and exchange start 2-9.
fn nanp(d: &[u8]) -> bool {
    let starts_2_to_9 = |b: Option<&u8>| b.is_some_and(|b| (b'2'..=b'9').contains(b));
    d.len() == 10 && starts_2_to_9(d.first()) && starts_2_to_9(d.get(3))
}

fn phone(c: &Candidate<'_>, n: usize) -> bool {
    let d = c.digits;
    let cued = c.cue == Some(Cue::Phone);
    let international = d.starts_with(b"00") && (11..=15).contains(&n);
    let national_trunk = d.first() == Some(&b'0') && (10..=11).contains(&n) && has_groups(c.raw);
    (c.plus && (8..=15).contains(&n))
        || nanp(d)
        || (n == 11 && d.first() == Some(&b'1') && d.get(1..).is_some_and(nanp))
        || international
        || national_trunk
        || (n == 7
            && d.first().is_some_and(|b| (b'2'..=b'9').contains(b))
            && (cued || c.ext || local_shaped(c.raw)))
        || (cued && (8..=15).contains(&n))
}

/// Digits written in groups, as numbers are and identifiers mostly are not.
fn has_groups(raw: &str) -> bool {
    raw.bytes().any(|b| b == b' ' || b == b'-' || b == b'.')
}

/// `555-0134` or `555.0134`.
fn local_shaped(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 8
        && matches!(b.get(3), Some(b'-' | b'.'))
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 3 || c.is_ascii_digit())
}

/// `123-45-6789` or `123 45 6789`.
fn ssn_shaped(raw: &str) -> bool {
    let b = raw.as_bytes();
    let sep = |i: usize| matches!(b.get(i), Some(b'-' | b' '));
    b.len() == 11
        && sep(3)
        && sep(6)
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 3 || i == 6 || c.is_ascii_digit())
}

/// `2026-12-03`, `12.03.2026`, `3-12-26`: a date, whatever its digit count.
fn date_shaped(raw: &str) -> bool {
    let groups: Vec<usize> = raw
        .split(['-', '.'])
        .map(|g| {
            if g.bytes().all(|b| b.is_ascii_digit()) {
                g.len()
            } else {
                0
            }
        })
        .collect();
    matches!(groups.as_slice(), [4, 1..=2, 1..=2] | [1..=2, 1..=2, 2 | 4])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(digits: &str, raw: &str, cue: Option<Cue>) -> Option<EntityKind> {
        classify(&Candidate {
            digits: digits.as_bytes(),
            raw,
            plus: raw.starts_with('+'),
            ext: false,
            cue,
        })
    }

    #[test]
    fn checksums_decide_cards_and_routing() {
        assert_eq!(
            kind("4111111111111111", "4111 1111 1111 1111", None),
            Some(EntityKind::Card)
        );
        assert_eq!(
            kind("4111111111111112", "4111 1111 1111 1112", Some(Cue::Other)),
            None
        );
        assert_eq!(
            kind("021000021", "021000021", Some(Cue::Routing)),
            Some(EntityKind::Routing)
        );
        assert_eq!(kind("021000022", "021000022", Some(Cue::Routing)), None);
    }

    #[test]
    fn cues_decide_short_numbers() {
        assert_eq!(kind("123", "123", Some(Cue::Cvv)), Some(EntityKind::Cvv));
        assert_eq!(kind("1234", "1234", Some(Cue::Pin)), Some(EntityKind::Pin));
        assert_eq!(
            kind("1227", "12 27", Some(Cue::Expiry)),
            Some(EntityKind::CardExpiry)
        );
        assert_eq!(kind("1327", "13 27", Some(Cue::Expiry)), None);
        assert_eq!(kind("1234", "1234", None), None);
    }

    #[test]
    fn phones_by_shape_and_cue() {
        assert_eq!(
            kind("4155550134", "(415) 555-0134", None),
            Some(EntityKind::Phone)
        );
        assert_eq!(
            kind("442079460958", "+44 20 7946 0958", None),
            Some(EntityKind::Phone)
        );
        assert_eq!(
            kind("02079460958", "020 7946 0958", None),
            Some(EntityKind::Phone)
        );
        assert_eq!(kind("5550134", "555-0134", None), Some(EntityKind::Phone));
        assert_eq!(kind("5550134", "5550134", None), None);
        assert_eq!(kind("4155550134", "4155550134", Some(Cue::Other)), None);
        assert_eq!(kind("20261203", "2026-12-03", None), None);
        assert_eq!(
            kind(
                "12345678910",
                "one two three four five six seven eight nine ten",
                None
            ),
            None
        );
    }

    #[test]
    fn ssn_by_shape_and_rules() {
        assert_eq!(
            kind("536225789", "536-22-5789", None),
            Some(EntityKind::Ssn)
        );
        assert_eq!(kind("666225789", "666-22-5789", None), None);
    }
}
