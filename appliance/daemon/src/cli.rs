//! The command line: `serve` runs the daemon; every other subcommand is a sysadmin's tool.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{self, LogFormat};

/// diala-edge: on-prem call transcription that lets only redacted text leave the box.
#[derive(Debug, Parser)]
#[command(name = "diala-edge", version, about, long_about = None)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, value_name = "PATH", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,

    /// Where log lines go; overrides `log.format` in the configuration.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (systemd starts it this way).
    Serve,
    /// Validate the configuration, show what it configures, and exit non-zero with the reason
    /// if it is wrong.
    CheckConfig {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Manage the appliance's master key.
    #[command(subcommand)]
    MasterKey(MasterKeyCommand),
    /// Redact text lines from stdin to stdout, as the daemon redacts transcripts.
    Redact {
        /// Use this tenant's redaction policy and token key (needs the daemon's state and
        /// master key); without it, tokens use a key that lives only for this run.
        #[arg(long, value_name = "ID")]
        tenant: Option<String>,
        /// One JSON object per line: the redacted text and each entity's span (in characters
        /// of the input line), type and token.
        #[arg(long)]
        json: bool,
    },
    /// Print the version, git revision, target, and the linked SQLCipher and whisper.cpp.
    Version {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `diala-edge master-key ...`
#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Create a new random master key where the service unit loads it from, encrypted with
    /// `systemd-creds` (TPM and/or host key). Never overwrites an existing key.
    Create {
        /// Store it as a plain 0600 file for the plain-credential drop-in instead.
        #[arg(long)]
        plain: bool,
        /// Write it here instead of the default path.
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
}
