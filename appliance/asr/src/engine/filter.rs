//! What must not become a transcript: segments Whisper itself judges to be no speech,
//! non-speech annotations (`[BLANK_AUDIO]`, `(music)`), the filler phrases Whisper invents on
//! noise, and the repetition loops its decoder can fall into.
//!
//! Pure functions on text and scores, so every rule is tested without a model.

/// A segment as whisper.cpp returned it, with the scores the filter judges it by.
#[derive(Debug, Clone)]
pub struct RawSegment {
    /// The recognised text.
    pub text: String,
    /// Whisper's probability that the window holds no speech.
    pub no_speech_prob: f32,
    /// The mean log-probability of the text tokens.
    pub avg_logprob: f32,
}

/// When a segment counts as no speech.
#[derive(Debug, Clone, Copy)]
pub struct FilterOptions {
    /// Whisper's no-speech probability above which a low-confidence segment is dropped.
    pub no_speech_threshold: f32,
}

/// Phrases Whisper produces on silence and noise (learned from subtitled video).
const FILLERS: [&str; 14] = [
    "you",
    "thank you",
    "thanks",
    "thank you very much",
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "bye",
    "bye bye",
    "so",
    "okay",
    "oh",
    "uh",
    "um",
];

/// Below this mean log-probability a segment is a guess, the same bound Whisper uses.
const GUESS_LOGPROB: f32 = -1.0;

/// The text to keep from a segment, or `None` when it must be dropped.
pub fn keep(segment: &RawSegment, options: FilterOptions) -> Option<String> {
    let text = drop_repeats(&drop_character_loops(&strip_annotations(&segment.text)));
    let words = normalise(&text);
    if words.is_empty() {
        return None;
    }

    let no_speech = segment.no_speech_prob > options.no_speech_threshold;
    if no_speech && segment.avg_logprob < GUESS_LOGPROB {
        return None;
    }
    // A lone filler phrase is kept only when Whisper is sure both that there is speech and of
    // the words: a caller does say "thank you".
    let unsure = segment.no_speech_prob > options.no_speech_threshold / 3.0
        || segment.avg_logprob < GUESS_LOGPROB / 2.0;
    if unsure && FILLERS.contains(&words.join(" ").as_str()) {
        return None;
    }
    Some(text)
}

/// Removes bracketed, parenthesised and starred annotations and music symbols.
fn strip_annotations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut closing: Option<char> = None;
    for c in text.chars() {
        match (closing, c) {
            (Some(end), c) if c == end => closing = None,
            (Some(_), _) => {}
            (None, '[') => closing = Some(']'),
            (None, '(') => closing = Some(')'),
            (None, '*') => closing = Some('*'),
            (None, '♪' | '♫') => {}
            (None, c) => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lowercase words without punctuation, for comparing text.
fn normalise(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty() && w != "'")
        .collect()
}

/// A character repeated back to back more often than this is a decoder loop: no number a caller
/// says holds so long a run of one digit (a card number has at most 19 digits).
const MAX_CHARACTER_RUN: usize = 19;

/// Cuts a run of one character longer than [`MAX_CHARACTER_RUN`] down to one copy, as
/// [`drop_repeats`] does for words: "1111...1" repeated for hundreds of tokens is a loop.
pub fn drop_character_loops(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let mut run = 1;
        while chars.peek() == Some(&c) {
            chars.next();
            run += 1;
        }
        let kept = if run > MAX_CHARACTER_RUN { 1 } else { run };
        out.extend(std::iter::repeat_n(c, kept));
    }
    out
}

/// Cuts a run of the same word group repeated back to back down to one copy: three or more
/// copies of a group of two to eight words, or four or more of a single word, are a decoder
/// loop, not speech.
pub fn drop_repeats(text: &str) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let key = |w: &str| normalise(w).concat();
    let mut start = 0;
    while start < words.len() {
        let mut cut = None;
        for n in 1..=8 {
            let limit = if n == 1 { 4 } else { 3 };
            let same =
                |i: usize, j: usize| words.get(i).map(|w| key(w)) == words.get(j).map(|w| key(w));
            let mut copies = 1;
            while start + (copies + 1) * n <= words.len()
                && (0..n).all(|k| same(start + k, start + copies * n + k))
            {
                copies += 1;
            }
            if copies >= limit {
                cut = Some((n, copies));
                break;
            }
        }
        match cut {
            Some((n, copies)) => {
                words.drain(start + n..start + copies * n);
                start += n;
            }
            None => start += 1,
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: FilterOptions = FilterOptions {
        no_speech_threshold: 0.6,
    };

    fn raw(text: &str, no_speech_prob: f32, avg_logprob: f32) -> RawSegment {
        RawSegment {
            text: text.to_owned(),
            no_speech_prob,
            avg_logprob,
        }
    }

    #[test]
    fn keeps_confident_speech() {
        let kept = keep(&raw(" Please hold the line.", 0.01, -0.2), OPTIONS);
        assert_eq!(kept.as_deref(), Some("Please hold the line."));
        let thanks = keep(&raw(" Thank you.", 0.02, -0.1), OPTIONS);
        assert_eq!(thanks.as_deref(), Some("Thank you."));
    }

    #[test]
    fn drops_no_speech_annotations_and_unsure_fillers() {
        assert_eq!(keep(&raw("[BLANK_AUDIO]", 0.1, -0.1), OPTIONS), None);
        assert_eq!(keep(&raw(" (music) ♪", 0.1, -0.1), OPTIONS), None);
        assert_eq!(keep(&raw(" ...", 0.1, -0.1), OPTIONS), None);
        assert_eq!(keep(&raw(" Thank you.", 0.3, -0.3), OPTIONS), None);
        assert_eq!(keep(&raw(" you", 0.05, -0.8), OPTIONS), None);
        assert_eq!(
            keep(&raw(" The account is closed.", 0.8, -1.4), OPTIONS),
            None
        );
        let annotated = keep(&raw(" [laughs] Yes, that's right.", 0.1, -0.2), OPTIONS);
        assert_eq!(annotated.as_deref(), Some("Yes, that's right."));
    }

    #[test]
    fn cuts_decoder_loops() {
        assert_eq!(
            drop_repeats("I will I will I will I will call"),
            "I will call"
        );
        assert_eq!(drop_repeats("okay, okay. okay okay okay"), "okay,");
        assert_eq!(drop_repeats("no no no"), "no no no");
        assert_eq!(drop_repeats("the cat and the cat"), "the cat and the cat");
        assert_eq!(drop_repeats("a b c a b c a b c d"), "a b c d");
    }

    #[test]
    fn cuts_a_character_repeated_for_hundreds_of_tokens() {
        let looped = format!("my card number is 411. {}", "1".repeat(220));
        assert_eq!(drop_character_loops(&looped), "my card number is 411. 1");
        let card = "4111111111111111111";
        assert_eq!(drop_character_loops(card), card);
        assert_eq!(drop_character_loops("soooo   fine"), "soooo   fine");
        let segment = raw(&format!("It is {}.", "0".repeat(40)), 0.01, -0.2);
        assert_eq!(keep(&segment, OPTIONS).as_deref(), Some("It is 0."));
    }
}
