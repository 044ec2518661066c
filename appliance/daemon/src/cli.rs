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

/// `diala-edge tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// List the tenants with a vault on this appliance.
    List {
        /// One JSON object instead of a table.
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
