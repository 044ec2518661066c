//! The redactor of one tenant: its token key and policy applied to a text.
//!
//! Each text gives two forms: the forwarded one, with every entity replaced, and the local one
//! for the tenant's vault, where the kinds the policy keeps stay in clear. Card numbers, CVVs
//! and SSNs are replaced in both, which `Policy` guarantees.

use std::sync::Arc;

use crate::{EntityKind, Policy, Redacted, TokenKey, TranscriptText, detect};

/// One entity found in a text and what replaced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Byte offset of the entity in the text given to the redactor.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// What it is.
    pub kind: EntityKind,
    /// The token that replaced it, e.g. `[PHONE:7f3a]`.
    pub token: String,
    /// Whether the local form keeps it in clear.
    pub kept_locally: bool,
}

/// What the redactor made of one text.
#[derive(Debug)]
pub struct Redaction {
    /// The entities, in order.
    pub entities: Vec<Entity>,
    /// The text to forward: every entity replaced.
    pub forward: Redacted<String>,
    /// The text for the tenant's vault: entities replaced except those the policy keeps.
    pub local: Redacted<TranscriptText>,
}

/// A tenant's redactor: cheap to clone, one per call or track.
#[derive(Debug, Clone)]
pub struct Redactor {
    key: Arc<TokenKey>,
    policy: Policy,
}

impl Redactor {
    /// A redactor whose tokens are computed under `key` and whose local form follows `policy`.
    pub fn new(key: TokenKey, policy: Policy) -> Self {
        Redactor {
            key: Arc::new(key),
            policy,
        }
    }

    /// The policy it applies.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Redacts one complete text.
    pub fn redact(&self, text: &str) -> Redaction {
        self.redact_after(text, 0)
    }

    /// Redacts `text[from..]`, using `text[..from]` only as context for cues; offsets in the
    /// result are relative to `from`.
    pub(crate) fn redact_after(&self, text: &str, from: usize) -> Redaction {
        let own = text.get(from..).unwrap_or_default();
        let entities: Vec<Entity> = detect(text)
            .into_iter()
            .filter(|s| s.start >= from)
            .map(|s| Entity {
                start: s.start - from,
                end: s.end - from,
                kind: s.kind,
                token: self
                    .key
                    .token(s.kind, text.get(s.start..s.end).unwrap_or_default()),
                kept_locally: self.policy.keeps(s.kind),
            })
            .collect();

        let forward = replace(own, &entities, |_| true);
        let local = replace(own, &entities, |e| !e.kept_locally);
        Redaction {
            entities,
            forward: Redacted::new(forward),
            local: Redacted::new(TranscriptText::new(local)),
        }
    }
}

/// `text` with the entities `chosen` picks replaced by their tokens.
fn replace(text: &str, entities: &[Entity], chosen: impl Fn(&Entity) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for entity in entities.iter().filter(|e| chosen(e)) {
        out.push_str(text.get(at..entity.start).unwrap_or_default());
        out.push_str(&entity.token);
        at = entity.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(kept: &[&str]) -> Redactor {
        let policy = Policy::from_names(kept.iter().copied()).unwrap();
        Redactor::new(TokenKey::from_bytes([5; 32]), policy)
    }

    #[test]
    fn forwarded_text_replaces_everything_local_follows_policy() {
        let text = "call 415-555-0134 or mail a.b@example.com, card 4111 1111 1111 1111";
        let out = redactor(&["phone"]).redact(text);
        let forward = out.forward.as_str();
        assert!(!forward.contains("555") && !forward.contains("a.b@") && !forward.contains("4111"));
        let local = out.local.get().expose();
        assert!(local.contains("415-555-0134"), "{local}");
        assert!(
            !local.contains("a.b@") && !local.contains("4111"),
            "{local}"
        );
        assert_eq!(out.entities.len(), 3);
    }

    #[test]
    fn same_value_same_token_within_a_tenant_not_across() {
        let a = redactor(&[]).redact("call 415 555 0134");
        let b = redactor(&[]).redact("four one five five five five oh one three four");
        assert_eq!(a.entities[0].token, b.entities[0].token);
        let other = Redactor::new(TokenKey::from_bytes([6; 32]), Policy::keep_nothing());
        assert_ne!(
            other.redact("call 415 555 0134").entities[0].token,
            a.entities[0].token
        );
    }

    #[test]
    fn local_form_does_not_print() {
        let out = redactor(&["phone"]).redact("call 415 555 0134");
        assert!(!format!("{:?}", out.local).contains("555"));
    }
}
