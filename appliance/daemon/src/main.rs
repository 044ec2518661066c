//! The `diala-edge` binary: the appliance daemon (`serve`) and the sysadmin's command line.
//!
//! This is the only crate that wires the others together. It must never log a secret, a phone
//! number, an email or transcript text, and never read a secret from the environment.
#![forbid(unsafe_code)]

mod admin;
mod call;
mod check;
mod cli;
mod config;
mod docs;
mod doctor;
mod logging;
mod master_key;
mod metrics;
mod model_cmd;
mod notify;
mod privileges;
mod redact;
mod secrets;
mod serve;
mod sync_cmd;
mod transcribe;
mod version;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::admin::protocol::Command as AdminCommand;
use crate::admin::protocol::OneTimeCode;
use crate::cli::{
    AdminCommand as AdminCli, AuditCommand, Cli, Command, MasterKeyCommand, ModelCommand,
    SyncCommand, TenantCommand, TotpCommand,
};

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
        Command::Model(ModelCommand::Import {
            sources,
            output,
            quant,
        }) => model_cmd::import(&sources, &output, quant, &mut std::io::stdout().lock()),
        Command::Model(ModelCommand::Check { path }) => {
            model_cmd::check(&cli.config, path, &mut std::io::stdout().lock())
        }
        Command::Transcribe {
            file,
            model,
            threads,
            json,
        } => transcribe::run(
            &cli.config,
            &file,
            model,
            usize::from(threads),
            json,
            &mut std::io::stdout().lock(),
        ),
        Command::Redact { tenant, json } => redact::run(
            &cli.config,
            tenant.as_deref(),
            json,
            &mut std::io::stdin().lock(),
            &mut std::io::BufWriter::new(std::io::stdout().lock()),
        ),
        Command::Enroll {
            token,
            control_plane,
            ca,
        } => sync_cmd::enroll(
            &cli.config,
            &token,
            &control_plane,
            &ca,
            &mut std::io::stdout().lock(),
        ),
        Command::Sync(SyncCommand::Status { json }) => {
            sync_cmd::status(&cli.config, json, &mut std::io::stdout().lock())
        }
        Command::Version { json } => version(json),
        Command::Status { json } => admin(&cli, AdminCommand::Status, json),
        Command::Tenant(TenantCommand::List { json }) => {
            admin(&cli, AdminCommand::TenantList, json)
        }
        Command::Audit(AuditCommand::Verify { json }) => {
            admin(&cli, AdminCommand::AuditVerify, json)
        }
        Command::Audit(AuditCommand::List { limit, json }) => {
            admin(&cli, AdminCommand::AuditList { limit }, json)
        }
        Command::Login { json } => {
            read_code().and_then(|code| admin(&cli, AdminCommand::Login { code }, json))
        }
        Command::Admin(AdminCli::Totp(TotpCommand::Enroll { ref user, json })) => {
            admin(&cli, AdminCommand::TotpEnroll { user: user.clone() }, json)
        }
        Command::Tenant(ref tenant) => admin::commands::tenant(&cli, tenant),
        Command::Audit(AuditCommand::Export { ref output }) => {
            admin::commands::audit_export(&cli, output.as_deref())
        }
        Command::Call(ref call) => admin::commands::call(&cli, call),
        Command::Transcript(ref transcript) => admin::commands::transcript(&cli, transcript),
        Command::Retention(ref retention) => admin::commands::retention(&cli, retention),
        Command::Keys(ref keys) => admin::commands::keys(&cli, keys),
        Command::Doctor { json } => doctor::run(&cli.config, json, &mut std::io::stdout().lock()),
        Command::GenerateDocs { ref dir } => docs::generate(dir),
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

/// One command through the running daemon's admin socket.
pub(crate) fn admin(cli: &Cli, command: AdminCommand, json: bool) -> anyhow::Result<()> {
    let socket = admin::client::socket_path(&cli.config, cli.admin_socket.as_deref())?;
    admin::client::run(&socket, command, json, &mut std::io::stdout().lock())?;
    Ok(())
}

/// The TOTP code, from standard input: never an argument, which other users could see.
fn read_code() -> anyhow::Result<OneTimeCode> {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        write!(std::io::stderr(), "TOTP code: ")?;
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(OneTimeCode(line.trim().to_owned()))
}

fn exit_code(error: &anyhow::Error) -> ExitCode {
    if let Some(error) = error.downcast_ref::<admin::client::ClientError>() {
        return ExitCode::from(error.exit_code());
    }
    let is_config = error.downcast_ref::<config::ConfigError>().is_some()
        || error.downcast_ref::<secrets::SecretsError>().is_some();
    ExitCode::from(if is_config { EXIT_CONFIG } else { 1 })
}
