//! Finding personal data in text and replacing it with keyed tokens.
//!
//! Every log line passes through [`Scrubber`] before any sink writes it, and transcript text is
//! carried in [`TranscriptText`], which cannot be printed. This crate is pure: it never does I/O,
//! never logs, and never returns text in which a detected entity is still in clear.
#![forbid(unsafe_code)]

mod detect;
mod scrub;
mod text;
mod token;

pub use detect::{EntityKind, Span, detect};
pub use scrub::Scrubber;
pub use text::TranscriptText;
pub use token::TokenKey;
