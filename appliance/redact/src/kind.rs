//! The kinds of personal data the detector recognises, and where one was found.
//!
//! A kind's label appears inside tokens (`[PHONE:7f3a]`) and in `--json` output; its name is
//! what a tenant's redaction policy lists. Neither may ever change once tokens are stored.

use std::fmt;

/// The kinds of personal data the detector recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    /// A telephone number in any written or spoken form, with its extension.
    Phone,
    /// An email address, written or spelled out.
    Email,
    /// A payment card number (13 to 19 digits, Luhn-valid, a known brand range).
    Card,
    /// A card's expiry date, said or written next to words such as "expires".
    CardExpiry,
    /// A card's security code, next to words such as "CVV" or "security code".
    Cvv,
    /// A US social security number that follows the SSA's assignment rules.
    Ssn,
    /// A bank account number next to words such as "account number".
    BankAccount,
    /// An ABA routing number (with a valid checksum) next to words such as "routing".
    Routing,
    /// An IBAN with a valid mod-97 check.
    Iban,
    /// A PIN next to the word "PIN".
    Pin,
    /// An IPv4 or IPv6 address.
    IpAddress,
}

impl EntityKind {
    /// Every kind, in a fixed order.
    pub const ALL: [EntityKind; 11] = [
        EntityKind::Phone,
        EntityKind::Email,
        EntityKind::Card,
        EntityKind::CardExpiry,
        EntityKind::Cvv,
        EntityKind::Ssn,
        EntityKind::BankAccount,
        EntityKind::Routing,
        EntityKind::Iban,
        EntityKind::Pin,
        EntityKind::IpAddress,
    ];

    /// The label used inside tokens, e.g. `PHONE` in `[PHONE:7f3a]`.
    pub fn label(self) -> &'static str {
        match self {
            EntityKind::Phone => "PHONE",
            EntityKind::Email => "EMAIL",
            EntityKind::Card => "CARD",
            EntityKind::CardExpiry => "EXPIRY",
            EntityKind::Cvv => "CVV",
            EntityKind::Ssn => "SSN",
            EntityKind::BankAccount => "ACCOUNT",
            EntityKind::Routing => "ROUTING",
            EntityKind::Iban => "IBAN",
            EntityKind::Pin => "PIN",
            EntityKind::IpAddress => "IP",
        }
    }

    /// The name a redaction policy uses, e.g. `bank_account`.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Phone => "phone",
            EntityKind::Email => "email",
            EntityKind::Card => "card",
            EntityKind::CardExpiry => "card_expiry",
            EntityKind::Cvv => "cvv",
            EntityKind::Ssn => "ssn",
            EntityKind::BankAccount => "bank_account",
            EntityKind::Routing => "routing_number",
            EntityKind::Iban => "iban",
            EntityKind::Pin => "pin",
            EntityKind::IpAddress => "ip_address",
        }
    }

    /// The kind a policy name or a label stands for, ignoring case.
    pub fn parse(text: &str) -> Option<EntityKind> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(text) || k.label().eq_ignore_ascii_case(text))
    }

    /// Whether this kind may never be kept in clear, not even in the tenant's own vault.
    pub fn never_in_clear(self) -> bool {
        matches!(self, EntityKind::Card | EntityKind::Cvv | EntityKind::Ssn)
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One detected entity: where it is in the input and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte of the entity; always on a character boundary.
    pub start: usize,
    /// Byte offset one past the last byte of the entity; always on a character boundary.
    pub end: usize,
    /// What was found there.
    pub kind: EntityKind,
}

impl Span {
    /// Whether the two spans share at least one byte.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_parse_back() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.name()), Some(kind));
            assert_eq!(EntityKind::parse(kind.label()), Some(kind));
        }
        assert_eq!(EntityKind::parse("passport"), None);
    }

    #[test]
    fn only_card_cvv_and_ssn_are_never_in_clear() {
        let never: Vec<_> = EntityKind::ALL
            .into_iter()
            .filter(|k| k.never_in_clear())
            .collect();
        assert_eq!(never, [EntityKind::Card, EntityKind::Cvv, EntityKind::Ssn]);
    }
}
