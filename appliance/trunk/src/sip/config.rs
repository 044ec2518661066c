//! SIP trunks as configured: who may send calls, and which tenant each dialled number is.
//!
//! A trunk is a PBX or SBC, known by the networks its requests come from. The first trunk
//! whose allowlist holds the source address is the one that sent the request; its numbers map
//! the dialled number (the Request-URI's user part) to a tenant. A source that matches no trunk
//! is not answered at all. This module must never take the tenant from anything the caller
//! sets other than the dialled number within a trunk proven by its source.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use serde::Deserialize;

use super::digest::{DigestCredentials, DigestPassword};
use super::header::normalise_number;

/// Why a SIP configuration cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Two trunks share a name: names label metrics and logs, so they must differ.
    #[error("two SIP trunks are named `{0}`: give each trunk its own name")]
    DuplicateTrunk(String),
    /// A trunk with no source network would never match.
    #[error("SIP trunk `{0}` has no `sources`: list the networks its PBX or SBC sends from")]
    NoSources(String),
    /// A number is listed twice in one trunk.
    #[error("SIP trunk `{trunk}` lists a number twice: each number belongs to one tenant")]
    DuplicateNumber {
        /// The trunk's name.
        trunk: String,
    },
    /// A number has no digits.
    #[error("SIP trunk `{trunk}` has a number without digits: write it as +15551230000")]
    EmptyNumber {
        /// The trunk's name.
        trunk: String,
    },
    /// A trunk asks for digest authentication but no password was given for it.
    #[error(
        "SIP trunk `{0}` has `digest` but no password: provide the credential `sip-digest-{0}`"
    )]
    MissingPassword(String),
    /// A call limit of zero would refuse every call.
    #[error("a SIP call limit is 0: remove it or set at least 1")]
    ZeroLimit,
}

/// The `[sip]` section: the listener, the limits and the trunks.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// Where SIP is received (UDP), e.g. `0.0.0.0:5060`.
    pub listen: SocketAddr,
    /// The address written in SDP answers, where peers send RTP.
    pub media_address: IpAddr,
    /// Calls in progress on the box at most; more get 503 with `Retry-After`.
    #[serde(default = "default_max_calls")]
    pub max_calls: usize,
    /// The `Retry-After` seconds sent with a 503 at the call limit.
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u32,
    /// The trunks, matched in order.
    #[serde(default)]
    pub trunks: Vec<TrunkConfig>,
}

fn default_max_calls() -> usize {
    64
}

fn default_retry_after() -> u32 {
    30
}

/// One trunk: a PBX or SBC.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// A short name for logs and metrics.
    pub name: String,
    /// The networks its requests come from (CIDR).
    pub sources: Vec<IpNet>,
    /// Calls in progress on this trunk at most; more get 486 Busy Here.
    #[serde(default)]
    pub max_calls: Option<usize>,
    /// Digest authentication of its INVITEs, when set. The password is not in the file: it
    /// is read from the credential named `sip-digest-<trunk name>`.
    #[serde(default)]
    pub digest: Option<DigestConfig>,
    /// The numbers it delivers, each to a tenant.
    #[serde(default)]
    pub numbers: Vec<NumberConfig>,
}

/// Digest authentication of a trunk (MD5 or SHA-256, the trunk's choice).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DigestConfig {
    /// The realm sent in challenges.
    pub realm: String,
    /// The username the trunk authenticates with.
    pub username: String,
}

/// A dialled number and the tenant whose calls it carries.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NumberConfig {
    /// The number as dialled (E.164 best: `+15551230000`); only its digits are compared.
    pub number: String,
    /// The tenant's id.
    pub tenant: String,
}

/// A validated trunk, ready to match requests.
#[derive(Clone, Debug)]
pub struct Trunk {
    /// Its name.
    pub name: String,
    sources: Vec<IpNet>,
    /// Its own call limit.
    pub max_calls: Option<usize>,
    /// Its digest credentials, when its INVITEs must authenticate.
    pub digest: Option<DigestCredentials>,
    numbers: HashMap<String, String>,
}

impl Trunk {
    /// True when `source` is inside one of the trunk's networks.
    pub fn allows(&self, source: IpAddr) -> bool {
        let source = canonical(source);
        self.sources.iter().any(|net| net.contains(&source))
    }

    /// The tenant of a dialled number (the user part of a URI), if the trunk carries it.
    pub fn tenant_for(&self, dialled: &str) -> Option<&str> {
        self.numbers
            .get(&normalise_number(dialled))
            .map(String::as_str)
    }
}

/// The configured trunks, in order.
#[derive(Clone, Debug, Default)]
pub struct Trunks(Vec<Trunk>);

impl Trunks {
    /// Validates the trunks of a configuration; `passwords` holds the digest password of each
    /// trunk that has `digest`, by trunk name.
    pub fn from_config(
        config: &SipConfig,
        passwords: &HashMap<String, DigestPassword>,
    ) -> Result<Self, ConfigError> {
        if config.max_calls == 0 {
            return Err(ConfigError::ZeroLimit);
        }
        let mut trunks: Vec<Trunk> = Vec::with_capacity(config.trunks.len());
        for trunk in &config.trunks {
            if trunks.iter().any(|t| t.name == trunk.name) {
                return Err(ConfigError::DuplicateTrunk(trunk.name.clone()));
            }
            let mut valid = validate(trunk)?;
            if let Some(digest) = &trunk.digest {
                let password = passwords
                    .get(&trunk.name)
                    .ok_or_else(|| ConfigError::MissingPassword(trunk.name.clone()))?;
                valid.digest = Some(DigestCredentials {
                    realm: digest.realm.clone(),
                    username: digest.username.clone(),
                    password: password.clone(),
                });
            }
            trunks.push(valid);
        }
        Ok(Self(trunks))
    }

    /// The first trunk that allows `source`.
    pub fn matching(&self, source: IpAddr) -> Option<&Trunk> {
        self.0.iter().find(|t| t.allows(source))
    }
}

fn validate(config: &TrunkConfig) -> Result<Trunk, ConfigError> {
    if config.sources.is_empty() {
        return Err(ConfigError::NoSources(config.name.clone()));
    }
    if config.max_calls == Some(0) {
        return Err(ConfigError::ZeroLimit);
    }
    let trunk = || config.name.clone();
    let mut numbers = HashMap::new();
    for entry in &config.numbers {
        let number = normalise_number(&entry.number);
        if number.is_empty() {
            return Err(ConfigError::EmptyNumber { trunk: trunk() });
        }
        if numbers.insert(number, entry.tenant.clone()).is_some() {
            return Err(ConfigError::DuplicateNumber { trunk: trunk() });
        }
    }
    Ok(Trunk {
        name: config.name.clone(),
        sources: config.sources.iter().map(IpNet::trunc).collect(),
        max_calls: config.max_calls,
        digest: None,
        numbers,
    })
}

/// An IPv4 address in an IPv4-mapped IPv6 address, as a dual-stack socket reports it, is
/// matched as the IPv4 address it is.
fn canonical(source: IpAddr) -> IpAddr {
    match source {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(source, IpAddr::V4),
        v4 => v4,
    }
}
