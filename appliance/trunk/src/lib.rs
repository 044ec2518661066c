//! Call trunks: where a call enters the appliance and its sender is proven.
//!
//! Today this holds the Twilio trunk's pure core: checking `X-Twilio-Signature` on webhooks and
//! stream upgrades, resolving the tenant from the account whose token signed the request, the
//! replay guard, TwiML answers and the short-lived stream tokens they carry. Nothing here does
//! I/O or reads a clock: callers pass the current time, so every rule is tested on explicit
//! time. It must never resolve a tenant from a field a caller can set without a verified
//! signature, and never log or print an auth token, a phone number or call audio.
#![forbid(unsafe_code)]

pub mod twilio;
