//! The checks `diala-edge doctor` runs, in the order a sysadmin would fix them: the
//! configuration, what it names (certificates, the speech model), then the box (disk, clock)
//! and the permissions of state and secrets.

use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::unistd::User;

use super::{Check, certs};
use crate::config::{self, Config};

/// Below this much free space the daemon refuses new calls.
const MIN_FREE: u64 = 64 * 1024 * 1024;
/// Below this much free space a sysadmin should act before calls are refused.
const LOW_FREE: u64 = 1024 * 1024 * 1024;
/// Where systemd-timesyncd says the clock is synchronised.
const TIMESYNC_FLAG: &str = "/run/systemd/timesync/synchronized";
/// Where the packaged unit loads the master key from.
const CREDENTIALS: [&str; 2] = [
    "/etc/credstore/diala-edge.master-key",
    "/etc/credstore.encrypted/diala-edge.master-key",
];

/// Every check, for the box configured by `config_path`.
pub fn all(config_path: &Path) -> Vec<Check> {
    let now = SystemTime::now();
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let mut checks = Vec::new();
    let text = std::fs::read_to_string(config_path);
    let config = config::load(config_path);
    match &config {
        Ok(config) => checks.push(Check::ok(
            "configuration",
            format!(
                "{} is valid ({} tenants)",
                config_path.display(),
                config.tenants.len()
            ),
        )),
        Err(error) => checks.push(Check::fail(
            "configuration",
            error.to_string(),
            "correct the file; `diala-edge check-config` shows what it configures",
        )),
    }
    if let Ok(text) = &text {
        checks.extend(certs::check(config_path, text, now_secs));
    }
    let Ok(config) = config else {
        return checks;
    };
    checks.push(model(config_path, &config));
    let state_dir = config::resolve(config_path, &config.paths.state_dir);
    checks.push(disk(&state_dir));
    checks.push(clock(now, &state_dir));
    checks.extend(state_permissions(&state_dir, &config));
    checks.extend(secret_permissions(config_path, &config));
    checks
}

fn model(config_path: &Path, config: &Config) -> Check {
    let Some(asr) = &config.asr else {
        return Check::warn(
            "speech model",
            "no [asr] section: calls will not be transcribed",
            "import a model with `diala-edge model import` and set asr.model",
        );
    };
    let path = asr.model_path(config_path);
    match asr.check_model(config_path) {
        Ok(info) => Check::ok(
            "speech model",
            format!(
                "{} loads ({} audio layers, {:?} weights)",
                path.display(),
                info.hparams.n_audio_layer,
                info.weight_type
            ),
        ),
        Err(error) => Check::fail(
            "speech model",
            error.to_string(),
            "import it again with `diala-edge model import`",
        ),
    }
}

/// The directory itself, or the nearest one above it that exists.
fn existing(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| d.exists())
        .unwrap_or(Path::new("/"))
        .to_owned()
}

fn disk(state_dir: &Path) -> Check {
    let at = existing(state_dir);
    let stat = match nix::sys::statvfs::statvfs(&at) {
        Ok(stat) => stat,
        Err(errno) => {
            let detail = format!("cannot look at {}: {errno}", at.display());
            return Check::fail("disk space", detail, "check the file system");
        }
    };
    let free = stat.blocks_available().saturating_mul(stat.fragment_size());
    let detail = format!("{} MiB free under {}", free / (1024 * 1024), at.display());
    let make_room = "free space or grow the file system; shorter retention also helps";
    if free < MIN_FREE {
        Check::fail(
            "disk space",
            format!("{detail}: new calls are refused"),
            make_room,
        )
    } else if free < LOW_FREE {
        Check::warn("disk space", format!("{detail}: running low"), make_room)
    } else {
        Check::ok("disk space", detail)
    }
}

/// The clock must not run behind the binary's own build, nor behind what the state last
/// wrote; and it should be kept in step by NTP, since TOTP codes and retention depend on it.
fn clock(now: SystemTime, state_dir: &Path) -> Check {
    let built = std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .ok();
    let set_it = "set the clock (`timedatectl set-ntp true`)";
    if built.is_some_and(|b| b > now + Duration::from_secs(86_400)) {
        let detail = "the clock is behind the installed binary's date";
        return Check::fail("clock", detail, set_it);
    }
    let newest = std::fs::read_dir(state_dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.metadata().ok()?.modified().ok())
        .max();
    if newest.is_some_and(|n| n > now + Duration::from_secs(300)) {
        let detail = "the state was written in the future: the clock went backwards";
        return Check::fail("clock", detail, set_it);
    }
    if Path::new(TIMESYNC_FLAG).exists() {
        Check::ok("clock", "synchronised by systemd-timesyncd")
    } else {
        let detail = "not known to be synchronised; TOTP codes and retention rely on it";
        Check::warn("clock", detail, "enable NTP: `timedatectl set-ntp true`")
    }
}

/// Others must not read or write the file or directory at `path`.
fn private(check: &str, path: &Path, meta: &std::fs::Metadata) -> Option<Check> {
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return None;
    }
    let want = if meta.is_dir() { "700" } else { "600" };
    let what = if mode & 0o004 != 0 {
        "readable by every user"
    } else {
        "open to its group"
    };
    Some(Check::fail(
        check,
        format!("{} is {what} (mode {mode:o})", path.display()),
        format!("chmod {want} {}", path.display()),
    ))
}

fn state_permissions(state_dir: &Path, config: &Config) -> Vec<Check> {
    let Ok(meta) = std::fs::metadata(state_dir) else {
        let detail = format!("{} does not exist yet", state_dir.display());
        return vec![Check::warn(
            "state",
            detail,
            "start the daemon once to create it",
        )];
    };
    let mut problems: Vec<Check> = private("state", state_dir, &meta).into_iter().collect();
    if let Some(user) = config.daemon.user.as_deref() {
        let uid = User::from_name(user).ok().flatten().map(|u| u.uid.as_raw());
        if uid.is_some_and(|uid| uid != meta.uid()) {
            problems.push(Check::fail(
                "state",
                format!("{} does not belong to {user}", state_dir.display()),
                format!("chown -R {user}: {}", state_dir.display()),
            ));
        }
    }
    problems.extend(tree(state_dir, "state", 3));
    if problems.is_empty() {
        let detail = format!("{} and its files are private", state_dir.display());
        problems.push(Check::ok("state", detail));
    }
    problems
}

/// Private-mode problems of every file under `dir`, `depth` levels down.
fn tree(dir: &Path, check: &str, depth: u32) -> Vec<Check> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_socket() || meta.file_type().is_symlink() {
            continue;
        }
        found.extend(private(check, &path, &meta));
        if meta.is_dir() && depth > 0 {
            found.extend(tree(&path, check, depth - 1));
        }
    }
    found
}

fn secret_permissions(config_path: &Path, config: &Config) -> Vec<Check> {
    let mut files: Vec<PathBuf> = CREDENTIALS.iter().map(PathBuf::from).collect();
    if let Some(dir) = &config.paths.secrets_dir {
        let dir = config::resolve(config_path, dir);
        let listed = std::fs::read_dir(&dir).into_iter().flatten().flatten();
        files.extend(listed.map(|e| e.path()));
    }
    let mut checks = Vec::new();
    let mut seen = 0;
    for path in files {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        seen += 1;
        checks.extend(private("secrets", &path, &meta));
    }
    if let Ok(meta) = std::fs::metadata(config_path)
        && meta.permissions().mode() & 0o002 != 0
    {
        checks.push(Check::fail(
            "secrets",
            format!("{} may be changed by every user", config_path.display()),
            format!("chmod 640 {}", config_path.display()),
        ));
    }
    if checks.is_empty() {
        let detail = if seen == 0 {
            "no master key credential found here (systemd may hold it elsewhere)".to_owned()
        } else {
            format!("{seen} secret file(s), none readable by others")
        };
        checks.push(Check::ok("secrets", detail));
    }
    checks
}
