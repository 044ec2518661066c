//! `[twilio]` (the HTTPS listener Twilio calls) and `[tenants.twilio]` (a tenant's Twilio account
//! and how its calls are answered).
//!
//! Only names and addresses live here. The auth tokens and the listener's TLS private key are
//! secrets, read by the secrets loader; this file must never hold or accept one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use diala_trunk::twilio::{DialTarget, PublicBase, StreamMode};
use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected};
use toml::Spanned;

use super::values::E164;

/// `[twilio]`: where Twilio reaches the appliance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioSection {
    /// The address the HTTPS listener binds, e.g. `0.0.0.0:8443`.
    pub listen: SocketAddr,
    /// The `https://` base URL configured in Twilio; signatures are checked against it.
    pub public_url: PublicUrl,
    /// The PEM certificate chain the listener presents; its key is the secret `twilio-tls-key`.
    pub certificate: PathBuf,
}

impl TwilioSection {
    /// The certificate chain, made absolute against the configuration's directory.
    pub fn certificate_path(&self, config_path: &Path) -> PathBuf {
        super::resolve(config_path, &self.certificate)
    }
}

/// A checked public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(pub PublicBase);

impl<'de> Deserialize<'de> for PublicUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PublicBase::new(&s).map(PublicUrl).map_err(|_| {
            de::Error::invalid_value(
                Unexpected::Str(&s),
                &"the https:// URL Twilio is configured with, without query or fragment",
            )
        })
    }
}

/// `[tenants.twilio]`: the tenant's Twilio account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantTwilio {
    /// The account's AccountSid; its calls belong to this tenant.
    pub account_sid: Spanned<AccountSid>,
    /// How calls are answered unless their number says otherwise.
    #[serde(default = "connect")]
    pub answer: Spanned<AnswerMode>,
    /// Where a `start` call continues: a `sip:` URI or an E.164 number.
    pub dial: Option<Spanned<String>>,
    /// Called numbers answered another way.
    #[serde(default)]
    pub numbers: Vec<NumberAnswer>,
}

/// `[[tenants.twilio.numbers]]`: one called number's own answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberAnswer {
    /// The called number (Twilio's `To`), in E.164 form.
    pub number: Spanned<E164>,
    /// How calls to it are answered.
    #[serde(default = "connect")]
    pub answer: Spanned<AnswerMode>,
    /// Where a `start` call continues.
    pub dial: Option<Spanned<String>>,
}

fn connect() -> Spanned<AnswerMode> {
    Spanned::new(0..0, AnswerMode::Connect)
}

/// The answer modes a sysadmin can choose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerMode {
    /// `<Connect><Stream>`: the appliance handles the call.
    #[default]
    Connect,
    /// `<Start><Stream track="both_tracks">` then `<Dial>`: the call goes on to the PBX.
    Start,
}

/// A problem found across keys: the key under the entry, the message, and where it is.
pub type AnswerProblem = (&'static str, String, std::ops::Range<usize>);

/// The trunk's answer for `answer` and `dial`, or what is wrong with them.
pub fn stream_mode(
    answer: &Spanned<AnswerMode>,
    dial: Option<&Spanned<String>>,
) -> Result<StreamMode, AnswerProblem> {
    match (answer.get_ref(), dial) {
        (AnswerMode::Connect, None) => Ok(StreamMode::Connect),
        (AnswerMode::Connect, Some(dial)) => Err((
            "dial",
            "`dial` only applies to answer = \"start\"; remove it or set answer".to_owned(),
            dial.span(),
        )),
        (AnswerMode::Start, None) => Err((
            "answer",
            "answer = \"start\" needs `dial`: the sip: URI or E.164 number the call goes on to"
                .to_owned(),
            answer.span(),
        )),
        (AnswerMode::Start, Some(dial)) => match dial_target(dial.get_ref()) {
            Some(target) => Ok(StreamMode::Fork(target)),
            None => Err((
                "dial",
                "expected a sip: URI or a number in E.164 form such as +14155550100".to_owned(),
                dial.span(),
            )),
        },
    }
}

fn dial_target(dial: &str) -> Option<DialTarget> {
    if dial.starts_with("sip:") && dial.len() > 4 && !dial.contains(char::is_whitespace) {
        return Some(DialTarget::Sip(dial.to_owned()));
    }
    let digits = dial.strip_prefix('+')?;
    let e164 = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    e164.then(|| DialTarget::Number(dial.to_owned()))
}

/// A Twilio AccountSid: `AC` and 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountSid(pub String);

impl<'de> Deserialize<'de> for AccountSid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let hex = s.strip_prefix("AC").unwrap_or("");
        if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(AccountSid(s))
        } else {
            Err(de::Error::invalid_value(
                Unexpected::Str(&s),
                &"an AccountSid: AC followed by 32 hex digits, as in Twilio's console",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::path::Path;

    use super::super::{Config, ConfigError, parse};
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    fn config(twilio: &str) -> Result<Config, ConfigError> {
        let text = format!(
            "[twilio]\nlisten = \"127.0.0.1:8443\"\npublic_url = \"https://edge.example.com\"\n\
             certificate = \"tls/edge.pem\"\n\n[[tenants]]\nid = \"acme\"\nname = \"Acme\"\n\n\
             [tenants.twilio]\n{twilio}"
        );
        parse(Path::new("/etc/diala-edge/appliance.toml"), &text)
    }

    #[test]
    fn a_tenant_account_with_a_forked_number_is_read() {
        let text = format!(
            "account_sid = \"{SID}\"\n\n[[tenants.twilio.numbers]]\nnumber = \"+14155550100\"\n\
             answer = \"start\"\ndial = \"sip:desk@pbx.example.com\"\n"
        );
        let config = config(&text).unwrap();
        let twilio = config.tenants[0].twilio.as_ref().unwrap();
        assert_eq!(twilio.account_sid.get_ref().0, SID);
        let mode = stream_mode(&twilio.answer, twilio.dial.as_ref()).unwrap();
        assert_eq!(mode, StreamMode::Connect);
        let number = &twilio.numbers[0];
        assert_eq!(
            stream_mode(&number.answer, number.dial.as_ref()).unwrap(),
            StreamMode::Fork(DialTarget::Sip("sip:desk@pbx.example.com".into()))
        );
        let section = config.twilio.unwrap();
        let cert = section.certificate_path(Path::new("/etc/diala-edge/appliance.toml"));
        assert_eq!(cert, Path::new("/etc/diala-edge/tls/edge.pem"));
    }

    #[test]
    fn mistakes_are_named_at_their_line_and_key() {
        let cases = [
            (
                "account_sid = \"AC12\"\n",
                "tenants[0].twilio.account_sid",
                ":11:",
            ),
            (
                &format!("account_sid = \"{SID}\"\nanswer = \"start\"\n") as &str,
                "tenants[0].twilio.answer",
                "needs `dial`",
            ),
            (
                &format!("account_sid = \"{SID}\"\nanswer = \"start\"\ndial = \"desk\"\n"),
                "tenants[0].twilio.dial",
                ":13:",
            ),
            (
                &format!("account_sid = \"{SID}\"\nauth_token = \"x\"\n"),
                "tenants[0].twilio.auth_token",
                "unknown field `auth_token`",
            ),
        ];
        for (text, key, expected) in cases {
            let message = config(text).unwrap_err().to_string();
            assert!(message.contains(&format!("key `{key}`")), "{message}");
            assert!(message.contains(expected), "{message}");
        }
    }
}
