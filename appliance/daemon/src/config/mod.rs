//! The appliance configuration: one TOML file, validated completely before anything uses it.
//!
//! Every error names the file, line, column and key and says what was expected. Secrets are
//! never in this file; the secrets loader reads them from systemd credentials.

mod asr;
mod error;
mod schema;
mod twilio;
mod values;

use std::path::{Path, PathBuf};

pub use asr::AsrSection;
pub use error::ConfigError;
pub use schema::{Config, LogFormat};
pub use twilio::{TenantTwilio, TwilioSection, stream_mode};

/// Where the daemon looks for its configuration unless `--config` says otherwise.
pub const DEFAULT_PATH: &str = "/etc/diala-edge/appliance.toml";

/// Reads and validates the configuration at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

/// Validates `text` as the contents of `path`.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let located = |key: String, message: String, span: Option<std::ops::Range<usize>>| {
        ConfigError::located(path, text, key, message, span)
    };

    let deserializer = toml::Deserializer::parse(text)
        .map_err(|e| located(String::new(), e.message().to_owned(), e.span()))?;
    let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        // A `Spanned` value adds a private segment to the path; the sysadmin's key ends before it.
        let key = e.path().to_string();
        let key = key
            .split(".$__serde_spanned")
            .next()
            .unwrap_or_default()
            .to_owned();
        let inner = e.into_inner();
        located(key, inner.message().to_owned(), inner.span())
    })?;

    config
        .check_references()
        .map_err(|(key, message, span)| located(key, message, span))?;
    Ok(config)
}

/// The state directory, with the configured path made absolute against the config file's
/// directory so a development config can say `state_dir = "state"`.
pub fn resolve(config_path: &Path, configured: &Path) -> PathBuf {
    match config_path.parent() {
        Some(base) if configured.is_relative() => base.join(configured),
        _ => configured.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use diala_redact::EntityKind;

    use super::*;

    fn tenant(redaction: &str) -> Result<Config, ConfigError> {
        let text = format!("[[tenants]]\nid = \"acme\"\nname = \"Acme\"\n{redaction}\n");
        parse(Path::new("/etc/diala-edge/appliance.toml"), &text)
    }

    #[test]
    fn tenant_redaction_policy_is_read() {
        let config = tenant("[tenants.redaction]\nkeep_in_clear = [\"phone\", \"email\"]").unwrap();
        let policy = config.tenants[0].redaction.keep_in_clear.0;
        assert!(policy.keeps(EntityKind::Phone) && policy.keeps(EntityKind::Email));
        assert!(!policy.keeps(EntityKind::Iban));
        let default = tenant("").unwrap();
        assert_eq!(
            default.tenants[0].redaction.keep_in_clear.0.kept().count(),
            0
        );
    }

    #[test]
    fn a_policy_keeping_cards_is_refused_at_its_line() {
        let err = tenant("[tenants.redaction]\nkeep_in_clear = [\"phone\", \"card\"]").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("/etc/diala-edge/appliance.toml:5:"),
            "{text}"
        );
        assert!(
            text.contains("key `tenants[0].redaction.keep_in_clear`"),
            "{text}"
        );
        assert!(text.contains("`card` is never kept in clear"), "{text}");

        let err = tenant("redaction = { keep_in_clear = [\"passport\"], keep = 1 }").unwrap_err();
        assert!(err.to_string().contains("tenants[0].redaction"), "{err}");
    }
}
