//! The labelled corpus: its offsets are right, and the detector meets per-kind precision and
//! recall floors on it, with few negative lines touched.
//!
//! On failure the test prints every missed and spurious detection, which is what one needs to
//! improve the detector.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use diala_redact::EntityKind;
use diala_redact::corpus::{self, Form, Found, Line, Scorecard};

const CORPUS: &str = include_str!("corpus/transcripts.jsonl");

fn found(line: &Line) -> Vec<Found> {
    diala_redact::detect(&line.text)
        .into_iter()
        .map(|s| Found {
            start: corpus::char_offset(&line.text, s.start),
            end: corpus::char_offset(&line.text, s.end),
            kind: s.kind,
        })
        .collect()
}

fn lines() -> Vec<Line> {
    corpus::parse(CORPUS).expect("the corpus parses and its offsets hold their values")
}

#[test]
fn corpus_is_large_and_covers_every_form() {
    let lines = lines();
    assert!(lines.len() >= 300, "{} lines", lines.len());
    for form in [Form::Written, Form::Spoken, Form::Negative] {
        assert!(
            lines.iter().filter(|l| l.form == form).count() >= 90,
            "{form:?}"
        );
    }
}

#[test]
fn detector_meets_its_floors() {
    let mut card = Scorecard::default();
    for line in lines() {
        let found = found(&line);
        let before = card.clone();
        card.add(&line, &found);
        if card != before && !same_hits(&before, &card) {
            let shown: Vec<_> = found
                .iter()
                .map(|f| (f.kind.label(), f.start, f.end))
                .collect();
            let wanted: Vec<_> = line
                .entities
                .iter()
                .map(|e| (e.kind.label(), e.start, e.end))
                .collect();
            println!(
                "MISS {:?}: {:?}\n   found {shown:?}\n  wanted {wanted:?}",
                line.form, line.text
            );
        }
    }

    for (kind, counts) in &card.by_kind {
        println!(
            "{:8} p={:.3} r={:.3} {counts:?}",
            kind.label(),
            counts.precision(),
            counts.recall()
        );
    }
    let written = card.by_form[&Form::Written].recall();
    let spoken = card.by_form[&Form::Spoken].recall();
    println!("written recall {written:.3}, spoken recall {spoken:.3}");
    println!("negatives touched {:.3}", card.negatives_touched());

    assert!(written >= 0.95, "written recall {written:.3}");
    assert!(spoken >= 0.90, "spoken recall {spoken:.3}");
    assert!(
        card.negatives_touched() < 0.03,
        "negatives touched {:.3}",
        card.negatives_touched()
    );
    for kind in EntityKind::ALL {
        let counts = card.by_kind.get(&kind).copied().unwrap_or_default();
        assert!(counts.true_positives > 0, "{kind} is not in the corpus");
        assert!(
            counts.recall() >= 0.85,
            "{kind} recall {:.3}",
            counts.recall()
        );
        assert!(
            counts.precision() >= 0.85,
            "{kind} precision {:.3}",
            counts.precision()
        );
    }
}

/// Whether only true positives changed between two scorecards (the line was handled right).
fn same_hits(before: &Scorecard, after: &Scorecard) -> bool {
    let errors = |c: &Scorecard| {
        c.by_kind
            .values()
            .map(|k| k.false_positives + k.false_negatives)
            .sum::<usize>()
            + c.negative_lines_touched
    };
    errors(before) == errors(after)
}
