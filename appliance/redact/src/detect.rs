//! The detector: finds every kind of personal data in one text, written or spoken.
//!
//! Shaped entities (emails, IBANs, IP addresses) are found first and claimed; then numbers are
//! read, and each is classified, or cut into the entities it holds when it is not one as a
//! whole ("call 415 555 0134, 415 555 0199"). Offsets are bytes on character boundaries.

use std::ops::Range;

use crate::classify::{self, Candidate, classify};
use crate::context::{self, Cue, Found};
use crate::kind::{EntityKind, Span};
use crate::numbers::{self, Numbers, Piece, Run};
use crate::words;
use crate::written;

// A run with more words than this is read in chunks, which bounds the cost of cutting it.
const MAX_CUT_PIECES: usize = 24;

/// Finds every entity in `text`, in order, without overlaps.
pub fn detect(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    if !text.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return spans;
    }

    let mut cues = Vec::new();
    context::find(text, &mut cues);
    let shaped = written::find(text);
    spans.extend_from_slice(&shaped.spans);
    let mut claimed = shaped.claimed;
    claimed.sort_by_key(|c| c.start);

    let mut tokens = Vec::new();
    words::tokenize(text, &mut tokens);
    let numbers = numbers::read(text, &tokens, &claimed);
    // A claimed entity or a number between a cue and a number stands between them. Both lists
    // are in order and do not overlap, so their ends are sorted too.
    let run_ends: Vec<usize> = numbers
        .runs
        .iter()
        .filter_map(|r| run_end(&numbers, r))
        .collect();
    let bound = |at: usize| {
        let claimed_end = before(&claimed, at, |c| c.end);
        let run_end = before(&run_ends, at, |e| *e);
        claimed_end.max(run_end).unwrap_or(0)
    };
    for run in &numbers.runs {
        cut(text, &numbers, run, &cues, bound(run.start), &mut spans);
    }
    for date in &shaped.slash_dates {
        if context::before(&cues, date.start, bound(date.start)) == Some(Cue::Expiry) {
            spans.push(Span {
                start: date.start,
                end: date.end,
                kind: EntityKind::CardExpiry,
            });
        }
    }

    spans.sort_by_key(|s| s.start);
    spans
}

/// The last `end` of `items` (sorted by it) that is at most `at`.
fn before<T>(items: &[T], at: usize, end: impl Fn(&T) -> usize) -> Option<usize> {
    let n = items.partition_point(|i| end(i) <= at);
    n.checked_sub(1).and_then(|i| items.get(i)).map(end)
}

fn run_end(numbers: &Numbers, run: &Run) -> Option<usize> {
    numbers
        .pieces
        .get(run.pieces.end.checked_sub(1)?)
        .map(|p| p.end)
}

/// Classifies `run` whole, or else cuts it into the longest pieces that are entities.
fn cut(
    text: &str,
    numbers: &Numbers,
    run: &Run,
    cues: &[Found],
    previous_end: usize,
    spans: &mut Vec<Span>,
) {
    let Range { start: first, end } = run.pieces.clone();
    // Someone counting is not saying numbers, whatever a piece of the count looks like; only a
    // cue ("account number") says otherwise.
    let uncued = context::before(cues, run.start, previous_end).is_none();
    let whole = |p: Option<&Piece>| p.map(|p| p.digits.clone());
    if uncued
        && let (Some(a), Some(b)) = (
            whole(numbers.pieces.get(first)),
            whole(numbers.pieces.get(end.wrapping_sub(1))),
        )
        && numbers
            .digits
            .get(a.start..b.end)
            .is_some_and(classify::counting)
    {
        return;
    }
    let mut a = first;
    while a < end {
        let limit = end.min(a + MAX_CUT_PIECES);
        let found = (a + 1..=limit).rev().find_map(|b| {
            candidate_span(text, numbers, run, a..b, cues, previous_end).map(|s| (b, s))
        });
        match found {
            Some((b, span)) => {
                spans.push(span);
                a = b;
            }
            None => a += 1,
        }
    }
}

/// The entity formed by pieces `part` of `run`, if they form one.
fn candidate_span(
    text: &str,
    numbers: &Numbers,
    run: &Run,
    part: Range<usize>,
    cues: &[Found],
    previous_end: usize,
) -> Option<Span> {
    let first = numbers.pieces.get(part.start)?;
    let last = numbers.pieces.get(part.end.checked_sub(1)?)?;
    let whole_start = part.start == run.pieces.start;
    let start = if whole_start { run.start } else { first.start };

    let ext = run.ext.filter(|e| part.start < *e && *e < part.end);
    let main_last = match ext {
        Some(e) => numbers.pieces.get(e - 1)?,
        None => last,
    };
    let digits = numbers
        .digits
        .get(first.digits.start..main_last.digits.end)?;
    let candidate = Candidate {
        digits,
        raw: text.get(start..main_last.end)?,
        plus: run.plus && whole_start,
        ext: ext.is_some(),
        cue: context::before(cues, start, previous_end),
    };
    classify(&candidate).map(|kind| Span {
        start,
        end: last.end,
        kind,
    })
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
    fn written_phone_numbers() {
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
        assert_eq!(
            found("desk 415-555-0134 ext. 204."),
            [("415-555-0134 ext. 204", EntityKind::Phone)]
        );
    }

    #[test]
    fn two_numbers_in_one_run_are_cut_apart() {
        assert_eq!(
            found("415 555 0134, 415 555 0199"),
            [
                ("415 555 0134", EntityKind::Phone),
                ("415 555 0199", EntityKind::Phone)
            ]
        );
    }

    #[test]
    fn spoken_numbers_with_fillers() {
        assert_eq!(
            found("it's four one five, uh, five five five oh one three four"),
            [(
                "four one five, uh, five five five oh one three four",
                EntityKind::Phone
            )]
        );
        assert_eq!(
            found("one eight hundred five five five one two one two"),
            [(
                "one eight hundred five five five one two one two",
                EntityKind::Phone
            )]
        );
    }

    #[test]
    fn a_card_call() {
        let text = "card 4111 1111 1111 1111 expires 12/27 and the cvv is 123";
        assert_eq!(
            found(text),
            [
                ("4111 1111 1111 1111", EntityKind::Card),
                ("12/27", EntityKind::CardExpiry),
                ("123", EntityKind::Cvv)
            ]
        );
    }

    #[test]
    fn negatives_stay() {
        for text in [
            "at 10:30 we had 3 calls, version 1.2.3",
            "it costs $1,299.99 for 12 units",
            "order number 4111 1111 1111 1112",
            "I live at 1600 Pennsylvania Avenue",
            "born nineteen seventy two",
            "see you at five",
            "it's one two three four five six seven eight nine ten",
            "on 2026-12-03 at 14:05",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }
}
