//! Configuration errors that point at the exact place in the file.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Why a configuration was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        /// The configuration file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file was read but a value in it is wrong.
    #[error("{0}")]
    Invalid(Located),
    /// `asr.model` names a file the recogniser must not load.
    #[error("asr.model: {0}")]
    Model(#[from] diala_asr::model::ModelError),
}

/// A problem at one place in the configuration file.
#[derive(Debug)]
pub struct Located {
    /// The configuration file.
    pub path: PathBuf,
    /// 1-based line of the offending value, when the parser knows it.
    pub line: Option<usize>,
    /// 1-based column, in characters.
    pub column: Option<usize>,
    /// The dotted key, e.g. `tenants[0].retention_days`; empty for a syntax error.
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ConfigError {
    pub(super) fn located(
        path: &Path,
        text: &str,
        key: String,
        message: String,
        span: Option<Range<usize>>,
    ) -> Self {
        let (line, column) = match span.map(|s| line_column(text, s.start)) {
            Some((line, column)) => (Some(line), Some(column)),
            None => (None, None),
        };
        ConfigError::Invalid(Located {
            path: path.to_owned(),
            line,
            column,
            key,
            message,
        })
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        let key = self.key.trim_matches('.');
        if !key.is_empty() {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message.trim_end())
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_columns_from_one() {
        let text = "a = 1\nbb = 22\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 11), (2, 6));
    }
}
