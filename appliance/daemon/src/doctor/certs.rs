//! The certificates the configuration names, and how long each has left.
//!
//! Any string setting whose key mentions `cert` is taken as the path of a PEM file, so a
//! certificate added to the configuration later is checked without changing this file. The
//! raw TOML is read, not the validated configuration, so a file that fails validation still
//! has its certificates checked.

use std::path::{Path, PathBuf};

use x509_parser::pem::Pem;

use super::Check;

/// Days before expiry from which a certificate is a warning.
const WARN_DAYS: i64 = 30;

/// Every `(key path, file)` of a certificate named in the configuration text.
fn named(config_path: &Path, text: &str) -> Vec<(String, PathBuf)> {
    let Ok(value) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk(&toml::Value::Table(value), "", &mut found);
    found
        .into_iter()
        .map(|(key, path)| {
            let resolved = crate::config::resolve(config_path, Path::new(&path));
            (key, resolved)
        })
        .collect()
}

fn walk(value: &toml::Value, key: &str, found: &mut Vec<(String, String)>) {
    match value {
        toml::Value::Table(table) => {
            for (name, inner) in table {
                let path = if key.is_empty() {
                    name.clone()
                } else {
                    format!("{key}.{name}")
                };
                walk(inner, &path, found);
            }
        }
        toml::Value::Array(items) => {
            for (n, inner) in items.iter().enumerate() {
                walk(inner, &format!("{key}[{n}]"), found);
            }
        }
        toml::Value::String(text) => {
            let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
            if last.contains("cert") {
                found.push((key.to_owned(), text.clone()));
            }
        }
        _ => {}
    }
}

/// One check per certificate named in the configuration `text`, `now_secs` being the time.
pub fn check(config_path: &Path, text: &str, now_secs: i64) -> Vec<Check> {
    let named = named(config_path, text);
    if named.is_empty() {
        return vec![Check::ok("certificates", "none named in the configuration")];
    }
    named
        .iter()
        .map(|(key, path)| check_file(key, path, now_secs))
        .collect()
}

fn check_file(key: &str, path: &Path, now_secs: i64) -> Check {
    let name = format!("certificate {key}");
    let fix_path = format!("put the certificate at {} or correct {key}", path.display());
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return Check::fail(name, format!("{}: {error}", path.display()), fix_path),
    };
    // The first certificate of a chain is the one served; it expires first or with the rest.
    let not_after = Pem::iter_from_buffer(&bytes)
        .filter_map(Result::ok)
        .find(|pem| pem.label == "CERTIFICATE")
        .and_then(|pem| {
            let (_, cert) = x509_parser::parse_x509_certificate(&pem.contents).ok()?;
            Some(cert.validity().not_after.timestamp())
        });
    let Some(not_after) = not_after else {
        let detail = format!("{} holds no PEM certificate", path.display());
        return Check::fail(name, detail, fix_path);
    };
    let days = (not_after - now_secs).div_euclid(86_400);
    let renew = format!("renew {} before it expires", path.display());
    if not_after <= now_secs {
        let detail = format!("{} expired {} day(s) ago", path.display(), -days);
        Check::fail(name, detail, renew)
    } else if days < WARN_DAYS {
        let detail = format!("{} expires in {days} day(s)", path.display());
        Check::warn(name, detail, renew)
    } else {
        Check::ok(
            name,
            format!("{} valid for {days} more days", path.display()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_mention_cert_are_found_anywhere() {
        let text = "[twilio]\ntls_cert = \"/etc/a.pem\"\nport = 1\n\
                    [[trunks]]\nclient_certificate = \"b.pem\"\nname = \"x\"\n";
        let found = named(Path::new("/etc/diala-edge/appliance.toml"), text);
        assert_eq!(
            found,
            vec![
                (
                    "trunks[0].client_certificate".to_owned(),
                    PathBuf::from("/etc/diala-edge/b.pem")
                ),
                ("twilio.tls_cert".to_owned(), PathBuf::from("/etc/a.pem")),
            ]
        );
    }
}
