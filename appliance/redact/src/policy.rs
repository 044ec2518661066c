//! A tenant's redaction policy: which kinds of personal data its own vault keeps in clear.
//!
//! Forwarded text always has every detected entity replaced, whatever the policy says. A policy
//! can never keep card numbers, CVVs or SSNs in clear; constructing one that tries is an error,
//! not a silent correction, so a sysadmin learns that the setting does not do what they meant.

use crate::EntityKind;

/// Which kinds a tenant's vault keeps in clear. The default keeps none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    // One bit per kind, by its position in `EntityKind::ALL`.
    kept: u16,
}

/// Why a policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A name that is no entity kind.
    #[error("`{0}` is not an entity kind; use one of: {names}", names = kind_names())]
    UnknownKind(String),
    /// A kind that may never be kept in clear.
    #[error("`{0}` is never kept in clear, not even in the local vault; remove it from the policy")]
    NeverInClear(EntityKind),
}

fn kind_names() -> String {
    let names: Vec<_> = EntityKind::ALL
        .iter()
        .filter(|k| !k.never_in_clear())
        .map(|k| k.name())
        .collect();
    names.join(", ")
}

impl Policy {
    /// A policy that keeps nothing in clear.
    pub fn keep_nothing() -> Self {
        Policy::default()
    }

    /// A policy that keeps `kinds` in clear in the local vault.
    pub fn keeping(kinds: impl IntoIterator<Item = EntityKind>) -> Result<Self, PolicyError> {
        let mut policy = Policy::default();
        for kind in kinds {
            if kind.never_in_clear() {
                return Err(PolicyError::NeverInClear(kind));
            }
            policy.kept |= bit(kind);
        }
        Ok(policy)
    }

    /// A policy from kind names as a configuration lists them, e.g. `["phone", "email"]`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, PolicyError> {
        let kinds = names
            .into_iter()
            .map(|name| {
                EntityKind::parse(name).ok_or_else(|| PolicyError::UnknownKind(name.into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Policy::keeping(kinds)
    }

    /// Whether the local vault keeps `kind` in clear.
    pub fn keeps(&self, kind: EntityKind) -> bool {
        self.kept & bit(kind) != 0
    }

    /// The kinds kept in clear, in a fixed order.
    pub fn kept(&self) -> impl Iterator<Item = EntityKind> + '_ {
        EntityKind::ALL.into_iter().filter(|k| self.keeps(*k))
    }
}

fn bit(kind: EntityKind) -> u16 {
    let index = EntityKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    1 << index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_it_lists() {
        let policy = Policy::from_names(["phone", "EMAIL"]).unwrap();
        assert!(policy.keeps(EntityKind::Phone) && policy.keeps(EntityKind::Email));
        assert!(!policy.keeps(EntityKind::Iban));
        assert_eq!(
            policy.kept().collect::<Vec<_>>(),
            [EntityKind::Phone, EntityKind::Email]
        );
        assert_eq!(Policy::keep_nothing().kept().count(), 0);
    }

    #[test]
    fn refuses_cards_cvvs_ssns_and_unknown_names() {
        for never in ["card", "cvv", "ssn"] {
            let err = Policy::from_names(["phone", never]).unwrap_err();
            assert!(matches!(err, PolicyError::NeverInClear(_)), "{never}");
            assert!(err.to_string().contains("never kept in clear"), "{err}");
        }
        let err = Policy::from_names(["passport"]).unwrap_err();
        assert!(err.to_string().contains("bank_account"), "{err}");
    }
}
