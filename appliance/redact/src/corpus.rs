//! The labelled corpus format and its scoring, shared by the corpus test, the benchmark and
//! anyone scoring a detector (ours or another) on the same lines.
//!
//! A corpus is JSON Lines: `{"text", "form", "entities": [{"start", "end", "type", "value"}]}`,
//! offsets in characters. Parsing checks every label against its text, so a corpus whose
//! offsets drifted is refused, not scored.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::EntityKind;

/// How a corpus line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// As typed: digits, `@`, separators.
    Written,
    /// As a speech recogniser writes speech: number words, fillers, spelled addresses.
    Spoken,
    /// A line with no personal data that looks as if it might have some.
    Negative,
}

/// One labelled entity, in characters of its line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    /// Character offset of its first character.
    pub start: usize,
    /// Character offset one past its last character.
    pub end: usize,
    /// Its kind, by label (`PHONE`) or name (`phone`).
    #[serde(rename = "type", deserialize_with = "kind_from_str")]
    pub kind: EntityKind,
    /// The text at those offsets, which parsing checks.
    pub value: String,
}

/// One corpus line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Line {
    /// The text.
    pub text: String,
    /// How it is written.
    pub form: Form,
    /// What it holds.
    #[serde(default)]
    pub entities: Vec<Label>,
}

/// A detection to score, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Character offset of its first character.
    pub start: usize,
    /// Character offset one past its last character.
    pub end: usize,
    /// Its kind.
    pub kind: EntityKind,
}

/// Why a corpus was refused.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A line is not a corpus object.
    #[error("corpus line {line}: {source}")]
    Json {
        /// 1-based line number.
        line: usize,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A label's offsets do not hold its value.
    #[error(
        "corpus line {line}: characters {start}..{end} are {found:?}, not the labelled {value:?}"
    )]
    Offsets {
        /// 1-based line number.
        line: usize,
        /// The label's start.
        start: usize,
        /// The label's end.
        end: usize,
        /// What the offsets hold.
        found: String,
        /// What the label says.
        value: String,
    },
    /// A negative line carries labels.
    #[error("corpus line {0}: a negative line has labels")]
    LabelledNegative(usize),
}

fn kind_from_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<EntityKind, D::Error> {
    let name = String::deserialize(d)?;
    EntityKind::parse(&name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown entity type `{name}`")))
}

/// Parses a JSON Lines corpus, skipping blank lines, and checks every label's offsets.
pub fn parse(jsonl: &str) -> Result<Vec<Line>, CorpusError> {
    let mut lines = Vec::new();
    for (i, raw) in jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line: Line = serde_json::from_str(raw).map_err(|source| CorpusError::Json {
            line: i + 1,
            source,
        })?;
        if line.form == Form::Negative && !line.entities.is_empty() {
            return Err(CorpusError::LabelledNegative(i + 1));
        }
        for label in &line.entities {
            let found: String = line
                .text
                .chars()
                .skip(label.start)
                .take(label.end.saturating_sub(label.start))
                .collect();
            if found != label.value || label.end <= label.start {
                return Err(CorpusError::Offsets {
                    line: i + 1,
                    start: label.start,
                    end: label.end,
                    found,
                    value: label.value.clone(),
                });
            }
        }
        lines.push(line);
    }
    Ok(lines)
}

/// The character offset of byte offset `byte` in `text`.
pub fn char_offset(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .map_or_else(|| text.chars().count(), |s| s.chars().count())
}

/// Counts for one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Labels found with the right kind.
    pub true_positives: usize,
    /// Detections that match no label of their kind.
    pub false_positives: usize,
    /// Labels not found.
    pub false_negatives: usize,
}

impl Counts {
    /// Found labels over all detections; 1 when nothing was detected.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Found labels over all labels; 1 when there were none.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// A detector's score on a corpus.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scorecard {
    /// Per kind, over all lines.
    pub by_kind: BTreeMap<EntityKind, Counts>,
    /// Per form of line: recall of written and of spoken labels.
    pub by_form: BTreeMap<Form, Counts>,
    /// Negative lines in the corpus.
    pub negative_lines: usize,
    /// Negative lines where anything at all was detected.
    pub negative_lines_touched: usize,
}

impl Scorecard {
    /// The share of negative lines that were touched.
    pub fn negatives_touched(&self) -> f64 {
        if self.negative_lines == 0 {
            0.0
        } else {
            self.negative_lines_touched as f64 / self.negative_lines as f64
        }
    }

    /// Adds one line's detections. A detection counts for a label of the same kind whose
    /// characters it overlaps.
    pub fn add(&mut self, line: &Line, found: &[Found]) {
        if line.form == Form::Negative {
            self.negative_lines += 1;
            self.negative_lines_touched += usize::from(!found.is_empty());
        }
        let matches = |l: &Label, f: &Found| l.kind == f.kind && l.start < f.end && f.start < l.end;
        for label in &line.entities {
            let hit = found.iter().any(|f| matches(label, f));
            for counts in [
                self.by_kind.entry(label.kind).or_default(),
                self.by_form.entry(line.form).or_default(),
            ] {
                if hit {
                    counts.true_positives += 1;
                } else {
                    counts.false_negatives += 1;
                }
            }
        }
        for f in found {
            if !line.entities.iter().any(|l| matches(l, f)) {
                self.by_kind.entry(f.kind).or_default().false_positives += 1;
                self.by_form.entry(line.form).or_default().false_positives += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_drifted_offsets() {
        let ok = r#"{"text":"é call 415 555 0134","form":"written","entities":[{"start":7,"end":19,"type":"PHONE","value":"415 555 0134"}]}"#;
        assert_eq!(parse(ok).unwrap().len(), 1);
        let drifted = ok.replace("\"start\":7", "\"start\":6");
        let err = parse(&drifted).unwrap_err();
        assert!(err.to_string().contains("corpus line 1"), "{err}");
    }

    #[test]
    fn scores_overlap_of_the_same_kind() {
        let line = parse(r#"{"text":"call 415 555 0134","form":"written","entities":[{"start":5,"end":17,"type":"phone","value":"415 555 0134"}]}"#).unwrap().remove(0);
        let mut card = Scorecard::default();
        card.add(
            &line,
            &[
                Found {
                    start: 4,
                    end: 17,
                    kind: EntityKind::Phone,
                },
                Found {
                    start: 0,
                    end: 4,
                    kind: EntityKind::Pin,
                },
            ],
        );
        assert_eq!(card.by_kind[&EntityKind::Phone].recall(), 1.0);
        assert_eq!(card.by_kind[&EntityKind::Pin].precision(), 0.0);
    }
}
