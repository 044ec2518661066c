//! The command-line arguments of the admin commands that have subcommands of their own: calls,
//! transcripts, retention and keys. `cli.rs` names them; `commands.rs` runs them.

use std::path::PathBuf;

use clap::Subcommand;

use super::export::Format;

/// `diala-edge call ...`
#[derive(Debug, Subcommand)]
pub enum CallCommand {
    /// List a tenant's latest calls, newest first.
    List {
        /// The tenant.
        #[arg(long, value_name = "ID")]
        tenant: String,
        /// How many calls, at most.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u32,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one call's segments, redacted.
    Show {
        /// The tenant.
        #[arg(long, value_name = "ID")]
        tenant: String,
        /// The call's id.
        call: String,
        /// Show the text the tenant's policy kept (needs `diala-edge login` first).
        #[arg(long)]
        reveal: bool,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `diala-edge transcript ...`
#[derive(Debug, Subcommand)]
pub enum TranscriptCommand {
    /// Export a tenant's transcripts, or one call's (needs `diala-edge login` first).
    Export {
        /// The tenant.
        #[arg(long, value_name = "ID")]
        tenant: String,
        /// Only this call; WebVTT and SRT need one.
        #[arg(long, value_name = "CALL")]
        call: Option<String>,
        /// JSON lines (one segment a line), WebVTT or SRT.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Write to this file (created 0600) instead of standard output.
        #[arg(long, short, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Export the text the tenant's policy kept instead of the redacted text.
        #[arg(long)]
        reveal: bool,
    },
}

/// `diala-edge retention ...`
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Each tenant's retention, its calls and how many a purge would delete now.
    Status {
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete every expired call now, as the hourly run does (needs `diala-edge login` first).
    Run {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `diala-edge keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// (root) Re-wrap every key under a new master key read from a file (32 raw bytes or 64
    /// hex characters, 0600); then install that key as the credential. Needs a step-up.
    RotateMaster {
        /// The new master key's file.
        #[arg(long, value_name = "PATH")]
        new_key: PathBuf,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Rekey a tenant's database under a new data key, or every tenant's. Needs a step-up.
    RotateTenant {
        /// The tenant.
        #[arg(long, value_name = "ID", required_unless_present = "all")]
        tenant: Option<String>,
        /// Every tenant.
        #[arg(long, conflicts_with = "tenant")]
        all: bool,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}
