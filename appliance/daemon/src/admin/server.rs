//! The admin socket: bound before the daemon drops root, served on the async runtime, one
//! JSON line per request and per answer.
//!
//! Each request is authorised from the connection's peer credentials before it is read as a
//! command; a refused peer gets one answer saying why and the connection is closed. Blocking
//! vault work runs on tokio's blocking pool. A connection never outlives the daemon's stop.

use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nix::unistd::Group;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::handlers::AdminApi;
use super::peer::{self, ADMIN_GROUP};
use super::protocol::{self, ErrorKind, MAX_LINE, Response};

/// How long a connection may sit without a request before it is closed.
const IDLE: Duration = Duration::from_secs(300);
/// Progress lines waiting to be written; more are dropped, the bar just moves in bigger steps.
const PROGRESS_QUEUE: usize = 16;

/// Why the admin socket could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Another daemon answers on the socket.
    #[error(
        "another diala-edge daemon is serving the admin socket {0}; stop it first, or set \
         admin.socket to another path"
    )]
    InUse(PathBuf),
    /// Creating, binding or setting up the socket failed.
    #[error("cannot set up the admin socket {path}: {source}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// A bound admin socket, removed when the daemon stops.
#[derive(Debug)]
pub struct AdminSocket {
    listener: std::os::unix::net::UnixListener,
    path: PathBuf,
}

/// Binds the admin socket at `path`: 0660, group `diala-admin` when it exists. A socket left by
/// a daemon that died is replaced; one that answers is not.
pub fn bind(path: &Path) -> Result<AdminSocket, ServerError> {
    let io = |source| ServerError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            let what = std::io::Error::other("a file that is not a socket is in the way");
            return Err(io(what));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ServerError::InUse(path.to_owned()));
        }
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
    give_to_admin_group(path);
    listener.set_nonblocking(true).map_err(io)?;
    Ok(AdminSocket {
        listener,
        path: path.to_owned(),
    })
}

/// Gives the socket to the group `diala-admin`. Without it only root (and the daemon's own user)
/// can connect, which is a working if narrower appliance, so a failure is a warning.
fn give_to_admin_group(path: &Path) {
    let Some(group) = Group::from_name(ADMIN_GROUP).ok().flatten() else {
        tracing::warn!(
            group = ADMIN_GROUP,
            "the admin group does not exist; only root can use the admin socket"
        );
        return;
    };
    if let Err(error) = nix::unistd::chown(path, None, Some(group.gid)) {
        tracing::warn!(
            %error,
            group = ADMIN_GROUP,
            "cannot give the admin socket to the admin group; only root can use it"
        );
    }
}

impl AdminSocket {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves connections until `stop`, then removes the socket file.
    pub async fn serve(self, api: Arc<AdminApi>, stop: CancellationToken) {
        let listener = match UnixListener::from_std(self.listener) {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%error, "the admin socket cannot be served");
                return;
            }
        };
        let connections = TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, api.clone(), stop.clone()));
                }
                Err(error) => tracing::warn!(%error, "admin connection not accepted"),
            }
        }
        connections.close();
        connections.wait().await;
        // After dropping root the daemon may no longer be allowed to; systemd removes its
        // runtime directory anyway.
        if let Err(error) = std::fs::remove_file(&self.path) {
            tracing::debug!(%error, "admin socket left in place");
        }
    }
}

/// Answers the requests of one connection, one line each, until it closes, idles for five
/// minutes, or the daemon stops. Membership is checked again at every request, so a user
/// removed from the group is refused from the next one.
async fn connection(stream: UnixStream, api: Arc<AdminApi>, stop: CancellationToken) {
    let peer = match peer::peer_of(&stream) {
        Ok(peer) => peer,
        Err(error) => {
            tracing::warn!(%error, "admin connection dropped");
            return;
        }
    };
    let (read, mut write) = stream.into_split();
    // A peer that may not administer is answered at once, before it can send anything or hold
    // the connection open.
    if let Err(error) = peer::authorise(&peer) {
        let _ = write_response(&mut write, &refusal(&peer, &error)).await;
        return;
    }
    let mut reader = BufReader::new(read);
    loop {
        let mut line = Vec::new();
        let mut limited = (&mut reader).take(MAX_LINE);
        let read = tokio::select! {
            _ = stop.cancelled() => return,
            read = tokio::time::timeout(IDLE, limited.read_until(b'\n', &mut line)) => read,
        };
        match read {
            Ok(Ok(0) | Err(_)) => return,
            Err(_) => {
                tracing::debug!(uid = peer.uid, "idle admin connection closed");
                return;
            }
            Ok(Ok(_)) => {}
        }
        let too_long = !line.ends_with(b"\n") && line.len() as u64 >= MAX_LINE;
        let (response, close) = if too_long {
            let message = "the request is too long";
            (Response::error(ErrorKind::BadRequest, message), true)
        } else {
            answer(&api, &peer, line, &mut write).await
        };
        if write_response(&mut write, &response).await.is_err() || close {
            return;
        }
    }
}

/// Writes one answer line.
async fn write_response(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    response: &Response,
) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(response).map_err(std::io::Error::from)?;
    out.push(b'\n');
    write.write_all(&out).await
}

/// The answer to a peer that may not administer, logged without anything it sent.
fn refusal(peer: &peer::Peer, error: &peer::PeerError) -> Response {
    tracing::warn!(uid = peer.uid, pid = peer.pid, "admin request refused");
    Response::error(ErrorKind::Refused, error.to_string())
}

/// Authorises the peer for this request, then runs it, writing its progress lines as they
/// come; says whether to close the connection.
async fn answer(
    api: &Arc<AdminApi>,
    peer: &peer::Peer,
    line: Vec<u8>,
    write: &mut tokio::net::unix::OwnedWriteHalf,
) -> (Response, bool) {
    let admin = match peer::authorise(peer) {
        Ok(admin) => admin,
        Err(error) => return (refusal(peer, &error), true),
    };
    let request = match protocol::parse_request(&line) {
        Ok(request) => request,
        Err((kind, message)) => return (Response::error(kind, message), false),
    };
    let api = api.clone();
    let (progress_tx, mut progress_rx) = tokio::sync::mpsc::channel::<(u64, u64)>(PROGRESS_QUEUE);
    let mut handled = tokio::task::spawn_blocking(move || {
        // Progress is for a person watching: a slow reader loses updates, never the command.
        let progress = move |done, total| {
            let _ = progress_tx.try_send((done, total));
        };
        api.handle_with(&admin, &request.command, &progress)
    });
    let handled = loop {
        tokio::select! {
            handled = &mut handled => break handled,
            Some((done, total)) = progress_rx.recv() => {
                // A client gone away is found when the answer is written.
                let _ = write_response(write, &Response::progress(done, total)).await;
            }
        }
    };
    // The last steps may still be queued when the command returns.
    while let Ok((done, total)) = progress_rx.try_recv() {
        let _ = write_response(write, &Response::progress(done, total)).await;
    }
    match handled {
        Ok(response) => (response, false),
        Err(error) => {
            tracing::error!(%error, "an admin command panicked");
            let message = "the command failed inside the daemon; see its log";
            (Response::error(ErrorKind::Failed, message), true)
        }
    }
}
