//! Properties that hold for any input: nothing panics, redacting twice changes nothing, and no
//! digit run of a detected entity survives in the forwarded text.
//!
//! Inputs are drawn from arbitrary strings and from a vocabulary of the pieces entities are
//! made of (digit groups, number words, cues, separators, `@`, non-ASCII), which reaches the
//! detector's corners far more often than random characters do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diala_redact::{Policy, Redactor, Scrubber, TokenKey, TrackRedactor};
use proptest::prelude::*;

const VOCABULARY: &[&str] = &[
    "call",
    "my",
    "number",
    "is",
    "card",
    "cvv",
    "pin",
    "expires",
    "routing",
    "account",
    "ssn",
    "order",
    "at",
    "dot",
    "com",
    "gmail",
    "j",
    "o",
    "uh",
    "five",
    "oh",
    "double",
    "triple",
    "twenty",
    "nineteen",
    "hundred",
    "thousand",
    "and",
    "plus",
    "ext",
    "x12",
    "415",
    "555",
    "0134",
    "4111",
    "1111",
    "021000021",
    "536-22-5789",
    "+1",
    "(415)",
    "@",
    "a.b@example.com",
    "GB82 WEST 1234 5698 7654 32",
    "192.0.2.1",
    "2001:db8::1",
    "12/27",
    "[PHONE:7f3a]",
    "é",
    "日本",
    "-",
    ".",
    ",",
    "\t",
    "0",
    "9",
    "seven",
    "four",
    "one",
];

fn vocabulary_text() -> impl Strategy<Value = String> {
    let word = prop::sample::select(VOCABULARY);
    let sep = prop::sample::select(&[" ", " ", " ", "", ", ", "-", "  "][..]);
    prop::collection::vec((word, sep), 0..40).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(w, s)| [w, s])
            .collect::<String>()
    })
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![vocabulary_text(), any::<String>(), "[0-9 ,.()+@a-z-]{0,80}"]
}

fn redactor() -> Redactor {
    Redactor::new(
        TokenKey::from_bytes([9; 32]),
        Policy::from_names(["phone"]).unwrap(),
    )
}

/// Maximal runs of at least three ASCII digits.
fn digit_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() >= 3)
        .collect()
}

/// `text` without the tokens the redactor wrote, whose hex may hold digits by chance.
fn without_tokens(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match rest[open..].find(']') {
            Some(close) => rest = &rest[open + close + 1..],
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn never_panics_and_spans_are_sound(text in any_text()) {
        let spans = diala_redact::detect(&text);
        for pair in spans.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "overlap in {text:?}");
        }
        for span in &spans {
            prop_assert!(span.start < span.end && text.get(span.start..span.end).is_some());
        }
        let _ = Scrubber::new(TokenKey::from_bytes([1; 32])).scrub(&text);
    }

    #[test]
    fn redaction_is_idempotent(text in any_text()) {
        let redactor = redactor();
        let once = redactor.redact(&text);
        let twice = redactor.redact(once.forward.as_str());
        prop_assert_eq!(once.forward.as_str(), twice.forward.as_str());
        prop_assert!(twice.entities.is_empty());
    }

    #[test]
    fn no_digit_run_of_an_entity_survives(text in vocabulary_text()) {
        let out = redactor().redact(&text);
        let mut outside = text.clone();
        for e in out.entities.iter().rev() {
            outside.replace_range(e.start..e.end, " ");
        }
        let forwarded = without_tokens(out.forward.as_str());
        for e in &out.entities {
            for run in digit_runs(&text[e.start..e.end]) {
                if !outside.contains(run) {
                    prop_assert!(!forwarded.contains(run), "{run} of {text:?} in {forwarded:?}");
                }
            }
        }
    }

    #[test]
    fn segments_lose_no_text_and_leak_no_entity(
        segments in prop::collection::vec(vocabulary_text(), 1..5)
    ) {
        let mut track = TrackRedactor::new(redactor());
        let mut forwarded = String::new();
        let mut tokens = 0;
        for segment in &segments {
            let out = track.push(segment);
            tokens += out.entities.len();
            forwarded.push_str(out.forward.as_str());
        }
        let last = track.finish();
        tokens += last.entities.len();
        forwarded.push_str(last.forward.as_str());
        prop_assert!(!track.is_holding());
        prop_assert_eq!(forwarded.matches('[').count() >= tokens, true);
        if tokens == 0 {
            let squeeze = |t: &str| t.split_whitespace().collect::<String>();
            prop_assert_eq!(squeeze(&forwarded), squeeze(&segments.concat()));
        }
    }
}
