//! The words before a number that say what it is: "card number", "CVV", "expires", "routing",
//! "PIN", and the ones that say it is none of our business ("order number", "invoice").
//!
//! One Aho-Corasick automaton, built once, finds every cue in a line in a single pass.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// What the words before a number say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// "phone", "call", "number", "cell"...
    Phone,
    /// "card", "credit card", "visa"...
    Card,
    /// "expires", "expiry", "exp"...
    Expiry,
    /// "cvv", "security code"...
    Cvv,
    /// "ssn", "social security"...
    Ssn,
    /// "account number", "checking"...
    Account,
    /// "routing number", "aba"...
    Routing,
    /// "pin", "passcode"...
    Pin,
    /// "order", "invoice", "ticket", "zip"...: an identifier that is not personal data.
    Other,
}

/// A cue found in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Byte offset one past the cue.
    pub end: usize,
    /// What it says.
    pub cue: Cue,
}

const CUES: &[(&str, Cue)] = &[
    ("phone", Cue::Phone),
    ("phone number", Cue::Phone),
    ("number", Cue::Phone),
    ("call", Cue::Phone),
    ("call me", Cue::Phone),
    ("call me at", Cue::Phone),
    ("cell", Cue::Phone),
    ("mobile", Cue::Phone),
    ("reach me", Cue::Phone),
    ("reach me at", Cue::Phone),
    ("dial", Cue::Phone),
    ("fax", Cue::Phone),
    ("text me", Cue::Phone),
    ("callback", Cue::Phone),
    ("tel", Cue::Phone),
    ("card", Cue::Card),
    ("card number", Cue::Card),
    ("credit card", Cue::Card),
    ("debit card", Cue::Card),
    ("visa", Cue::Card),
    ("mastercard", Cue::Card),
    ("amex", Cue::Card),
    ("exp", Cue::Expiry),
    ("expires", Cue::Expiry),
    ("expiring", Cue::Expiry),
    ("expiry", Cue::Expiry),
    ("expiry date", Cue::Expiry),
    ("expiration", Cue::Expiry),
    ("expiration date", Cue::Expiry),
    ("valid thru", Cue::Expiry),
    ("valid through", Cue::Expiry),
    ("good thru", Cue::Expiry),
    ("cvv", Cue::Cvv),
    ("cvv2", Cue::Cvv),
    ("cvc", Cue::Cvv),
    ("csc", Cue::Cvv),
    ("cid", Cue::Cvv),
    ("security code", Cue::Cvv),
    ("card verification", Cue::Cvv),
    ("code on the back", Cue::Cvv),
    ("ssn", Cue::Ssn),
    ("social", Cue::Ssn),
    ("social security", Cue::Ssn),
    ("social security number", Cue::Ssn),
    ("account", Cue::Account),
    ("account number", Cue::Account),
    ("acct", Cue::Account),
    ("bank account", Cue::Account),
    ("checking", Cue::Account),
    ("checking account", Cue::Account),
    ("savings", Cue::Account),
    ("savings account", Cue::Account),
    ("routing", Cue::Routing),
    ("routing number", Cue::Routing),
    ("aba", Cue::Routing),
    ("transit number", Cue::Routing),
    ("pin", Cue::Pin),
    ("pin number", Cue::Pin),
    ("pin code", Cue::Pin),
    ("passcode", Cue::Pin),
    ("order", Cue::Other),
    ("order number", Cue::Other),
    ("invoice", Cue::Other),
    ("ticket", Cue::Other),
    ("ticket number", Cue::Other),
    ("invoice number", Cue::Other),
    ("reference number", Cue::Other),
    ("member number", Cue::Other),
    ("room number", Cue::Other),
    ("flight number", Cue::Other),
    ("model number", Cue::Other),
    ("confirmation", Cue::Other),
    ("confirmation number", Cue::Other),
    ("tracking", Cue::Other),
    ("tracking number", Cue::Other),
    ("reference", Cue::Other),
    ("case", Cue::Other),
    ("case number", Cue::Other),
    ("serial", Cue::Other),
    ("serial number", Cue::Other),
    ("model", Cue::Other),
    ("zip", Cue::Other),
    ("zip code", Cue::Other),
    ("postcode", Cue::Other),
    ("room", Cue::Other),
    ("flight", Cue::Other),
    ("version", Cue::Other),
    ("port", Cue::Other),
    ("pid", Cue::Other),
    ("part number", Cue::Other),
    ("sku", Cue::Other),
    ("policy number", Cue::Other),
    ("member id", Cue::Other),
];

static AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .build(CUES.iter().map(|(word, _)| word))
        .unwrap_or_else(|e| unreachable!("static cue list: {e}"))
});

/// Every cue in `text` that stands as whole words, in order, appended to `out`.
pub fn find(text: &str, out: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    let is_word = |i: Option<usize>| {
        i.and_then(|i| bytes.get(i))
            .is_some_and(u8::is_ascii_alphanumeric)
    };
    for m in AUTOMATON.find_iter(text) {
        // `[PHONE:7f3a]` names a kind but is no cue: it is a token this crate wrote.
        let in_token = m.start() > 0
            && bytes.get(m.start() - 1) == Some(&b'[')
            && bytes.get(m.end()) == Some(&b':');
        if in_token || is_word(m.start().checked_sub(1)) || is_word(Some(m.end())) {
            continue;
        }
        if let Some((_, cue)) = CUES.get(m.pattern().as_usize()) {
            out.push(Found {
                end: m.end(),
                cue: *cue,
            });
        }
    }
}

// How far before a number its cue may end: "card number is, uh, " and a little more.
const REACH: usize = 40;

/// The cue that ends closest before `at`, within reach and with no other number between.
// Limitation: only cues before a number count; "1234 is my PIN" keeps its PIN in clear.
pub fn before(found: &[Found], at: usize, previous_number_end: usize) -> Option<Cue> {
    // Cues are found in order without overlaps, so their ends are sorted.
    let n = found.partition_point(|f| f.end <= at);
    n.checked_sub(1)
        .and_then(|i| found.get(i))
        .filter(|f| f.end + REACH >= at && f.end >= previous_number_end)
        .map(|f| f.cue)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(text: &str) -> Vec<Cue> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.into_iter().map(|f| f.cue).collect()
    }

    #[test]
    fn longest_cue_wins() {
        assert_eq!(cues("my Account Number is"), [Cue::Account]);
        assert_eq!(cues("the order number"), [Cue::Other]);
        assert_eq!(cues("card, then CVV"), [Cue::Card, Cue::Cvv]);
    }

    #[test]
    fn cues_are_whole_words() {
        assert!(cues("pinned spinning accountant idle").is_empty());
    }

    #[test]
    fn nearest_cue_within_reach() {
        let mut found = Vec::new();
        let text = "cvv is 123";
        find(text, &mut found);
        assert_eq!(before(&found, 7, 0), Some(Cue::Cvv));
        assert_eq!(before(&found, 7, 5), None, "a number sits between");
        assert_eq!(before(&found, 3 + REACH + 1, 0), None);
    }
}
