//! Dropping root: when started as root outside systemd, the daemon binds its listeners and
//! then becomes the configured user for good.

use std::path::Path;

use nix::unistd::{Gid, Group, Uid, User, chown, setgid, setgroups, setuid};

/// Why the daemon could not become its configured user.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// The user does not exist.
    #[error(
        "daemon.user `{0}` does not exist; create it (the package's sysusers.d file does) or fix the name"
    )]
    NoUser(String),
    /// The group does not exist.
    #[error("daemon.group `{0}` does not exist; create it or fix the name")]
    NoGroup(String),
    /// A system call failed.
    #[error("cannot switch to user `{user}`: {step} failed: {source}")]
    Switch {
        /// The target user.
        user: String,
        /// Which step failed.
        step: &'static str,
        /// The error.
        source: nix::Error,
    },
}

/// The user and group to become.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user's name, for messages.
    pub user: String,
    /// Its uid.
    pub uid: Uid,
    /// The group's gid.
    pub gid: Gid,
}

/// Looks up `user` and `group` (the user's primary group when `group` is `None`).
pub fn lookup(user: &str, group: Option<&str>) -> Result<Identity, PrivilegeError> {
    let found = User::from_name(user)
        .ok()
        .flatten()
        .ok_or_else(|| PrivilegeError::NoUser(user.to_owned()))?;
    let gid = match group {
        Some(name) => {
            Group::from_name(name)
                .ok()
                .flatten()
                .ok_or_else(|| PrivilegeError::NoGroup(name.to_owned()))?
                .gid
        }
        None => found.gid,
    };
    Ok(Identity {
        user: user.to_owned(),
        uid: found.uid,
        gid,
    })
}

/// Gives `dir` and everything in it to `who`, so the state opened after the switch is usable.
pub fn give(dir: &Path, who: &Identity) -> Result<(), PrivilegeError> {
    let fail = |source| PrivilegeError::Switch {
        user: who.user.clone(),
        step: "chown state",
        source,
    };
    chown(dir, Some(who.uid), Some(who.gid)).map_err(fail)?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            give(&path, who)?;
        } else {
            chown(&path, Some(who.uid), Some(who.gid)).map_err(fail)?;
        }
    }
    Ok(())
}

/// Becomes `who` for good: supplementary groups, gid, then uid, then checks root is gone.
pub fn become_user(who: &Identity) -> Result<(), PrivilegeError> {
    let fail = |step| {
        move |source| PrivilegeError::Switch {
            user: who.user.clone(),
            step,
            source,
        }
    };
    setgroups(&[who.gid]).map_err(fail("setgroups"))?;
    setgid(who.gid).map_err(fail("setgid"))?;
    setuid(who.uid).map_err(fail("setuid"))?;

    // setuid from root to a non-root uid drops the saved uid too; prove it.
    if setuid(Uid::from_raw(0)).is_ok() {
        return Err(PrivilegeError::Switch {
            user: who.user.clone(),
            step: "verify",
            source: nix::Error::EPERM,
        });
    }
    Ok(())
}
