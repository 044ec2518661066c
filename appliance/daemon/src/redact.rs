//! `diala-edge redact`: redacts text lines from stdin, so a sysadmin can try a tenant's policy
//! and tokens, and the detector can be scored on any text.
//!
//! With `--tenant` it uses the tenant's policy from the configuration and its token key derived
//! from the master key, so tokens match what the daemon writes for that tenant. Without it the
//! key is ephemeral and nothing is kept in clear. It never writes an unredacted entity, except
//! through `--json`'s offsets, which point into the sysadmin's own input.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use diala_redact::corpus::char_offset;
use diala_redact::{Policy, Redaction, Redactor, TokenKey};
use diala_vault::KeyPurpose;
use serde::Serialize;

use crate::{config, secrets};

/// Why `redact` could not run.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The tenant is not in the configuration.
    #[error("no tenant `{tenant}` in {config}; configured tenants: {known}")]
    UnknownTenant {
        /// The tenant asked for.
        tenant: String,
        /// The configuration file.
        config: PathBuf,
        /// The configured ids, comma-separated.
        known: String,
    },
    /// No daemon state: tokens made now would match nothing the daemon ever wrote.
    #[error(
        "no daemon state in {0} (keyring.db is missing); start the daemon once, or run without --tenant for an ephemeral key"
    )]
    NoState(PathBuf),
    /// An input line is not UTF-8.
    #[error("input line {0} is not UTF-8 text; nothing after it was read")]
    NotUtf8(usize),
}

/// What `--json` prints for each line.
#[derive(Debug, Serialize)]
struct JsonLine<'a> {
    text: &'a str,
    entities: Vec<JsonEntity<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonEntity<'a> {
    start: usize,
    end: usize,
    #[serde(rename = "type")]
    kind: &'static str,
    token: &'a str,
    kept_locally: bool,
}

/// Redacts every line of `input` into `out`: the forwarded text, or with `json` one object a
/// line with the entity spans in characters of the input line.
pub fn run(
    config_path: &Path,
    tenant: Option<&str>,
    json: bool,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let redactor = match tenant {
        Some(tenant) => tenant_redactor(config_path, tenant)?,
        None => Redactor::new(TokenKey::ephemeral(), Policy::keep_nothing()),
    };

    let mut raw = Vec::new();
    for number in 1.. {
        raw.clear();
        if input.read_until(b'\n', &mut raw)? == 0 {
            break;
        }
        let line = std::str::from_utf8(&raw).map_err(|_| RedactError::NotUtf8(number))?;
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let redaction = redactor.redact(line);
        if json {
            write_json(line, &redaction, out)?;
        } else {
            writeln!(out, "{}", redaction.forward)?;
        }
        // A sysadmin typing lines wants each answer at once.
        out.flush()?;
    }
    Ok(())
}

/// The tenant's redactor: its policy from the configuration, its key from the master key.
fn tenant_redactor(config_path: &Path, tenant: &str) -> anyhow::Result<Redactor> {
    let config = config::load(config_path)?;
    let Some(found) = config
        .tenants
        .iter()
        .find(|t| t.id.get_ref().as_str() == tenant)
    else {
        let known: Vec<_> = config
            .tenants
            .iter()
            .map(|t| t.id.get_ref().as_str())
            .collect();
        return Err(RedactError::UnknownTenant {
            tenant: tenant.to_owned(),
            config: config_path.to_owned(),
            known: if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            },
        }
        .into());
    };

    let state_dir = config::resolve(config_path, &config.paths.state_dir);
    if !state_dir.join("keyring.db").is_file() {
        return Err(RedactError::NoState(state_dir).into());
    }
    secrets::check_environment(std::env::vars_os())?;
    let secrets = secrets::load_configured(config_path, &config)?;
    let derived = secrets.master_key.derive(KeyPurpose::TenantTokens(tenant));
    let key = TokenKey::from_bytes(*derived.expose());
    Ok(Redactor::new(key, found.redaction.keep_in_clear.0))
}

fn write_json(line: &str, redaction: &Redaction, out: &mut impl Write) -> anyhow::Result<()> {
    let entities = redaction
        .entities
        .iter()
        .map(|e| JsonEntity {
            start: char_offset(line, e.start),
            end: char_offset(line, e.end),
            kind: e.kind.label(),
            token: &e.token,
            kept_locally: e.kept_locally,
        })
        .collect();
    let record = JsonLine {
        text: redaction.forward.as_str(),
        entities,
    };
    serde_json::to_writer(&mut *out, &record)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn redact(
        config: &Path,
        tenant: Option<&str>,
        json: bool,
        input: &[u8],
    ) -> anyhow::Result<String> {
        let mut out = Vec::new();
        run(config, tenant, json, &mut &input[..], &mut out)?;
        Ok(String::from_utf8(out)?)
    }

    /// A configuration with two tenants, a 0600 master key, and a state directory.
    fn appliance(state: bool) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("appliance.toml");
        let text = "[paths]\nstate_dir = \"state\"\nsecrets_dir = \"secrets\"\n\n\
            [[tenants]]\nid = \"acme\"\nname = \"Acme\"\n\
            redaction = { keep_in_clear = [\"phone\"] }\n\n\
            [[tenants]]\nid = \"globex\"\nname = \"Globex\"\n";
        std::fs::write(&config, text).unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        let key = dir.path().join("secrets/master-key");
        std::fs::write(&key, [7u8; 32]).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        if state {
            std::fs::create_dir(dir.path().join("state")).unwrap();
            std::fs::write(dir.path().join("state/keyring.db"), b"").unwrap();
        }
        (dir, config)
    }

    #[test]
    fn plain_lines_are_forwarded_text() {
        let out = redact(
            Path::new("/nonexistent"),
            None,
            false,
            b"call 415 555 0134\nhello\n",
        )
        .unwrap();
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("call [PHONE:") && !lines[0].contains("555"),
            "{out}"
        );
        assert_eq!(lines[1], "hello");
    }

    #[test]
    fn json_spans_are_in_characters() {
        let out = redact(
            Path::new("/nonexistent"),
            None,
            true,
            "né à four one five five five five oh one three four".as_bytes(),
        )
        .unwrap();
        let value: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let entity = &value["entities"][0];
        assert_eq!(
            (entity["start"].as_u64(), entity["type"].as_str()),
            (Some(5), Some("PHONE"))
        );
        assert_eq!(entity["end"].as_u64(), Some(51));
        assert!(value["text"].as_str().unwrap().starts_with("né à [PHONE:"));
    }

    #[test]
    fn tenants_have_their_own_stable_tokens_and_policy() {
        let (_dir, config) = appliance(true);
        let line = b"call 415 555 0134 or mail a@b.example\n";
        let acme = redact(&config, Some("acme"), true, line).unwrap();
        assert_eq!(acme, redact(&config, Some("acme"), true, line).unwrap());
        let globex = redact(&config, Some("globex"), true, line).unwrap();
        let token = |out: &str| {
            serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["entities"][0].clone()
        };
        assert_ne!(token(&acme)["token"], token(&globex)["token"]);
        assert_eq!(token(&acme)["kept_locally"], true);
        assert_eq!(token(&globex)["kept_locally"], false);
    }

    #[test]
    fn clear_errors_for_unknown_tenant_missing_state_and_bad_input() {
        let (_dir, config) = appliance(true);
        let err = redact(&config, Some("initech"), false, b"x\n").unwrap_err();
        assert!(
            err.to_string().contains("configured tenants: acme, globex"),
            "{err}"
        );

        let (_dir, config) = appliance(false);
        let err = redact(&config, Some("acme"), false, b"x\n").unwrap_err();
        assert!(err.to_string().contains("keyring.db is missing"), "{err}");

        let err = redact(Path::new("/x"), None, false, b"fine\n\xff\xfe\n").unwrap_err();
        assert!(
            err.to_string().contains("input line 2 is not UTF-8"),
            "{err}"
        );
    }
}
