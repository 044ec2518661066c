//! The public base URL Twilio calls, from configuration.
//!
//! Signatures are over the URL Twilio used, which a reverse proxy or a NAT may hide from the
//! request line: the scheme, host and port always come from here, and only the path and query
//! come from the request. This must never be built from a `Host` or `X-Forwarded-*` header.

/// The path of the voice webhook.
pub const VOICE_PATH: &str = "/twilio/voice";
/// The path of call status callbacks.
pub const STATUS_PATH: &str = "/twilio/status";
/// The path prefix of stream upgrades; the stream token follows it.
pub const STREAM_PATH: &str = "/twilio/stream/";

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublicUrlError {
    /// The configured base URL is not an `https://` URL without query or fragment.
    #[error(
        "twilio public base URL {0:?} is not usable: give the https:// URL Twilio is configured \
         with, without query or fragment, e.g. https://edge.example.com"
    )]
    NotHttpsBase(String),
}

/// The configured `https://host[:port][/prefix]` Twilio reaches the appliance at. A prefix is
/// one a reverse proxy strips: the request line then starts at `/twilio/...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicBase {
    /// Everything after `https://`, without a trailing slash.
    authority_and_prefix: String,
}

impl PublicBase {
    /// Checks and keeps the configured base URL, spelled exactly as configured in Twilio.
    pub fn new(base: &str) -> Result<Self, PublicUrlError> {
        let refuse = || PublicUrlError::NotHttpsBase(base.to_owned());
        let rest = base.strip_prefix("https://").ok_or_else(refuse)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['?', '#', ' ']) {
            return Err(refuse());
        }
        Ok(Self {
            authority_and_prefix: rest.to_owned(),
        })
    }

    /// The URL Twilio signed for a webhook whose request line held `path_and_query`.
    pub fn webhook_url(&self, path_and_query: &str) -> String {
        format!("https://{}{path_and_query}", self.authority_and_prefix)
    }

    /// The `wss://` URL of the stream with `token`, as written into the TwiML and signed by
    /// Twilio on the upgrade.
    pub fn stream_url(&self, token: &str) -> String {
        format!("wss://{}{STREAM_PATH}{token}", self.authority_and_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_configured_spelling() {
        let base = PublicBase::new("https://Edge.example.com:8443/diala/").unwrap();
        assert_eq!(
            base.webhook_url("/twilio/voice?x=1"),
            "https://Edge.example.com:8443/diala/twilio/voice?x=1"
        );
        assert_eq!(
            base.stream_url("t.k"),
            "wss://Edge.example.com:8443/diala/twilio/stream/t.k"
        );
    }

    #[test]
    fn anything_but_a_plain_https_base_is_refused() {
        for bad in [
            "http://edge.example",
            "edge.example",
            "https://",
            "https://e/?a=1",
        ] {
            assert!(PublicBase::new(bad).is_err(), "{bad}");
        }
    }
}
