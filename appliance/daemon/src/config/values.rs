//! Configuration values that check themselves while they are parsed, so a bad value is
//! reported at its own line and column.

use std::fmt;
use std::net::SocketAddr;

use diala_redact::Policy;
use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

/// Reads an integer in `min..=max`; `what` is how the error describes the expected value.
pub(super) fn bounded<'de, D: Deserializer<'de>>(
    d: D,
    min: u64,
    max: u64,
    what: &'static str,
) -> Result<u64, D::Error> {
    struct Bounded {
        min: u64,
        max: u64,
        what: &'static str,
    }

    impl Visitor<'_> for Bounded {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} from {} to {}", self.what, self.min, self.max)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
            }
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            if (self.min..=self.max).contains(&v) {
                Ok(v)
            } else {
                Err(E::invalid_value(Unexpected::Unsigned(v), &self))
            }
        }
    }

    d.deserialize_u64(Bounded { min, max, what })
}

/// How long a tenant's transcripts are kept: 1 to 365 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(pub u16);

impl Default for RetentionDays {
    fn default() -> Self {
        RetentionDays(90)
    }
}

impl<'de> Deserialize<'de> for RetentionDays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let days = bounded(d, 1, 365, "a number of days")?;
        Ok(RetentionDays(u16::try_from(days).unwrap_or(365)))
    }
}

/// How long a stopping daemon waits for work in flight: 1 to 600 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraceSecs(pub u64);

impl Default for GraceSecs {
    fn default() -> Self {
        GraceSecs(30)
    }
}

impl<'de> Deserialize<'de> for GraceSecs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bounded(d, 1, 600, "a number of seconds").map(GraceSecs)
    }
}

/// A tenant id: 1 to 32 lowercase letters, digits and dashes, starting with a letter or digit.
/// It names directories and appears in metrics, so it is kept to a safe alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is_valid(s: &str) -> bool {
        let safe = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        (1..=32).contains(&s.len()) && s.chars().all(safe) && !s.starts_with('-')
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if TenantId::is_valid(&s) {
            Ok(TenantId(s))
        } else {
            Err(de::Error::invalid_value(
                Unexpected::Str(&s),
                &"a tenant id of 1 to 32 lowercase letters, digits and dashes",
            ))
        }
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of personal data a tenant's vault keeps in clear, as a redaction policy. Kinds
/// that may never be kept (cards, CVVs, SSNs) and unknown names are refused here, at their line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepInClear(pub Policy);

impl<'de> Deserialize<'de> for KeepInClear {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        Policy::from_names(names.iter().map(String::as_str))
            .map(KeepInClear)
            .map_err(de::Error::custom)
    }
}

/// A socket address on the loopback interface, for endpoints that must stay local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopbackAddr(pub SocketAddr);

impl<'de> Deserialize<'de> for LoopbackAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let expected = &"a loopback address and port such as 127.0.0.1:9464";
        match s.parse::<SocketAddr>() {
            Ok(addr) if addr.ip().is_loopback() => Ok(LoopbackAddr(addr)),
            _ => Err(de::Error::invalid_value(Unexpected::Str(&s), expected)),
        }
    }
}

/// A telephone number in E.164 form: `+` and 8 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct E164(pub String);

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let digits = s.strip_prefix('+').unwrap_or("");
        if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(E164(s))
        } else {
            // The value is not echoed: it may be a real subscriber number.
            Err(de::Error::custom(
                "expected a number in E.164 form such as +14155550100",
            ))
        }
    }
}
