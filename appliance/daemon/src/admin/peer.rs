//! Who is on the other end of the admin socket, from the kernel's peer credentials
//! (SO_PEERCRED), and whether they may use it: root, or a member of `diala-admin`.
//!
//! The group is looked up at every request, so adding or removing a member takes effect
//! without a restart. Nothing the peer sends is trusted for this decision.

use std::os::fd::AsFd;

use nix::sys::socket::{getsockopt, sockopt};
use nix::unistd::{Gid, Group, Uid, User};

/// The group whose members may use the admin socket.
pub const ADMIN_GROUP: &str = "diala-admin";

/// Errors reading or judging the peer.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The kernel did not say who the peer is.
    #[error("cannot read the admin client's credentials: {0}")]
    Credentials(nix::Error),
    /// The peer may not use the socket.
    #[error(
        "uid {uid} may not use the admin socket: run as root or as a member of the group \
         {ADMIN_GROUP}"
    )]
    Refused {
        /// The peer's user id.
        uid: u32,
    },
}

/// The process on the other end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Its user id.
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
    /// Its process id.
    pub pid: i32,
}

/// An authorised sysadmin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// The Unix user id.
    pub uid: u32,
    /// The Unix user name, when the user database has one.
    pub name: Option<String>,
}

impl Admin {
    /// How the audit chain names this sysadmin.
    pub fn actor(&self) -> String {
        format!("admin:uid={}", self.uid)
    }
}

/// The credentials of the process connected on `socket`, as the kernel recorded them.
pub fn peer_of(socket: &impl AsFd) -> Result<Peer, PeerError> {
    let cred = getsockopt(socket, sockopt::PeerCredentials).map_err(PeerError::Credentials)?;
    Ok(Peer {
        uid: cred.uid(),
        gid: cred.gid(),
        pid: cred.pid(),
    })
}

/// Whether `peer` may use the admin socket, from the user and group databases now.
pub fn authorise(peer: &Peer) -> Result<Admin, PeerError> {
    let user = User::from_uid(Uid::from_raw(peer.uid)).ok().flatten();
    let admin_gid = Group::from_name(ADMIN_GROUP).ok().flatten().map(|g| g.gid);
    let groups = match (&user, admin_gid) {
        (Some(user), Some(_)) => user_groups(user),
        _ => Vec::new(),
    };
    if may_administer(peer, &groups, admin_gid) {
        Ok(Admin {
            uid: peer.uid,
            name: user.map(|u| u.name),
        })
    } else {
        Err(PeerError::Refused { uid: peer.uid })
    }
}

/// Every group `user` is in, primary and supplementary.
fn user_groups(user: &User) -> Vec<Gid> {
    let Ok(name) = std::ffi::CString::new(user.name.as_str()) else {
        return vec![user.gid];
    };
    nix::unistd::getgrouplist(&name, user.gid).unwrap_or_else(|_| vec![user.gid])
}

/// The rule: root always; otherwise membership of the admin group, by the peer's primary group
/// or by the user's groups in the group database.
fn may_administer(peer: &Peer, user_groups: &[Gid], admin_gid: Option<Gid>) -> bool {
    if peer.uid == 0 {
        return true;
    }
    match admin_gid {
        Some(gid) => peer.gid == gid.as_raw() || user_groups.contains(&gid),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(uid: u32, gid: u32) -> Peer {
        Peer { uid, gid, pid: 1 }
    }

    #[test]
    fn root_and_members_of_the_admin_group_only() {
        let admin = Some(Gid::from_raw(990));
        assert!(may_administer(&peer(0, 0), &[], None));
        assert!(may_administer(&peer(1000, 990), &[], admin));
        assert!(may_administer(
            &peer(1000, 1000),
            &[Gid::from_raw(990)],
            admin
        ));
        assert!(!may_administer(
            &peer(1000, 1000),
            &[Gid::from_raw(27)],
            admin
        ));
        assert!(!may_administer(&peer(1000, 990), &[], None));
        assert!(!may_administer(&peer(65534, 65534), &[], admin));
    }

    #[test]
    fn a_connected_socket_names_this_process() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap_or_else(|e| panic!("{e}"));
        let me = peer_of(&a).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(me.uid, Uid::effective().as_raw());
        assert_eq!(
            me.pid,
            i32::try_from(std::process::id()).unwrap_or_default()
        );
    }
}
