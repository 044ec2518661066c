//! The sync protocol: its messages and its framing, with no I/O of its own beyond reading and
//! writing frames on a stream it is handed. `docs/sync-protocol.md` is its specification; a
//! change here that the document does not describe is a bug.

mod frame;
mod messages;

pub use frame::{
    Decoded, FrameError, MAX_FRAME, decode, encode, read_frame, read_message, write_message,
};
pub use messages::*;

/// The ALPN of the sync connection (mutual TLS).
pub const ALPN_SYNC: &[u8] = b"diala-sync/1";
/// The ALPN of enrollment (server authentication only; a one-time token names the appliance).
pub const ALPN_ENROLL: &[u8] = b"diala-enroll/1";
