//! The command line's side of the admin socket: one request, one answer, printed as a table
//! for people or as JSON for scripts, with an exit status that says what happened.
//!
//! With no daemon running it says so plainly and exits with EX_UNAVAILABLE (69); a user who may
//! not use the socket gets EX_NOPERM (77). It never retries a command on its own.

use std::io::{BufRead as _, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::peer::ADMIN_GROUP;
use super::protocol::{
    AuditListReply, AuditReply, Body, Command, EnrolReply, ErrorKind, Reply, Request, Response,
    StatusReply, TenantsReply, VERSION,
};
use crate::config::{self, ConfigError};

/// The longest the CLI waits for an answer; verifying a long audit chain takes a while.
const ANSWER_WITHIN: Duration = Duration::from_secs(300);

/// sysexits' EX_UNAVAILABLE: the daemon is not running.
pub const EXIT_UNAVAILABLE: u8 = 69;
/// sysexits' EX_NOPERM: this user may not administer the appliance.
pub const EXIT_NOPERM: u8 = 77;
/// sysexits' EX_DATAERR: the audit chain does not verify.
pub const EXIT_DATAERR: u8 = 65;
/// sysexits' EX_PROTOCOL: the daemon's answer was not understood.
pub const EXIT_PROTOCOL: u8 = 76;
/// sysexits' EX_CONFIG: the configuration cannot be read for the socket's path.
pub const EXIT_CONFIG: u8 = 78;

/// Why an admin command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error(
        "the diala-edge daemon is not running (nothing answers on {path}: {source}); start it \
         with `systemctl start diala-edge`"
    )]
    Unavailable {
        /// The socket path.
        path: PathBuf,
        /// What connecting said.
        source: std::io::Error,
    },
    /// The socket's permissions keep this user out.
    #[error("you may not use the admin socket {0}: run as root or as a member of {ADMIN_GROUP}")]
    NoPermission(PathBuf),
    /// The daemon refused this user.
    #[error("refused by the daemon: {0}")]
    Refused(String),
    /// A TOTP code or a step-up was refused.
    #[error("{0}")]
    StepUp(String),
    /// The daemon ran the command, or tried to, and it failed.
    #[error("{0}")]
    Daemon(String),
    /// The daemon's answer was not understood.
    #[error("the daemon's answer was not understood ({0}); is the CLI of the same version?")]
    Protocol(String),
    /// Talking to the daemon failed midway.
    #[error("lost the connection to the daemon: {0}")]
    Io(#[from] std::io::Error),
    /// The audit chain does not verify.
    #[error("the audit chain is broken at record {first} of {records}; it has been altered")]
    BrokenChain {
        /// The first record whose link does not hold.
        first: i64,
        /// Records checked.
        records: u64,
    },
    /// The configuration names no usable socket.
    #[error("{0}; or pass --admin-socket")]
    Config(#[from] ConfigError),
}

impl ClientError {
    /// The exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Unavailable { .. } => EXIT_UNAVAILABLE,
            ClientError::NoPermission(_) | ClientError::Refused(_) | ClientError::StepUp(_) => {
                EXIT_NOPERM
            }
            ClientError::BrokenChain { .. } => EXIT_DATAERR,
            ClientError::Protocol(_) => EXIT_PROTOCOL,
            ClientError::Config(_) => EXIT_CONFIG,
            ClientError::Daemon(_) | ClientError::Io(_) => 1,
        }
    }
}

/// The socket to talk to: `--admin-socket`, else `admin.socket` of a readable configuration,
/// else the default. A configuration this user cannot read (it is not world-readable on an
/// installed box) is not an error: the socket is then where it always is.
pub fn socket_path(config_path: &Path, given: Option<&Path>) -> Result<PathBuf, ClientError> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    match config::load(config_path) {
        Ok(config) => Ok(config::resolve(config_path, &config.admin.socket)),
        Err(ConfigError::Read { .. }) => Ok(config::Config::default_admin_socket()),
        Err(error) => Err(error.into()),
    }
}

/// Sends `command`, tells `progress` about each progress line, and returns the daemon's reply.
pub fn request_with(
    socket: &Path,
    command: Command,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Reply, ClientError> {
    let stream = UnixStream::connect(socket).map_err(|source| match source.kind() {
        std::io::ErrorKind::PermissionDenied => ClientError::NoPermission(socket.to_owned()),
        _ => ClientError::Unavailable {
            path: socket.to_owned(),
            source,
        },
    })?;
    stream.set_read_timeout(Some(ANSWER_WITHIN))?;
    let mut line = serde_json::to_vec(&Request {
        v: VERSION,
        command,
    })
    .map_err(|e| ClientError::Protocol(e.to_string()))?;
    line.push(b'\n');
    // A refused user is answered before the request is read, and the daemon may have closed
    // its end already: the answer waiting to be read says more than the failed write.
    let written = (&stream).write_all(&line);

    let mut reader = BufReader::new(&stream);
    let response = loop {
        let mut answer = String::new();
        reader.read_line(&mut answer)?;
        if answer.is_empty() {
            written?;
            return Err(ClientError::Protocol(
                "the daemon closed the connection".to_owned(),
            ));
        }
        let response: Response =
            serde_json::from_str(&answer).map_err(|e| ClientError::Protocol(e.to_string()))?;
        match response.body {
            Body::Progress { done, total } => progress(done, total),
            _ => break response,
        }
    };
    match response.body {
        Body::Ok { data } => Ok(data),
        Body::Progress { .. } => Err(ClientError::Protocol("progress without an end".to_owned())),
        Body::Error {
            kind: ErrorKind::Refused,
            message,
        } => Err(ClientError::Refused(message)),
        Body::Error {
            kind: ErrorKind::StepUpRefused,
            message,
        } => Err(ClientError::StepUp(message)),
        Body::Error { message, .. } => Err(ClientError::Daemon(message)),
    }
}

/// Runs `command` against the daemon and prints its answer on `out`.
pub fn run(
    socket: &Path,
    command: Command,
    json: bool,
    out: &mut impl Write,
) -> Result<(), ClientError> {
    let bar = super::render::Bar::new();
    let reply = request_with(socket, command, &mut |done, total| bar.show(done, total));
    bar.finish();
    let reply = reply?;
    if json {
        serde_json::to_writer(&mut *out, &reply).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        match &reply {
            Reply::Status(status) => write_status(status, out)?,
            Reply::Tenants(tenants) => write_tenants(tenants, out)?,
            Reply::Audit(audit) => write_audit(audit, out)?,
            Reply::AuditList(list) => write_audit_list(list, out)?,
            Reply::Login(login) => writeln!(
                out,
                "step-up granted until {}",
                time_of(login.step_up_until_ms)
            )?,
            Reply::Enrolled(enrolled) => write_enrolment(enrolled, out)?,
            other => super::render::write(other, out)?,
        }
    }
    match reply {
        Reply::Audit(AuditReply {
            first_broken: Some(first),
            records,
            ..
        }) => Err(ClientError::BrokenChain { first, records }),
        _ => Ok(()),
    }
}

/// A time in milliseconds since the Unix epoch, as RFC 3339 in UTC.
pub(super) fn time_of(ms: i64) -> String {
    let since = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + since).to_string()
}

fn write_enrolment(enrolled: &EnrolReply, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "TOTP secret created for {} (uid {}); any earlier one no longer works.",
        enrolled.user, enrolled.uid
    )?;
    writeln!(
        out,
        "Scan this code with an authenticator app, or type the secret."
    )?;
    match qrcode::QrCode::new(enrolled.uri.as_bytes()) {
        Ok(code) => {
            let picture = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build();
            writeln!(out, "{picture}")?;
        }
        Err(error) => writeln!(out, "(no QR code: {error})")?,
    }
    writeln!(out, "secret: {}", enrolled.secret)?;
    writeln!(out, "uri:    {}", enrolled.uri)
}

fn write_status(status: &StatusReply, out: &mut impl Write) -> std::io::Result<()> {
    let uptime = humantime::format_duration(Duration::from_secs(status.uptime_secs));
    let calls = match &status.refusing_reason {
        None => "accepted".to_owned(),
        Some(why) => format!("REFUSED ({why})"),
    };
    writeln!(out, "version:      {} (pid {})", status.version, status.pid)?;
    writeln!(out, "uptime:       {uptime}")?;
    writeln!(out, "appliance:    {}", status.appliance_id)?;
    writeln!(
        out,
        "tenants:      {} ({} configured)",
        status.tenants, status.tenants_configured
    )?;
    writeln!(out, "new calls:    {calls}")?;
    match status.step_up_until_ms {
        Some(until) => writeln!(out, "step-up:      until {}", time_of(until))?,
        None => writeln!(out, "step-up:      none (`diala-edge login` to step up)")?,
    }
    writeln!(out, "metrics:      {}", status.metrics)
}

fn write_tenants(reply: &TenantsReply, out: &mut impl Write) -> std::io::Result<()> {
    if reply.tenants.is_empty() {
        return writeln!(
            out,
            "no tenants; add them under [[tenants]] in the configuration"
        );
    }
    let id_width = reply
        .tenants
        .iter()
        .map(|t| t.id.len())
        .max()
        .unwrap_or(0)
        .max(2);
    let name_width = reply.tenants.iter().map(|t| t.name.chars().count()).max();
    let name_width = name_width.unwrap_or(0).max(4);
    writeln!(
        out,
        "{:id_width$}  {:name_width$}  RETENTION  CREATED",
        "ID", "NAME"
    )?;
    for tenant in &reply.tenants {
        writeln!(
            out,
            "{:id_width$}  {:name_width$}  {:>4} days  {}",
            tenant.id,
            tenant.name,
            tenant.retention_days,
            time_of(tenant.created_at_ms)
        )?;
    }
    Ok(())
}

fn write_audit_list(list: &AuditListReply, out: &mut impl Write) -> std::io::Result<()> {
    let width = |f: fn(&super::protocol::AuditEntry) -> usize, min: usize| {
        list.entries.iter().map(f).max().unwrap_or(0).max(min)
    };
    let actor = width(|e| e.actor.len(), 5);
    let action = width(|e| e.action.len(), 6);
    let target = width(|e| e.target.len(), 6);
    writeln!(
        out,
        "{:>6}  {:20}  {:actor$}  {:action$}  {:target$}  OUTCOME",
        "SEQ", "TIME", "ACTOR", "ACTION", "TARGET"
    )?;
    for e in &list.entries {
        writeln!(
            out,
            "{:>6}  {:20}  {:actor$}  {:action$}  {:target$}  {}",
            e.seq,
            time_of(e.at_ms),
            e.actor,
            e.action,
            e.target,
            e.outcome
        )?;
    }
    Ok(())
}

fn write_audit(audit: &AuditReply, out: &mut impl Write) -> std::io::Result<()> {
    match audit.first_broken {
        None => writeln!(
            out,
            "audit chain intact: {} records verified",
            audit.records
        ),
        Some(first) => writeln!(
            out,
            "audit chain BROKEN at record {first} ({} records checked)",
            audit.records
        ),
    }
}
