//! The Twilio trunk: signed webhooks and Media Streams upgrades.
//!
//! [`signature`] is the bare algorithm Twilio's libraries share; the rest turns a checked
//! signature into a call of one tenant. Nothing here may accept a request whose signature did
//! not verify under a configured token.

pub mod signature;
