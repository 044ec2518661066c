//! The appliance configuration: one TOML file, validated completely before anything uses it.
//!
//! Every error names the file, line, column and key and says what was expected. Secrets are
//! never in this file; the secrets loader reads them from systemd credentials.

mod asr;
mod error;
mod schema;
mod values;

use std::path::{Path, PathBuf};

pub use asr::AsrSection;
pub use error::ConfigError;
pub use schema::{Config, LogFormat};

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
        let key = e.path().to_string();
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
