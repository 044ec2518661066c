//! The sysadmin's side of the daemon: a local admin socket whose every request is authorised
//! from the peer's Unix credentials, the command-line client that speaks to it, and the TOTP
//! step-up that sensitive commands need.
//!
//! Only root and members of the group `diala-admin` are served. Every command is written to the
//! audit chain before it takes effect, and is not run if that record cannot be written. Nothing
//! here may log or answer with a secret, a TOTP code, a phone number or transcript text.

pub mod args;
mod calls;
pub mod client;
pub mod commands;
pub mod enrolment;
pub mod export;
pub mod handlers;
mod keys;
pub mod peer;
pub mod protocol;
pub mod render;
pub mod replies;
pub mod server;
mod tenants;
pub mod totp;

#[cfg(test)]
mod step_up_tests;
