//! Word error rate, for tests and benchmarks that judge recognition against a reference.
//!
//! Text is normalised the way Whisper's English evaluations do at their simplest: lowercase,
//! punctuation removed (hyphens and slashes split words), whitespace collapsed, so that
//! "Americans," and "americans" count as the same word.

/// The words of `text`, normalised for comparison.
pub fn normalise(text: &str) -> Vec<String> {
    let spaced: String = text
        .chars()
        .map(|c| {
            if matches!(c, '-' | '/' | '—' | '–') {
                ' '
            } else {
                c
            }
        })
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect();
    spaced.split_whitespace().map(str::to_owned).collect()
}

/// Word-level edit distance between `reference` and `hypothesis`, after normalisation.
pub fn errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let (want, got) = (normalise(reference), normalise(hypothesis));
    // One row of the Levenshtein table at a time.
    let mut previous: Vec<usize> = (0..=got.len()).collect();
    for (i, w) in want.iter().enumerate() {
        let mut row = Vec::with_capacity(got.len() + 1);
        row.push(i + 1);
        for (j, g) in got.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(w != g);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = row.last().copied().unwrap_or(0) + 1;
            row.push(substitute.min(delete).min(insert));
        }
        previous = row;
    }
    (previous.last().copied().unwrap_or(0), want.len())
}

/// Word error rate: edits needed over reference words (0.0 is perfect; it can exceed 1.0).
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (edits, words) = errors(reference, hypothesis);
    if words == 0 {
        return if edits == 0 { 0.0 } else { 1.0 };
    }
    edits as f64 / words as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_case_and_punctuation() {
        assert_eq!(
            normalise("Ask not -- what YOUR country's, well-known"),
            ["ask", "not", "what", "your", "countrys", "well", "known"]
        );
        assert_eq!(
            wer("And so, my fellow Americans.", "and so my fellow americans"),
            0.0
        );
    }

    #[test]
    fn counts_substitutions_deletions_and_insertions() {
        assert_eq!(errors("a b c d", "a x c d"), (1, 4));
        assert_eq!(errors("a b c d", "a c d"), (1, 4));
        assert_eq!(errors("a b c d", "a b c d e f"), (2, 4));
        assert_eq!(wer("a b", ""), 1.0);
        assert_eq!(wer("", ""), 0.0);
    }
}
