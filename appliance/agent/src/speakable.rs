//! Turns a reply that holds redaction tokens into words a caller can hear.
//!
//! The model sees only tokens (`[PHONE:7f3a]`) and may repeat them; speech synthesis must never
//! read one out, so each becomes a natural phrase ("the number you gave"). This module never
//! sees the values behind the tokens, and must never try to bring them back.

/// The reply text with every token replaced by a phrase for its kind.
pub fn speakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        match token_len(from) {
            Some((len, label)) => {
                out.push_str(phrase(label));
                rest = from.get(len..).unwrap_or_default();
            }
            None => {
                out.push('[');
                rest = from.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// The length of a token at the start of `text` and its label, e.g. `PHONE`.
fn token_len(text: &str) -> Option<(usize, &str)> {
    let close = text.find(']')?;
    let inner = text.get(1..close)?;
    let (label, id) = inner.split_once(':')?;
    let label_ok = !label.is_empty() && label.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit());
    (label_ok && id_ok).then_some((close + 1, label))
}

fn phrase(label: &str) -> &'static str {
    match label {
        "PHONE" => "the number you gave",
        "EMAIL" => "the email address you gave",
        "CARD" => "the card you gave",
        "EXPIRY" => "the expiry date you gave",
        "CVV" => "the security code you gave",
        "SSN" => "the social security number you gave",
        "ACCOUNT" => "the account number you gave",
        "ROUTING" => "the routing number you gave",
        "IBAN" => "the bank account you gave",
        "PIN" => "the PIN you gave",
        _ => "the details you gave",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_become_phrases() {
        assert_eq!(
            speakable("I will call [PHONE:7f3a] and write to [EMAIL:00ff]."),
            "I will call the number you gave and write to the email address you gave."
        );
    }

    #[test]
    fn brackets_that_are_not_tokens_stay() {
        assert_eq!(
            speakable("a [note] and [PHONE:] and [x"),
            "a [note] and [PHONE:] and [x"
        );
        assert_eq!(speakable("[NEWKIND:1a]"), "the details you gave");
    }
}
