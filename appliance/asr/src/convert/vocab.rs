//! The vocabulary as whisper.cpp wants it: the raw bytes of each token.
//!
//! CTranslate2 stores GPT-2 byte-level tokens, in which every byte is shown as a printable
//! character; this maps them back. Special tokens are left out: whisper.cpp numbers them itself
//! from the header's vocabulary size.

use std::collections::HashMap;

use super::ConvertError;

/// The token that ends the ordinary vocabulary; it and everything after are special.
const END_OF_TEXT: &str = "<|endoftext|>";

/// GPT-2's byte-to-character table, inverted: printable Latin-1 bytes stand for themselves,
/// every other byte for the next unused code point from U+0100 on.
fn char_to_byte() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut next = 0x100u32;
    let mut table = HashMap::with_capacity(256);
    for byte in 0..=255u8 {
        let shown = if printable(byte) {
            u32::from(byte)
        } else {
            next += 1;
            next - 1
        };
        if let Some(c) = char::from_u32(shown) {
            table.insert(c, byte);
        }
    }
    table
}

/// The ordinary tokens of a vocabulary (one token per entry, in id order) as byte strings.
pub fn token_bytes<'a>(
    tokens: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Vec<u8>>, ConvertError> {
    let table = char_to_byte();
    let mut out = Vec::new();
    for token in tokens {
        if token == END_OF_TEXT {
            return Ok(out);
        }
        let bytes = token
            .chars()
            .map(|c| table.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                ConvertError::Vocabulary(format!("token {} is not byte-level BPE", out.len()))
            })?;
        out.push(bytes);
    }
    Err(ConvertError::Vocabulary(format!("no {END_OF_TEXT} token")))
}

/// Splits `vocabulary.txt` (one token a line) or `vocabulary.json` (a JSON list) into tokens.
pub fn parse(text: &str, json: bool) -> Result<Vec<String>, ConvertError> {
    if json {
        serde_json::from_str(text)
            .map_err(|e| ConvertError::Vocabulary(format!("vocabulary.json: {e}")))
    } else {
        Ok(text.lines().map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn maps_gpt2_characters_back_to_bytes() {
        // "Ġ" is the space, "Ċ" the newline, and "Ã©" the two UTF-8 bytes of "é".
        let tokens = ["!", "Ġthe", "Ċ", "Ã©", END_OF_TEXT, "<|startoftranscript|>"];
        let bytes = token_bytes(tokens).unwrap();
        assert_eq!(
            bytes,
            [
                b"!".to_vec(),
                b" the".to_vec(),
                b"\n".to_vec(),
                "é".as_bytes().to_vec()
            ]
        );
    }

    #[test]
    fn refuses_a_vocabulary_without_end_of_text_or_with_foreign_characters() {
        assert!(token_bytes(["a", "b"]).is_err());
        assert!(token_bytes(["a", "\u{4e2d}", END_OF_TEXT]).is_err());
    }
}
