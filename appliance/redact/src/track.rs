//! Redaction of one track's segments in order, where a number may be split between segments.
//!
//! A recogniser cuts utterances at pauses, and people pause inside numbers: "four one five" in
//! one segment, "five five five oh one three four" in the next. The track redactor holds back
//! the tail of a segment that may be the start of an entity (a trailing number, a spelled-out
//! address) and redacts it with the next segment. It also keeps a little of the text it has
//! already released, only as context for cues such as "card number is".

use crate::numbers;
use crate::words::{self, Token, Word};
use crate::{Redaction, Redactor};

// Most text held back: longer than any entity said aloud, short enough to bound the delay.
const MAX_HOLD: usize = 256;
// How far after a number its trailing words ("extension", "uh") may reach.
const NEAR: usize = 16;
// Released text kept as context for the next segment's cues.
const CONTEXT: usize = 48;

/// The redactor of one track: feed it segments in order with [`TrackRedactor::push`] and call
/// [`TrackRedactor::finish`] when the track ends.
#[derive(Debug)]
pub struct TrackRedactor {
    redactor: Redactor,
    held: String,
    context: String,
}

impl TrackRedactor {
    /// A track redactor applying `redactor`'s key and policy.
    pub fn new(redactor: Redactor) -> Self {
        TrackRedactor {
            redactor,
            held: String::new(),
            context: String::new(),
        }
    }

    /// Redacts what can be released of `segment` (with what was held before it). The released
    /// text may be empty when everything might still be the start of an entity.
    pub fn push(&mut self, segment: &str) -> Redaction {
        let mut pending = std::mem::take(&mut self.held);
        if !pending.is_empty() && !segment.is_empty() && !pending.ends_with(char::is_whitespace) {
            pending.push(' ');
        }
        pending.push_str(segment);

        let hold_from = hold_point(&pending);
        self.held = pending.get(hold_from..).unwrap_or_default().to_owned();
        pending.truncate(hold_from);
        self.release(&pending)
    }

    /// Redacts whatever is still held: the track has ended.
    pub fn finish(&mut self) -> Redaction {
        let pending = std::mem::take(&mut self.held);
        self.release(&pending)
    }

    /// Whether text is held back waiting for the next segment.
    pub fn is_holding(&self) -> bool {
        !self.held.trim().is_empty()
    }

    fn release(&mut self, text: &str) -> Redaction {
        let mut joined = std::mem::take(&mut self.context);
        if !joined.is_empty() && !joined.ends_with(char::is_whitespace) {
            joined.push(' ');
        }
        let from = joined.len();
        joined.push_str(text);
        let redaction = self.redactor.redact_after(&joined, from);

        let mut keep = joined.len().saturating_sub(CONTEXT);
        while !joined.is_char_boundary(keep) {
            keep += 1;
        }
        self.context = joined.get(keep..).unwrap_or_default().to_owned();
        redaction
    }
}

/// Where the text that may continue in the next segment starts; `text.len()` if none.
fn hold_point(text: &str) -> usize {
    let mut tokens = Vec::new();
    words::tokenize(text, &mut tokens);
    let tail = tokens
        .iter()
        .rposition(|t| t.word != Word::Filler)
        .map_or(0, |i| i + 1);
    let Some(last) = tail.checked_sub(1).and_then(|i| tokens.get(i)) else {
        return text.len();
    };

    let start = if trailing_number(text, &tokens, tail) {
        // The last run, if the words after it ("ext", "uh") are only a few.
        let read = numbers::read(text, &tokens, &[]);
        let ends_near = |r: &&numbers::Run| {
            let end = r.pieces.end.checked_sub(1).and_then(|i| read.pieces.get(i));
            end.is_some_and(|p| p.end + NEAR >= last.end)
        };
        read.runs.last().filter(ends_near).map(|r| r.start)
    } else {
        spelled_tail(text, &tokens, tail)
    };
    match start {
        Some(start) if text.len() - start <= MAX_HOLD => start,
        _ => text.len(),
    }
}

/// Whether the last word that is not a filler belongs to a number.
fn trailing_number(text: &str, tokens: &[Token], tail: usize) -> bool {
    let Some(last) = tail.checked_sub(1).and_then(|i| tokens.get(i)) else {
        return false;
    };
    let after = text.get(last.end..).unwrap_or_default();
    let numeric = last.word.is_numeric() || matches!(last.word, Word::ExtDigits | Word::Ext);
    numeric && !after.contains(['.', '?', '!'])
}

/// The start of a trailing run of spelled letters and "dot"/"at" joins, which may be the first
/// half of an email address.
fn spelled_tail(text: &str, tokens: &[Token], tail: usize) -> Option<usize> {
    const JOINS: [&str; 6] = ["at", "dot", "period", "underscore", "dash", "hyphen"];
    let mut start = None;
    let mut before_join = false;
    for token in tokens.get(..tail)?.iter().rev() {
        let word = text.get(token.start..token.end).unwrap_or_default();
        let join = JOINS.iter().any(|j| j.eq_ignore_ascii_case(word));
        if !(join || word.len() == 1 || before_join) {
            break;
        }
        start = Some(token.start);
        before_join = join;
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EntityKind, Policy, TokenKey};

    fn track() -> TrackRedactor {
        TrackRedactor::new(Redactor::new(
            TokenKey::from_bytes([1; 32]),
            Policy::keep_nothing(),
        ))
    }

    fn forwarded(track: &mut TrackRedactor, segments: &[&str]) -> (String, Vec<EntityKind>) {
        let mut text = String::new();
        let mut kinds = Vec::new();
        let outs = segments.iter().map(|s| track.push(s)).collect::<Vec<_>>();
        for out in outs.into_iter().chain([track.finish()]) {
            text.push_str(out.forward.as_str());
            kinds.extend(out.entities.iter().map(|e| e.kind));
        }
        (text, kinds)
    }

    #[test]
    fn a_number_split_between_segments_is_caught() {
        let mut track = track();
        let (text, kinds) = forwarded(
            &mut track,
            &[
                "my number is four one five",
                "five five five oh one three four",
            ],
        );
        assert_eq!(kinds, [EntityKind::Phone]);
        assert!(
            !text.contains("four one five") && !text.contains("three four"),
            "{text}"
        );
    }

    #[test]
    fn holds_only_what_may_continue() {
        let mut track = track();
        let first = track.push("my card number is 4111 1111");
        assert_eq!(first.forward.as_str(), "my card number is ");
        assert!(track.is_holding());
        let second = track.push("1111 1111 thanks.");
        assert_eq!(second.entities.len(), 1, "{:?}", second.entities);
        assert_eq!(second.entities[0].kind, EntityKind::Card);
        assert!(
            second.forward.as_str().starts_with("[CARD:"),
            "{}",
            second.forward
        );
        assert!(!track.is_holding());
    }

    #[test]
    fn cue_in_the_previous_segment_still_counts() {
        let mut track = track();
        let (_, kinds) = forwarded(&mut track, &["and the cvv is", "one two three"]);
        assert_eq!(kinds, [EntityKind::Cvv]);
    }

    #[test]
    fn spelled_email_across_segments() {
        let mut track = track();
        let (text, kinds) = forwarded(&mut track, &["it is j o h n dot", "smith at gmail dot com"]);
        assert_eq!(kinds, [EntityKind::Email]);
        assert!(!text.contains("smith"), "{text}");
    }

    #[test]
    fn an_extension_said_in_the_next_segment_joins_its_number() {
        let mut track = track();
        let (text, kinds) = forwarded(
            &mut track,
            &["desk is 415 555 0134 extension", "two oh four. bye"],
        );
        assert_eq!(kinds, [EntityKind::Phone]);
        assert!(
            text.starts_with("desk is [PHONE:") && text.ends_with("]. bye"),
            "{text}"
        );
    }

    #[test]
    fn finish_releases_a_held_tail() {
        let mut track = track();
        assert_eq!(track.push("we open at 9").forward.as_str(), "we open at ");
        assert_eq!(track.finish().forward.as_str(), "9");
    }
}
