//! `diala-edge doctor`: looks at this box the way a support engineer would and prints one line
//! per check, `ok`, `warn` or `fail`, with what to do about it.
//!
//! It reads the configuration, the files it names and the state directory's metadata; it never
//! talks to the daemon, never opens a database and never reads a secret's content, so it works
//! on a box where the daemon does not start. It changes nothing.

mod certs;
mod checks;

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Nothing to do.
    Ok,
    /// Works, but needs attention soon.
    Warn,
    /// Broken, or will break the appliance.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub check: String,
    /// How it came out.
    pub level: Level,
    /// What was found.
    pub detail: String,
    /// What to do, when something is to be done.
    pub fix: Option<String>,
}

impl Check {
    fn ok(check: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            check: check.into(),
            level: Level::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn warn(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            level: Level::Warn,
            fix: Some(fix.into()),
            ..Check::ok(check, detail)
        }
    }

    fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            level: Level::Fail,
            ..Check::warn(check, detail, fix)
        }
    }
}

/// Some checks failed.
#[derive(Debug, thiserror::Error)]
#[error("{0} check(s) failed; fix them as each line says")]
pub struct DoctorFailed(pub usize);

#[derive(Serialize)]
struct Report<'a> {
    checks: &'a [Check],
    failed: usize,
    warnings: usize,
}

/// Runs every check on the box configured by `config_path` and prints the report; fails when
/// any check failed.
pub fn run(config_path: &Path, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let checks = checks::all(config_path);
    let count = |level| checks.iter().filter(|c| c.level == level).count();
    let (failed, warnings) = (count(Level::Fail), count(Level::Warn));
    if json {
        let report = Report {
            checks: &checks,
            failed,
            warnings,
        };
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        let width = checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
        for check in &checks {
            let level = match check.level {
                Level::Ok => "ok  ",
                Level::Warn => "warn",
                Level::Fail => "FAIL",
            };
            write!(out, "{level}  {:width$}  {}", check.check, check.detail)?;
            match &check.fix {
                Some(fix) => writeln!(out, "; {fix}")?,
                None => writeln!(out)?,
            }
        }
    }
    if failed > 0 {
        return Err(DoctorFailed(failed).into());
    }
    Ok(())
}
