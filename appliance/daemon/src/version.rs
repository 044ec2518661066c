//! `diala-edge version`: what exactly is running, for bug reports and fleet inventories.

use std::io::Write;

use serde::Serialize;

/// The facts `version` reports.
#[derive(Debug, Serialize)]
pub struct VersionInfo {
    version: &'static str,
    revision: &'static str,
    target: &'static str,
    sqlcipher: String,
    whisper_cpp: &'static str,
}

impl VersionInfo {
    /// Collects the facts from the binary and the libraries it links.
    pub fn collect() -> Result<Self, diala_vault::VaultError> {
        Ok(VersionInfo {
            version: env!("CARGO_PKG_VERSION"),
            revision: env!("DIALA_GIT_REVISION"),
            target: env!("DIALA_TARGET"),
            sqlcipher: diala_vault::sqlcipher_version()?,
            whisper_cpp: diala_asr::whisper_cpp_version(),
        })
    }

    /// Writes the facts as aligned lines or as one JSON object.
    pub fn write(&self, out: &mut impl Write, json: bool) -> std::io::Result<()> {
        if json {
            serde_json::to_writer(&mut *out, self)?;
            return writeln!(out);
        }
        writeln!(out, "diala-edge {}", self.version)?;
        writeln!(out, "revision:    {}", self.revision)?;
        writeln!(out, "target:      {}", self.target)?;
        writeln!(out, "sqlcipher:   {}", self.sqlcipher)?;
        writeln!(out, "whisper.cpp: {}", self.whisper_cpp)
    }
}
