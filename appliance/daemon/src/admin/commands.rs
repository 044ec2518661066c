//! The CLI side of the tenant, call, transcript, retention, audit export and key commands:
//! arguments into protocol requests, answers onto standard output or into a file.
//!
//! A new master key and exported text are handled here only in memory and in files created
//! 0600; a file that exists is never overwritten. Nothing is logged.

use std::io::{IsTerminal as _, Write};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context as _;

use super::args::{CallCommand, KeysCommand, RetentionCommand, TranscriptCommand};
use super::client::{self, ClientError};
use super::export;
use super::protocol::{Command, NewMasterKey, Reply};
use super::render::Bar;
use crate::cli::{Cli, TenantCommand};

fn socket(cli: &Cli) -> Result<std::path::PathBuf, ClientError> {
    client::socket_path(&cli.config, cli.admin_socket.as_deref())
}

/// Sends `command` with a progress bar and returns the reply.
fn fetch(cli: &Cli, command: Command) -> Result<Reply, ClientError> {
    let bar = Bar::new();
    let reply = client::request_with(&socket(cli)?, command, &mut |d, t| bar.show(d, t));
    bar.finish();
    reply
}

/// `diala-edge tenant ...` but `list`.
pub fn tenant(cli: &Cli, command: &TenantCommand) -> anyhow::Result<()> {
    let (request, json) = match command {
        TenantCommand::List { json } => (Command::TenantList, *json),
        TenantCommand::Add {
            id,
            name,
            retention_days,
            json,
        } => {
            let command = Command::TenantAdd {
                tenant: id.clone(),
                name: name.clone(),
                retention_days: *retention_days,
            };
            (command, *json)
        }
        TenantCommand::Show { id, json } => (Command::TenantShow { tenant: id.clone() }, *json),
        TenantCommand::Set {
            id,
            retention_days,
            json,
        } => {
            let command = Command::TenantSet {
                tenant: id.clone(),
                retention_days: *retention_days,
            };
            (command, *json)
        }
        TenantCommand::Delete { id, yes, json } => {
            if !yes {
                confirm_delete(id)?;
            }
            (Command::TenantDelete { tenant: id.clone() }, *json)
        }
    };
    crate::admin(cli, request, json)
}

/// Asks the person at the terminal to type the tenant's id; refuses without a terminal.
fn confirm_delete(id: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("deleting tenant {id} cannot be undone; pass --yes to confirm");
    }
    write!(
        std::io::stderr(),
        "Deleting tenant {id} makes all its calls unreadable, backups included.\n\
         Type the tenant id to confirm: "
    )?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    if line.trim() != id {
        anyhow::bail!("not confirmed; tenant {id} is untouched");
    }
    Ok(())
}

/// `diala-edge call ...`
pub fn call(cli: &Cli, command: &CallCommand) -> anyhow::Result<()> {
    let (request, json) = match command {
        CallCommand::List {
            tenant,
            limit,
            json,
        } => {
            let command = Command::CallList {
                tenant: tenant.clone(),
                limit: *limit,
            };
            (command, *json)
        }
        CallCommand::Show {
            tenant,
            call,
            reveal,
            json,
        } => {
            let command = Command::CallShow {
                tenant: tenant.clone(),
                call: call.clone(),
                reveal: *reveal,
            };
            (command, *json)
        }
    };
    crate::admin(cli, request, json)
}

/// Opens where an export goes: a new 0600 file, or standard output.
fn sink(output: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match output {
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create {} (it must not exist)", path.display()))?;
            // The mode given at creation is masked by the umask; this one is not.
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            Box::new(std::io::BufWriter::new(file))
        }
    })
}

/// `diala-edge transcript export`
pub fn transcript(cli: &Cli, command: &TranscriptCommand) -> anyhow::Result<()> {
    let TranscriptCommand::Export {
        tenant,
        call,
        format,
        output,
        reveal,
    } = command;
    if call.is_none() && *format != export::Format::Jsonl {
        return Err(export::ExportError::OneCallOnly.into());
    }
    let request = Command::TranscriptExport {
        tenant: tenant.clone(),
        call: call.clone(),
        reveal: *reveal,
    };
    let Reply::Transcripts(reply) = fetch(cli, request)? else {
        return Err(ClientError::Protocol("not an export".to_owned()).into());
    };
    let mut out = sink(output.as_deref())?;
    export::write_transcripts(&reply.transcripts, *format, &mut out)?;
    out.flush()?;
    if let Some(path) = output {
        let segments: usize = reply.transcripts.iter().map(|t| t.segments.len()).sum();
        let calls = reply.transcripts.len();
        let what = format!("{calls} call(s), {segments} segment(s)");
        writeln!(std::io::stderr(), "exported {what} to {}", path.display())?;
    }
    Ok(())
}

/// `diala-edge audit export`
pub fn audit_export(cli: &Cli, output: Option<&Path>) -> anyhow::Result<()> {
    let Reply::AuditExport(reply) = fetch(cli, Command::AuditExport)? else {
        return Err(ClientError::Protocol("not an audit export".to_owned()).into());
    };
    let mut out = sink(output)?;
    export::write_audit(&reply.records, &mut out)?;
    out.flush()?;
    Ok(())
}

/// `diala-edge retention ...`
pub fn retention(cli: &Cli, command: &RetentionCommand) -> anyhow::Result<()> {
    match command {
        RetentionCommand::Status { json } => crate::admin(cli, Command::RetentionStatus, *json),
        RetentionCommand::Run { json } => crate::admin(cli, Command::RetentionRun, *json),
    }
}

/// `diala-edge keys ...`
pub fn keys(cli: &Cli, command: &KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::RotateMaster { new_key, json } => {
            let key = read_new_key(new_key)?;
            crate::admin(cli, Command::KeysRotateMaster { new_key: key }, *json)
        }
        KeysCommand::RotateTenant { tenant, all, json } => {
            let tenant = if *all { None } else { tenant.clone() };
            crate::admin(cli, Command::KeysRotateTenant { tenant }, *json)
        }
    }
}

/// Reads a new master key file, refusing one that others may read, as the daemon does.
fn read_new_key(path: &Path) -> anyhow::Result<NewMasterKey> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        anyhow::bail!(
            "{} may be read by other users; `chmod 600` it, or better make a new one",
            path.display()
        );
    }
    let bytes = zeroize::Zeroizing::new(std::fs::read(path)?);
    // Checked here so a wrong file fails before anything is audited or changed.
    diala_vault::MasterKey::from_credential(&bytes)?;
    let hex = if bytes.len() == 32 {
        hex_of(&bytes)
    } else {
        String::from_utf8_lossy(bytes.trim_ascii()).into_owned()
    };
    Ok(NewMasterKey(hex))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
