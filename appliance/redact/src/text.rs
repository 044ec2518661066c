//! The type that carries transcript text before redaction.

/// Text as the recogniser wrote it: it may hold anything the caller said.
///
/// It has no `Display`, and its `Debug` shows only the length, so it cannot end up in a log
/// line by accident. The only way to its content is [`TranscriptText::expose`], whose callers are
/// few and reviewed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TranscriptText(String);

impl TranscriptText {
    /// Wraps text produced by the recogniser.
    pub fn new(text: String) -> Self {
        TranscriptText(text)
    }

    /// The text itself, for the redactor and the vault.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in characters, which is safe to log.
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl std::fmt::Debug for TranscriptText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TranscriptText(<{} chars hidden>)", self.char_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_content() {
        let text = TranscriptText::new("my number is 415 555 0134".to_owned());
        let shown = format!("{text:?}");
        assert!(!shown.contains("415"), "{shown}");
        assert_eq!(shown, "TranscriptText(<25 chars hidden>)");
    }
}
