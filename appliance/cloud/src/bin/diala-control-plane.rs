//! The reference control plane, for the tests and the demo (not shipped in the package):
//! `init` makes its CA and server certificate, `token` makes an enrollment token, `serve`
//! listens, `retention` and `purge-call` queue a push for an appliance, `revoke` revokes an
//! appliance's certificates, `records` lists what was received.
#![forbid(unsafe_code)]
// This is a tool: its output is its purpose.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use diala_cloud::control_plane::{self, Directory, Faults};
use diala_cloud::protocol::{Action, Command, ControlMessage, TenantSettings};

#[derive(Parser)]
#[command(about = "Reference control plane for diala-edge sync")]
struct Cli {
    /// The directory of its CA, server certificate and store.
    #[arg(long)]
    dir: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Make the CA and a server certificate for HOSTS.
    Init {
        /// Names the server certificate is valid for.
        #[arg(required = true)]
        hosts: Vec<String>,
    },
    /// Print a new one-time enrollment token.
    Token,
    /// Serve until interrupted.
    Serve {
        /// Where to listen (UDP).
        #[arg(long, default_value = "127.0.0.1:4433")]
        listen: SocketAddr,
        /// Days an issued appliance certificate is valid.
        #[arg(long, default_value_t = 90)]
        certificate_days: i64,
    },
    /// Queue a retention push for a tenant of an appliance.
    Retention {
        /// The appliance.
        appliance: String,
        /// The tenant.
        tenant: String,
        /// Days, 1 to 365.
        days: u32,
    },
    /// Queue the purge of one call.
    PurgeCall {
        /// The appliance.
        appliance: String,
        /// The tenant.
        tenant: String,
        /// The call.
        call_id: String,
    },
    /// Revoke every certificate of an appliance.
    Revoke {
        /// The appliance.
        appliance: String,
    },
    /// List the records received from an appliance (kind, tenant, key).
    Records {
        /// The appliance.
        appliance: String,
    },
}

fn new_id() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Cmd::Init { hosts } = &cli.command {
        std::fs::create_dir_all(&cli.dir).context("creating the directory")?;
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis(),
        )?;
        Directory::init(&cli.dir, hosts, now)?;
        println!("{}", cli.dir.join("ca.pem").display());
        return Ok(());
    }
    let (ca, server, store) = Directory::open(&cli.dir)?;
    match cli.command {
        Cmd::Init { .. } => {}
        Cmd::Token => println!("{}", store.create_token()?),
        Cmd::Serve {
            listen,
            certificate_days,
        } => {
            let validity = certificate_days * 24 * 3600 * 1000;
            let running = control_plane::start(
                listen,
                &server,
                ca,
                store,
                Arc::new(Faults::default()),
                validity,
            )?;
            println!("listening on {}", running.local_addr()?);
            tokio::signal::ctrl_c().await?;
            running.stop().await;
        }
        Cmd::Retention {
            appliance,
            tenant,
            days,
        } => {
            let id = new_id();
            let settings = TenantSettings {
                id: id.clone(),
                tenant,
                retention_days: Some(days),
                keep_in_clear: None,
                jwks: None,
                routing: None,
            };
            store.queue(&appliance, &id, &ControlMessage::Settings(settings))?;
            println!("{id}");
        }
        Cmd::PurgeCall {
            appliance,
            tenant,
            call_id,
        } => {
            let id = new_id();
            let command = Command {
                id: id.clone(),
                tenant,
                action: Action::PurgeCall { call_id },
            };
            store.queue(&appliance, &id, &ControlMessage::Command(command))?;
            println!("{id}");
        }
        Cmd::Revoke { appliance } => store.revoke(&appliance)?,
        Cmd::Records { appliance } => {
            for record in store.records(&appliance)? {
                println!("{}\t{}\t{}", record.kind, record.tenant, record.key);
            }
        }
    }
    Ok(())
}
