//! Call trunks: where a call enters the appliance and its sender is proven.
//!
//! Two trunks live here. The Twilio trunk's core, [`twilio`], checks `X-Twilio-Signature` on
//! webhooks and stream upgrades, resolves the tenant from the account whose token signed the
//! request, guards against replays, writes TwiML answers with short-lived stream tokens and
//! parses Media Streams messages; it does no I/O and reads no clock (callers pass the time, so
//! every rule is tested on explicit time). The HTTPS [`listener`] is a thin tokio shell around
//! it. The SIP trunk, [`sip`], is a user agent server with the same shape: a core fed
//! datagrams and the time, and a tokio shell that yields one stream of call events. Nothing
//! here may resolve a tenant from a field a caller can set without a verified
//! signature, or log or print an auth token, a phone number or call audio.
#![forbid(unsafe_code)]

pub mod listener;
pub mod sip;
pub mod twilio;
