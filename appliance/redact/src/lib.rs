//! Finding personal data in text and replacing it with keyed tokens.
//!
//! Every log line passes through [`Scrubber`] before any sink writes it, and every transcript
//! segment passes through a [`TrackRedactor`] before it is stored or forwarded; only this crate
//! can make the [`Redacted`] values the vault and the outbound clients accept. Transcript text
//! is carried in [`TranscriptText`], which cannot be printed. This crate is pure: it never does
//! I/O, never logs, and never returns forwarded text in which a detected entity is in clear.
#![forbid(unsafe_code)]

mod checks;
mod classify;
mod context;
pub mod corpus;
mod detect;
mod kind;
mod numbers;
mod policy;
mod redacted;
mod redactor;
mod scrub;
mod text;
mod token;
mod track;
mod words;
mod written;

pub use detect::detect;
pub use kind::{EntityKind, Span};
pub use policy::{Policy, PolicyError};
pub use redacted::Redacted;
pub use redactor::{Entity, Redaction, Redactor};
pub use scrub::Scrubber;
pub use text::TranscriptText;
pub use token::TokenKey;
pub use track::TrackRedactor;
