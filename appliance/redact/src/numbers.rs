//! Reads numbers out of text the way a person would: written digit groups and spoken digits,
//! "double five", "nineteen seventy two", "one eight hundred", with fillers and pauses inside.
//!
//! The result is a set of runs: stretches of the input that read as one number, each with the
//! digits it stands for and, per word, which digits came from it, so a run can later be cut
//! into the entities it holds. Nothing here decides what a number is.

use std::ops::Range;

use crate::words::{Token, Word};

/// One numeric word and the digits it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Byte offset of the word.
    pub start: usize,
    /// Byte offset one past the word.
    pub end: usize,
    /// The digits it produced, in [`Numbers::digits`].
    pub digits: Range<usize>,
}

/// A stretch of input that reads as one number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Byte offset where the run starts, including a leading `+`, `(`, "plus" or "double".
    pub start: usize,
    /// Its pieces, in [`Numbers::pieces`].
    pub pieces: Range<usize>,
    /// A written `+` or a spoken "plus" came first.
    pub plus: bool,
    /// The first piece of an extension ("ext 204"), if any.
    pub ext: Option<usize>,
}

/// The runs found in one text, with the digit buffer they share.
#[derive(Debug, Default)]
pub struct Numbers {
    /// Every digit read, as ASCII.
    pub digits: Vec<u8>,
    /// Every numeric word, in order.
    pub pieces: Vec<Piece>,
    /// The runs, in order.
    pub runs: Vec<Run>,
}

// Most bytes of punctuation and space allowed between two words of one number: enough for
// ") ", " - " or "... ", not for a sentence break with a list after it.
const MAX_GAP: usize = 5;

#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A tens word left its units digit as `0` at this position.
    Units(usize),
    /// "hundred" left `00` here.
    Hundreds(usize),
    /// "thousand" left `000` here.
    Thousands(usize),
}

/// The reader's state while it walks the words.
struct Reader<'a> {
    text: &'a [u8],
    out: Numbers,
    open: Option<Run>,
    anchor: usize,
    slot: Option<Slot>,
    repeat: u8,
    after_and: bool,
}

/// Reads every run in `text` from its `tokens`, skipping words inside `claimed` byte ranges
/// (sorted, not overlapping), which other detectors already took.
pub fn read(text: &str, tokens: &[Token], claimed: &[Range<usize>]) -> Numbers {
    let mut reader = Reader {
        text: text.as_bytes(),
        out: Numbers::default(),
        open: None,
        anchor: 0,
        slot: None,
        repeat: 1,
        after_and: false,
    };
    let mut claim = claimed.iter().peekable();
    for (i, token) in tokens.iter().enumerate() {
        while claim.next_if(|c| c.end <= token.start).is_some() {}
        if claim.peek().is_some_and(|c| c.start < token.end) {
            reader.close();
            continue;
        }
        let next = tokens
            .get(i + 1)
            .filter(|n| reader.gap_ok(token.end, n.start));
        reader.step(token, next.map(|n| n.word));
    }
    reader.close();
    reader.out
}

impl Reader<'_> {
    fn gap_ok(&self, from: usize, to: usize) -> bool {
        let gap = self.text.get(from..to).unwrap_or_default();
        gap.len() <= MAX_GAP && gap.iter().all(|b| b" \t-.(),".contains(b))
    }

    fn joins(&self, token: &Token) -> bool {
        self.open.is_some() && self.gap_ok(self.anchor, token.start)
    }

    fn step(&mut self, token: &Token, next: Option<Word>) {
        let next_numeric = next.is_some_and(Word::is_numeric);
        match token.word {
            Word::Filler if self.joins(token) => self.anchor = token.end,
            Word::And if self.joins(token) && self.slot.is_some() && next_numeric => {
                self.after_and = true;
                self.anchor = token.end;
            }
            Word::Repeat(n) if matches!(next, Some(Word::Unit(_) | Word::Oh)) => {
                self.begin_unless_joined(token, false);
                self.repeat = n;
            }
            Word::Plus if next_numeric => {
                self.close();
                self.begin(token.start, false);
                if let Some(run) = self.open.as_mut() {
                    run.plus = true;
                }
                self.anchor = token.end;
            }
            Word::Ext if self.joins(token) && next_numeric && self.ext_free() => {
                self.mark_ext();
                self.anchor = token.end;
            }
            Word::ExtDigits if self.joins(token) && self.ext_free() => {
                self.mark_ext();
                let first = token.start
                    + self
                        .text
                        .get(token.start..token.end)
                        .map_or(0, |w| w.iter().take_while(|b| !b.is_ascii_digit()).count());
                self.push_piece(token, |r| r.push_written(first, token.end));
            }
            Word::Oh
                if self.joins(token) || next_numeric || matches!(next, Some(Word::Repeat(_))) =>
            {
                self.numeric(token);
            }
            w if w.is_numeric() && w != Word::Oh => self.numeric(token),
            _ => self.close(),
        }
    }

    fn ext_free(&self) -> bool {
        self.open.as_ref().is_some_and(|r| r.ext.is_none())
    }

    fn mark_ext(&mut self) {
        let at = self.out.pieces.len();
        if let Some(run) = self.open.as_mut() {
            run.ext = Some(at);
        }
        self.slot = None;
    }

    fn begin_unless_joined(&mut self, token: &Token, written: bool) {
        if !self.joins(token) {
            self.close();
            let start = if written {
                self.written_start(token.start)
            } else {
                token.start
            };
            self.begin(
                start,
                written && start < token.start && self.plus_before(token.start),
            );
        }
        self.anchor = token.end;
    }

    fn written_start(&self, at: usize) -> usize {
        let mut start = at;
        if start > 0 && self.text.get(start - 1) == Some(&b'(') {
            start -= 1;
        }
        if start > 0 && self.text.get(start - 1) == Some(&b'+') {
            start -= 1;
        }
        start
    }

    fn plus_before(&self, at: usize) -> bool {
        let start = self.written_start(at);
        self.text.get(start) == Some(&b'+')
    }

    fn begin(&mut self, start: usize, plus: bool) {
        let first = self.out.pieces.len();
        self.open = Some(Run {
            start,
            pieces: first..first,
            plus,
            ext: None,
        });
        self.slot = None;
        self.repeat = 1;
        self.after_and = false;
    }

    fn close(&mut self) {
        if let Some(mut run) = self.open.take() {
            run.pieces.end = self.out.pieces.len();
            if !run.pieces.is_empty() {
                self.out.runs.push(run);
            }
        }
        self.slot = None;
        self.repeat = 1;
        self.after_and = false;
    }

    fn numeric(&mut self, token: &Token) {
        let empty_run = self
            .open
            .as_ref()
            .is_none_or(|r| r.pieces.start == self.out.pieces.len());
        let multiplier = matches!(token.word, Word::Hundred | Word::Thousand);
        if multiplier && (!self.joins(token) || empty_run && self.repeat == 1) {
            self.close();
            return;
        }
        self.begin_unless_joined(token, token.word == Word::Digits);
        let word = token.word;
        self.push_piece(token, |r| r.emit(word, token));
    }

    fn push_piece(&mut self, token: &Token, emit: impl FnOnce(&mut Self)) {
        let before = self.out.digits.len();
        emit(self);
        let after = self.out.digits.len();
        self.out.pieces.push(Piece {
            start: token.start,
            end: token.end,
            digits: before..after,
        });
        self.anchor = token.end;
    }

    fn push_written(&mut self, from: usize, to: usize) {
        let digits = self.text.get(from..to).unwrap_or_default();
        self.out.digits.extend_from_slice(digits);
        self.slot = None;
    }

    fn emit(&mut self, word: Word, token: &Token) {
        let after_and = std::mem::take(&mut self.after_and);
        let repeat = std::mem::replace(&mut self.repeat, 1);
        let slot = self.slot.take();
        match word {
            Word::Digits => self.push_written(token.start, token.end),
            Word::Unit(d) => self.unit(d, repeat, slot, after_and),
            Word::Oh => self.unit(0, repeat, slot, after_and),
            Word::Teen(n) => self.teen(n, slot),
            Word::Tens(t) => self.tens(t, slot),
            Word::Hundred => self.multiply(2),
            Word::Thousand => self.multiply(3),
            _ => {}
        }
    }

    fn set(&mut self, at: usize, digit: u8) {
        if let Some(d) = self.out.digits.get_mut(at) {
            *d = b'0' + digit;
        }
    }

    fn unit(&mut self, d: u8, repeat: u8, slot: Option<Slot>, after_and: bool) {
        match slot {
            Some(Slot::Units(at)) if repeat == 1 => self.set(at, d),
            Some(Slot::Hundreds(at)) if after_and => self.set(at + 1, d),
            Some(Slot::Thousands(at)) if repeat == 1 => self.set(at + 2, d),
            _ => {
                for _ in 0..repeat {
                    self.out.digits.push(b'0' + d);
                }
            }
        }
    }

    /// Where a two-digit word ("fifteen", "forty") writes its digits: into the place a preceding
    /// "hundred" or "thousand" left open, or two new digits.
    fn two_digit_place(&mut self, slot: Option<Slot>) -> usize {
        match slot {
            Some(Slot::Hundreds(at)) => at,
            Some(Slot::Thousands(at)) => at + 1,
            _ => {
                self.out.digits.extend_from_slice(b"00");
                self.out.digits.len() - 2
            }
        }
    }

    fn teen(&mut self, n: u8, slot: Option<Slot>) {
        let at = self.two_digit_place(slot);
        self.set(at, n / 10);
        self.set(at + 1, n % 10);
    }

    fn tens(&mut self, t: u8, slot: Option<Slot>) {
        let at = self.two_digit_place(slot);
        self.set(at, t);
        self.set(at + 1, 0);
        self.slot = Some(Slot::Units(at + 1));
    }

    fn multiply(&mut self, zeros: usize) {
        let at = self.out.digits.len();
        self.out.digits.resize(at + zeros, b'0');
        self.slot = Some(if zeros == 2 {
            Slot::Hundreds(at)
        } else {
            Slot::Thousands(at)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tokenize;

    /// Each run as (its text, its digits).
    fn runs(text: &str) -> Vec<(String, String)> {
        let mut tokens = Vec::new();
        tokenize(text, &mut tokens);
        let n = read(text, &tokens, &[]);
        n.runs
            .iter()
            .map(|r| {
                let last = n.pieces.get(r.pieces.end - 1).unwrap();
                let first = n.pieces.get(r.pieces.start).unwrap();
                let digits = n.digits.get(first.digits.start..last.digits.end).unwrap();
                (
                    text[r.start..last.end].to_owned(),
                    String::from_utf8(digits.to_vec()).unwrap(),
                )
            })
            .collect()
    }

    fn digits(text: &str) -> Vec<String> {
        runs(text).into_iter().map(|(_, d)| d).collect()
    }

    #[test]
    fn written_groups_join_across_separators() {
        assert_eq!(
            runs("call +1 (415) 555-0134 now"),
            [("+1 (415) 555-0134".to_owned(), "14155550134".to_owned())]
        );
        assert_eq!(digits("at 10:30"), ["10", "30"]);
    }

    #[test]
    fn spoken_digits_fillers_and_repeats() {
        assert_eq!(
            digits("four one five, uh, double five five oh one three four"),
            ["4155550134"]
        );
        assert_eq!(digits("triple seven"), ["777"]);
        assert_eq!(digits("one eight hundred five five five"), ["1800555"]);
    }

    #[test]
    fn compound_numbers() {
        assert_eq!(digits("nineteen seventy two"), ["1972"]);
        assert_eq!(digits("twenty-one"), ["21"]);
        assert_eq!(digits("eight hundred and five"), ["805"]);
        assert_eq!(digits("eight hundred fifty two"), ["852"]);
        assert_eq!(digits("two thousand twelve"), ["2012"]);
        assert_eq!(digits("oh four twenty seven"), ["0427"]);
    }

    #[test]
    fn words_break_runs_and_oh_needs_a_neighbour() {
        assert_eq!(digits("five apples and six pears"), ["5", "6"]);
        assert!(digits("oh I see, a hundred reasons").is_empty());
        assert!(digits("j o h n").is_empty());
    }

    #[test]
    fn extensions_stay_in_the_run() {
        let n = runs("555-0134 ext. 204 please");
        assert_eq!(
            n,
            [("555-0134 ext. 204".to_owned(), "5550134204".to_owned())]
        );
        assert_eq!(digits("555-0134 x204"), ["5550134204"]);
    }
}
