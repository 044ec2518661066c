//! Cuts a streamed model reply into sentences, so each can go to speech synthesis as soon as it
//! is complete and the first one plays while the rest is still being generated.
//!
//! A sentence ends at `.`, `!` or `?` (with closing quotes or brackets) followed by white space;
//! the white space must have arrived, so "3.5" or "e.g." mid-chunk does not cut. It must never
//! cut inside a redaction token (`[PHONE:7f3a]`), which holds none of those characters.

/// Collects model text and hands out complete sentences.
#[derive(Debug, Default)]
pub struct SentenceCutter {
    pending: String,
}

impl SentenceCutter {
    /// An empty cutter.
    pub fn new() -> Self {
        SentenceCutter::default()
    }

    /// Adds a chunk of streamed text and returns the sentences it completed, trimmed.
    pub fn push(&mut self, chunk: &str) -> Vec<String> {
        self.pending.push_str(chunk);
        let mut out = Vec::new();
        while let Some(end) = sentence_end(&self.pending) {
            let rest = self.pending.split_off(end);
            let sentence = std::mem::replace(&mut self.pending, rest);
            push_trimmed(&mut out, &sentence);
        }
        out
    }

    /// The text left once the reply has ended, as a last sentence, if any.
    pub fn finish(&mut self) -> Option<String> {
        let mut out = Vec::new();
        push_trimmed(&mut out, &std::mem::take(&mut self.pending));
        out.pop()
    }
}

fn push_trimmed(out: &mut Vec<String>, sentence: &str) {
    let trimmed = sentence.trim();
    if !trimmed.is_empty() {
        out.push(trimmed.to_owned());
    }
}

/// The byte index just past the first complete sentence's terminator and closers.
fn sentence_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        while let Some(&(_, next)) = chars.peek() {
            if matches!(next, '.' | '!' | '?' | '"' | '\'' | ')' | '\u{201d}') {
                chars.next();
            } else {
                break;
            }
        }
        if let Some(&(at, next)) = chars.peek()
            && next.is_whitespace()
        {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_come_out_as_soon_as_the_space_after_them_arrives() {
        let mut cutter = SentenceCutter::new();
        assert!(cutter.push("Sure, I can").is_empty());
        assert!(cutter.push(" help.").is_empty());
        assert_eq!(cutter.push(" What is"), vec!["Sure, I can help."]);
        assert!(cutter.push(" the order?").is_empty());
        assert_eq!(cutter.finish().as_deref(), Some("What is the order?"));
        assert_eq!(cutter.finish(), None);
    }

    #[test]
    fn decimals_tokens_and_quotes_are_not_cut() {
        let mut cutter = SentenceCutter::new();
        let out = cutter.push("It costs 3.5 dollars. I have [PHONE:7f3a] on file!\" Next ");
        assert_eq!(
            out,
            vec!["It costs 3.5 dollars.", "I have [PHONE:7f3a] on file!\""]
        );
        assert_eq!(cutter.finish().as_deref(), Some("Next"));
    }

    #[test]
    fn several_sentences_in_one_chunk() {
        let mut cutter = SentenceCutter::new();
        assert_eq!(
            cutter.push("One. Two? Three! "),
            vec!["One.", "Two?", "Three!"]
        );
    }
}
