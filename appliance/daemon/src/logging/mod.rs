//! Logging: tracing events become records, the records are scrubbed, and only then does any
//! sink see them.
//!
//! There is exactly one scrubbing step, in [`layer::ScrubLayer`], and every sink sits behind
//! it: phone numbers and emails become tokens before anything is written. Transcript text has
//! no `Display` and cannot be logged at all.

mod journald;
mod layer;
mod sinks;

use std::io::IsTerminal;
use std::path::Path;

use diala_redact::{Scrubber, TokenKey};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

pub use journald::JournaldSink;
pub use layer::{Record, ScrubLayer, Sink};
pub use sinks::{JsonSink, TextSink};

use crate::config::LogFormat;

/// Why logging could not be set up or changed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The filter does not parse.
    #[error("log filter `{filter}` is not valid: {reason}")]
    Filter {
        /// The filter text.
        filter: String,
        /// The parser's explanation.
        reason: String,
    },
    /// journald's socket could not be opened.
    #[error("cannot open journald's socket: {0}")]
    Journald(std::io::Error),
    /// Another subscriber was installed first.
    #[error("logging was already initialised")]
    AlreadySet,
}

/// Changes the running log filter; the daemon uses it on SIGHUP.
pub struct LogControl {
    filter: reload::Handle<EnvFilter, Registry>,
}

impl LogControl {
    /// Replaces the filter, e.g. `info` with `debug`.
    pub fn set_filter(&self, filter: &str) -> Result<(), LogError> {
        let parsed = parse_filter(filter)?;
        self.filter.reload(parsed).map_err(|e| LogError::Filter {
            filter: filter.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// Installs the process-wide subscriber writing in `format`, filtered by `filter`.
pub fn init(format: LogFormat, filter: &str) -> Result<LogControl, LogError> {
    let sink: Box<dyn Sink> = match resolve(format) {
        LogFormat::Journald => Box::new(
            JournaldSink::connect(Path::new(journald::SOCKET)).map_err(LogError::Journald)?,
        ),
        LogFormat::Json => Box::new(JsonSink::new(std::io::stderr())),
        LogFormat::Text | LogFormat::Auto => Box::new(TextSink::new(std::io::stderr())),
    };
    let (filter_layer, handle) = reload::Layer::new(parse_filter(filter)?);
    // Log tokens need only be stable within one run, so a sysadmin can follow one caller
    // through the log; a per-process key means they reveal nothing across runs.
    let scrub = ScrubLayer::new(Scrubber::new(TokenKey::ephemeral()), vec![sink]);

    tracing_subscriber::registry()
        .with(filter_layer)
        .with(scrub)
        .try_init()
        .map_err(|_| LogError::AlreadySet)?;
    Ok(LogControl { filter: handle })
}

fn parse_filter(filter: &str) -> Result<EnvFilter, LogError> {
    EnvFilter::builder()
        .parse(filter)
        .map_err(|e| LogError::Filter {
            filter: filter.to_owned(),
            reason: e.to_string(),
        })
}

/// `auto` means journald when systemd connected stderr to it, text otherwise.
fn resolve(format: LogFormat) -> LogFormat {
    match format {
        LogFormat::Auto if stderr_is_journal() => LogFormat::Journald,
        LogFormat::Auto => LogFormat::Text,
        other => other,
    }
}

/// systemd sets `JOURNAL_STREAM` to the device and inode of the stream it connected; it only
/// counts if stderr is still that stream (not redirected by a wrapper script).
fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    if std::io::stderr().is_terminal() {
        return false;
    }
    let Ok(stat) = nix::sys::stat::fstat(std::io::stderr()) else {
        return false;
    };
    stream.to_string_lossy() == format!("{}:{}", stat.st_dev, stat.st_ino)
}

#[cfg(test)]
mod tests;
