//! Call trunks: where a call enters the appliance and its sender is proven.
//!
//! Today this holds the Twilio trunk. Its core, [`twilio`], checks `X-Twilio-Signature` on
//! webhooks and stream upgrades, resolves the tenant from the account whose token signed the
//! request, guards against replays, writes TwiML answers with short-lived stream tokens and
//! parses Media Streams messages; it does no I/O and reads no clock (callers pass the time, so
//! every rule is tested on explicit time). The HTTPS [`listener`] is a thin tokio shell around
//! it. Nothing here may resolve a tenant from a field a caller can set without a verified
//! signature, or log or print an auth token, a phone number or call audio.
#![forbid(unsafe_code)]

pub mod listener;
pub mod sip;
pub mod twilio;
