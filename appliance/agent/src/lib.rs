//! The voice agent: for tenants that want it, the appliance answers the call itself.
//!
//! After each caller utterance the redacted conversation goes to a model on Bedrock
//! (ConverseStream); the streamed reply is cut into sentences, each synthesised by Polly as soon
//! as it is complete, encoded for the call and played, the first while the rest is still being
//! generated. Caller speech during playback stops it and the history keeps only what the caller
//! heard. The decisions live in [`turn::TurnLoop`], a state machine without I/O or clocks.
//!
//! This crate must never send AWS anything but [`diala_redact::Redacted`] text, never read
//! credentials from the environment, and never leave a caller in silence: when the services
//! fail it hands the call to the tenant's fallback.
#![forbid(unsafe_code)]

pub mod audio;
pub mod aws;
pub mod bedrock;
pub mod config;
pub mod credentials;
pub mod polly;
pub mod run;
pub mod sentence;
pub mod speakable;
pub mod turn;
