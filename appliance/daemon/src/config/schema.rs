//! The shape of `appliance.toml`. `firmware-config/appliance.toml` documents every key.

use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected};
use toml::Spanned;

use super::values::{E164, GraceSecs, KeepInClear, LoopbackAddr, RetentionDays, TenantId};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How the process runs.
    #[serde(default)]
    pub daemon: DaemonSection,
    /// Where state and development secrets live.
    #[serde(default)]
    pub paths: PathsSection,
    /// Logging.
    #[serde(default)]
    pub log: LogSection,
    /// The local Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsSection,
    /// The local admin socket.
    #[serde(default)]
    pub admin: AdminSection,
    /// The tenants this appliance serves.
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// SIP trunks that may send calls, and the tenant their numbers belong to.
    #[serde(default)]
    pub trunks: Vec<TrunkConfig>,
    /// Speech recognition; absent, calls are not transcribed.
    pub asr: Option<super::AsrSection>,
    /// The HTTPS listener Twilio calls; absent, no Twilio call is taken.
    pub twilio: Option<super::TwilioSection>,
}

/// `[daemon]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSection {
    /// The user to switch to after binding, when started as root outside systemd.
    pub user: Option<String>,
    /// The group to switch to; defaults to the user's primary group.
    pub group: Option<String>,
    /// How long SIGTERM waits for work in flight.
    #[serde(default)]
    pub shutdown_grace_secs: GraceSecs,
}

/// `[paths]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathsSection {
    /// The state directory: databases and the appliance identity.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// Development only: where secret files are when systemd provides no credentials.
    pub secrets_dir: Option<PathBuf>,
}

impl Default for PathsSection {
    fn default() -> Self {
        PathsSection {
            state_dir: default_state_dir(),
            secrets_dir: None,
        }
    }
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/diala-edge")
}

/// `[log]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// Where log lines go.
    #[serde(default)]
    pub format: LogFormat,
    /// Which log lines are written.
    #[serde(default)]
    pub level: LogFilter,
}

/// Where and how log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// journald when stderr is connected to it, text otherwise.
    #[default]
    Auto,
    /// Human-readable lines on stderr.
    Text,
    /// One JSON object per line on stderr.
    Json,
    /// journald's native protocol.
    Journald,
}

/// A tracing filter such as `info` or `info,diala_edge=debug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter(pub String);

impl Default for LogFilter {
    fn default() -> Self {
        LogFilter("info".to_owned())
    }
}

impl<'de> Deserialize<'de> for LogFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match tracing_subscriber::EnvFilter::builder().parse(&s) {
            Ok(_) => Ok(LogFilter(s)),
            Err(_) => Err(de::Error::invalid_value(
                Unexpected::Str(&s),
                &"a level (error, warn, info, debug, trace) or a filter such as info,diala_edge=debug",
            )),
        }
    }
}

/// `[metrics]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// The loopback address of the Prometheus endpoint.
    #[serde(default = "default_metrics_listen")]
    pub listen: LoopbackAddr,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection {
            listen: default_metrics_listen(),
        }
    }
}

fn default_metrics_listen() -> LoopbackAddr {
    LoopbackAddr(std::net::SocketAddr::from(([127, 0, 0, 1], 9464)))
}

/// `[admin]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// The Unix socket the sysadmin's CLI talks to.
    #[serde(default = "default_admin_socket")]
    pub socket: PathBuf,
}

impl Default for AdminSection {
    fn default() -> Self {
        AdminSection {
            socket: default_admin_socket(),
        }
    }
}

impl Config {
    /// Where the admin socket is unless `admin.socket` says otherwise.
    pub fn default_admin_socket() -> PathBuf {
        default_admin_socket()
    }
}

fn default_admin_socket() -> PathBuf {
    PathBuf::from("/run/diala-edge/admin.sock")
}

/// One `[[tenants]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's id, unique on this appliance.
    pub id: Spanned<TenantId>,
    /// A display name for the sysadmin.
    pub name: String,
    /// Days a transcript is kept before the retention task deletes it.
    #[serde(default)]
    pub retention_days: RetentionDays,
    /// What the tenant's own vault keeps in clear.
    #[serde(default)]
    pub redaction: RedactionSection,
    /// The tenant's Twilio account, if its calls come through Twilio.
    pub twilio: Option<super::TenantTwilio>,
}

/// `[tenants.redaction]`: the tenant's redaction policy. Forwarded text always has every entity
/// replaced; this says only what the local vault keeps in clear.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionSection {
    /// Entity kinds kept in clear locally, e.g. `["phone", "email"]`; none by default.
    #[serde(default)]
    pub keep_in_clear: KeepInClear,
}

/// One `[[trunks]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// A name for logs and metrics.
    pub name: String,
    /// The tenant whose numbers this trunk carries.
    pub tenant: Spanned<TenantId>,
    /// Addresses the trunk sends from; a request from anywhere else gets no answer.
    pub sources: Vec<IpNet>,
    /// The numbers (DIDs) this trunk delivers to the tenant.
    #[serde(default)]
    pub numbers: Vec<E164>,
}

type Problem = (String, String, Option<Range<usize>>);

impl Config {
    /// Checks what no single value can: unique tenant ids, trunks naming known tenants.
    pub(super) fn check_references(&self) -> Result<(), Problem> {
        let mut seen = HashSet::new();
        for (i, tenant) in self.tenants.iter().enumerate() {
            if !seen.insert(tenant.id.get_ref()) {
                let message = format!("tenant id `{}` is used twice", tenant.id.get_ref());
                return Err((format!("tenants[{i}].id"), message, Some(tenant.id.span())));
            }
        }

        for (i, trunk) in self.trunks.iter().enumerate() {
            if !seen.contains(trunk.tenant.get_ref()) {
                let message = format!(
                    "no tenant `{}` is configured; add it under [[tenants]] or fix the name",
                    trunk.tenant.get_ref()
                );
                return Err((
                    format!("trunks[{i}].tenant"),
                    message,
                    Some(trunk.tenant.span()),
                ));
            }
            if trunk.sources.is_empty() {
                let message = "a trunk needs at least one source address or network".to_owned();
                return Err((format!("trunks[{i}].sources"), message, None));
            }
        }
        self.check_twilio()
    }

    /// Each Twilio account belongs to one tenant, needs the listener, and answers sensibly.
    fn check_twilio(&self) -> Result<(), Problem> {
        let mut accounts = HashSet::new();
        for (i, tenant) in self.tenants.iter().enumerate() {
            let Some(twilio) = &tenant.twilio else {
                continue;
            };
            let key = format!("tenants[{i}].twilio");
            let sid = &twilio.account_sid;
            if self.twilio.is_none() {
                let message = "a Twilio account needs the [twilio] listener section".to_owned();
                return Err((format!("{key}.account_sid"), message, Some(sid.span())));
            }
            if !accounts.insert(&sid.get_ref().0) {
                let message = "this AccountSid belongs to another tenant already".to_owned();
                return Err((format!("{key}.account_sid"), message, Some(sid.span())));
            }
            super::twilio::stream_mode(&twilio.answer, twilio.dial.as_ref()).map_err(
                |(field, message, span)| (format!("{key}.{field}"), message, Some(span)),
            )?;
            let mut numbers = HashSet::new();
            for (n, number) in twilio.numbers.iter().enumerate() {
                let key = format!("{key}.numbers[{n}]");
                if !numbers.insert(&number.number.get_ref().0) {
                    let message = "this number is listed twice".to_owned();
                    let span = Some(number.number.span());
                    return Err((format!("{key}.number"), message, span));
                }
                super::twilio::stream_mode(&number.answer, number.dial.as_ref()).map_err(
                    |(field, message, span)| (format!("{key}.{field}"), message, Some(span)),
                )?;
            }
        }
        Ok(())
    }
}
