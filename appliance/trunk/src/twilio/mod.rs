//! The Twilio trunk: signed webhooks and Media Streams upgrades.
//!
//! [`signature`] is the bare algorithm Twilio's libraries share; the rest turns a checked
//! signature into a call of one tenant. Nothing here may accept a request whose signature did
//! not verify under a configured token.

pub mod account;
pub mod public_url;
pub mod replay;
pub mod signature;
pub mod stream_token;
pub mod trunk;
pub mod twiml;
pub mod verify;

pub use account::{Account, Accounts, AuthToken, TokenSlot};
pub use public_url::PublicBase;
pub use replay::ReplayGuard;
pub use stream_token::StreamTokens;
pub use trunk::{CallAnswer, Refusal, TwilioTrunk};
pub use twiml::{DialTarget, StreamMode};
pub use verify::{VerifiedCall, VerifiedStream, Verifier};
