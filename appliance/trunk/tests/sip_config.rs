//! The `[sip]` configuration as a sysadmin writes it, and the mistakes it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;

use diala_trunk::sip::config::ConfigError;
use diala_trunk::sip::digest::DigestPassword;
use diala_trunk::sip::{SipConfig, Trunks};

const SIP: &str = r#"
listen = "0.0.0.0:5060"
media_address = "192.0.2.10"
max_calls = 32

[[trunks]]
name = "hq-pbx"
sources = ["192.0.2.0/28", "2001:db8::/64"]
max_calls = 8
numbers = [
    { number = "+1 555 123 0000", tenant = "acme" },
    { number = "+15551230001", tenant = "globex" },
]

[[trunks]]
name = "sbc"
sources = ["198.51.100.7/32"]
digest = { realm = "edge", username = "sbc" }
"#;

#[test]
fn a_written_configuration_matches_sources_and_numbers() {
    let config: SipConfig = toml::from_str(SIP).unwrap();
    assert_eq!((config.max_calls, config.retry_after_secs), (32, 30));
    let passwords = HashMap::from([("sbc".to_owned(), DigestPassword::new("pw"))]);
    let trunks = Trunks::from_config(&config, &passwords).unwrap();

    let hq = trunks.matching("192.0.2.14".parse().unwrap()).unwrap();
    assert_eq!(hq.name, "hq-pbx");
    assert_eq!(hq.tenant_for("15551230000"), Some("acme"));
    assert_eq!(hq.tenant_for("+1-555-123-0001"), Some("globex"));
    assert_eq!(hq.tenant_for("15551230002"), None);
    assert!(hq.digest.is_none());
    // A dual-stack socket reports IPv4 peers as mapped IPv6 addresses.
    assert!(
        trunks
            .matching("::ffff:192.0.2.1".parse().unwrap())
            .is_some()
    );
    assert!(trunks.matching("2001:db8::5".parse().unwrap()).is_some());
    assert!(trunks.matching("192.0.2.16".parse().unwrap()).is_none());
    let sbc = trunks.matching("198.51.100.7".parse().unwrap()).unwrap();
    assert_eq!(sbc.digest.as_ref().unwrap().username, "sbc");
}

#[test]
fn mistakes_are_refused_with_what_to_fix() {
    let typo = SIP.replace("max_calls = 32", "max_call = 32");
    let error = toml::from_str::<SipConfig>(&typo).unwrap_err().to_string();
    assert!(error.contains("unknown field `max_call`"), "{error}");
    assert!(toml::from_str::<SipConfig>(&SIP.replace("/28", "/99")).is_err());

    let config: SipConfig = toml::from_str(SIP).unwrap();
    let error = Trunks::from_config(&config, &HashMap::new()).unwrap_err();
    assert!(
        error.to_string().contains("credential `sip-digest-sbc`"),
        "{error}"
    );

    let twice = SIP.replace("+15551230001", "15551230000");
    let config: SipConfig = toml::from_str(&twice).unwrap();
    let passwords = HashMap::from([("sbc".to_owned(), DigestPassword::new("pw"))]);
    let error = Trunks::from_config(&config, &passwords).unwrap_err();
    assert_eq!(
        error,
        ConfigError::DuplicateNumber {
            trunk: "hq-pbx".into()
        }
    );

    let same_name = SIP.replace("\"sbc\"\nsources", "\"hq-pbx\"\nsources");
    let config: SipConfig = toml::from_str(&same_name).unwrap();
    let error = Trunks::from_config(&config, &HashMap::new()).unwrap_err();
    assert_eq!(error, ConfigError::DuplicateTrunk("hq-pbx".into()));
}
