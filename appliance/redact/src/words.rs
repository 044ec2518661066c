//! Words as a speech recogniser writes numbers: digit groups, number words ("five", "oh",
//! "nineteen", "seventy", "hundred"), repeaters ("double", "triple"), fillers ("uh") and the
//! words that introduce an extension.
//!
//! Classifying a word never allocates: words are lowercased into a small stack buffer, and a
//! word too long to be a number word is simply not one.

/// What one word of the input means to the number reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    /// A group of written digits, e.g. `415`.
    Digits,
    /// A single digit said as a word: "zero" to "nine".
    Unit(u8),
    /// "oh" or "o": zero, but only next to other number words.
    Oh,
    /// "ten" to "nineteen".
    Teen(u8),
    /// "twenty" to "ninety", as the tens digit.
    Tens(u8),
    /// "hundred".
    Hundred,
    /// "thousand".
    Thousand,
    /// "double" or "triple": the next digit said two or three times.
    Repeat(u8),
    /// "uh", "um" and other hesitations a recogniser leaves inside a number.
    Filler,
    /// "and", which joins "hundred and five".
    And,
    /// "plus", as in "plus four four".
    Plus,
    /// "ext", "extension" or "x" before an extension's digits.
    Ext,
    /// An extension written in one piece, e.g. `x204` or `ext204`.
    ExtDigits,
    /// Anything else.
    Other,
}

impl Word {
    /// Whether the word contributes digits on its own.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Word::Digits
                | Word::Unit(_)
                | Word::Oh
                | Word::Teen(_)
                | Word::Tens(_)
                | Word::Hundred
                | Word::Thousand
        )
    }
}

/// One word of the input with its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// What the word means.
    pub word: Word,
}

/// Splits `text` into words of ASCII letters and digits, appending them to `out`.
pub fn tokenize(text: &str, out: &mut Vec<Token>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        let word = classify(bytes.get(start..i).unwrap_or_default());
        out.push(Token {
            start,
            end: i,
            word,
        });
    }
}

/// What a single word means.
pub fn classify(word: &[u8]) -> Word {
    if word.iter().all(u8::is_ascii_digit) {
        return Word::Digits;
    }
    let mut buf = [0u8; 12];
    let Some(lower) = buf.get_mut(..word.len()) else {
        return Word::Other;
    };
    for (l, w) in lower.iter_mut().zip(word) {
        *l = w.to_ascii_lowercase();
    }
    if let Some(rest) = lower
        .strip_prefix(b"ext")
        .or_else(|| lower.strip_prefix(b"x"))
        && !rest.is_empty()
        && rest.iter().all(u8::is_ascii_digit)
    {
        return Word::ExtDigits;
    }
    named(lower)
}

fn named(lower: &[u8]) -> Word {
    match lower {
        b"zero" => Word::Unit(0),
        b"oh" | b"o" => Word::Oh,
        b"one" => Word::Unit(1),
        b"two" => Word::Unit(2),
        b"three" => Word::Unit(3),
        b"four" => Word::Unit(4),
        b"five" => Word::Unit(5),
        b"six" => Word::Unit(6),
        b"seven" => Word::Unit(7),
        b"eight" => Word::Unit(8),
        b"nine" => Word::Unit(9),
        b"ten" => Word::Teen(10),
        b"eleven" => Word::Teen(11),
        b"twelve" => Word::Teen(12),
        b"thirteen" => Word::Teen(13),
        b"fourteen" => Word::Teen(14),
        b"fifteen" => Word::Teen(15),
        b"sixteen" => Word::Teen(16),
        b"seventeen" => Word::Teen(17),
        b"eighteen" => Word::Teen(18),
        b"nineteen" => Word::Teen(19),
        b"twenty" => Word::Tens(2),
        b"thirty" => Word::Tens(3),
        b"forty" | b"fourty" => Word::Tens(4),
        b"fifty" => Word::Tens(5),
        b"sixty" => Word::Tens(6),
        b"seventy" => Word::Tens(7),
        b"eighty" => Word::Tens(8),
        b"ninety" => Word::Tens(9),
        b"hundred" => Word::Hundred,
        b"thousand" => Word::Thousand,
        b"double" => Word::Repeat(2),
        b"triple" => Word::Repeat(3),
        b"uh" | b"um" | b"umm" | b"uhm" | b"uhh" | b"er" | b"erm" | b"ah" | b"hmm" | b"mm" => {
            Word::Filler
        }
        b"and" => Word::And,
        b"plus" => Word::Plus,
        b"ext" | b"extension" | b"x" => Word::Ext,
        _ => Word::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Word> {
        let mut out = Vec::new();
        tokenize(text, &mut out);
        out.into_iter().map(|t| t.word).collect()
    }

    #[test]
    fn reads_number_words_in_any_case() {
        assert_eq!(
            words("Four oh NINETEEN seventy, uh, 415 x204"),
            [
                Word::Unit(4),
                Word::Oh,
                Word::Teen(19),
                Word::Tens(7),
                Word::Filler,
                Word::Digits,
                Word::ExtDigits
            ]
        );
    }

    #[test]
    fn mixed_words_are_other() {
        assert_eq!(
            words("4f2a9c call_id"),
            [Word::Other, Word::Other, Word::Other]
        );
        assert_eq!(words("extraordinarily"), [Word::Other]);
    }

    #[test]
    fn offsets_skip_non_ascii() {
        let mut out = Vec::new();
        tokenize("é five", &mut out);
        assert_eq!(out.first().map(|t| (t.start, t.end)), Some((3, 7)));
    }
}
