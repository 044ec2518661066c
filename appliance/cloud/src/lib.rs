//! Control-plane sync: the appliance's side (enrollment, the sync client that drains the
//! vaults' outboxes over QUIC with mutual TLS, and the hooks that apply what the control plane
//! pushes) and the reference control plane that the tests and the demo run against.
//!
//! The protocol is written down in `docs/sync-protocol.md`. Only redacted text and metadata
//! cross: a segment record is built from a `Redacted<String>` and nothing else. This crate
//! never logs record content, never sends the appliance's private key anywhere, and trusts no
//! CA but the one pinned at enrollment.
#![forbid(unsafe_code)]

pub mod backoff;
pub mod client;
pub mod commands;
#[cfg(feature = "control-plane")]
pub mod control_plane;
pub mod enroll;
pub mod identity;
pub mod net;
pub mod outbound;
pub mod protocol;
pub mod status;
pub mod tls;
pub mod window;
