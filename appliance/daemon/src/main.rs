//! The `diala-edge` binary: the appliance daemon (`serve`) and the sysadmin's command line.
//!
//! This is the only crate that wires the others together. It must never log a secret, a phone
//! number, an email or transcript text, and never read a secret from the environment.
#![forbid(unsafe_code)]

mod admin;
mod check;
mod cli;
mod config;
mod logging;
mod master_key;
mod metrics;
mod notify;
mod privileges;
mod secrets;
mod serve;
mod version;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, MasterKeyCommand};

/// Exit status for a configuration the daemon will not run with (sysexits' EX_CONFIG), so the
/// unit can stop restarting on it.
const EXIT_CONFIG: u8 = 78;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => serve::run(&cli.config, cli.log_format),
        Command::CheckConfig { json } => {
            check::run(&cli.config, json, &mut std::io::stdout().lock())
        }
        Command::MasterKey(MasterKeyCommand::Create { plain, output }) => {
            create_master_key(plain, output.as_deref())
        }
        Command::Version { json } => version(json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "diala-edge: {error:#}");
            exit_code(&error)
        }
    }
}

fn create_master_key(plain: bool, output: Option<&std::path::Path>) -> anyhow::Result<()> {
    let path = master_key::create(plain, output)?;
    writeln!(std::io::stdout(), "master key created: {}", path.display())?;
    Ok(())
}

fn version(json: bool) -> anyhow::Result<()> {
    let info = version::VersionInfo::collect()?;
    info.write(&mut std::io::stdout().lock(), json)?;
    Ok(())
}

fn exit_code(error: &anyhow::Error) -> ExitCode {
    let is_config = error.downcast_ref::<config::ConfigError>().is_some()
        || error.downcast_ref::<secrets::SecretsError>().is_some();
    ExitCode::from(if is_config { EXIT_CONFIG } else { 1 })
}
