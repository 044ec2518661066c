//! The Twilio trunk: signed webhooks, TwiML answers and Media Streams messages.
//!
//! [`signature`] is the bare algorithm Twilio's libraries share; [`verify`] turns a checked
//! signature into a call of one tenant; [`trunk`] is the door a listener calls, with the replay
//! guard and the stream tokens behind it; [`stream_message`] parses what Twilio sends on the
//! stream. Nothing here may accept a request whose signature did not verify under a configured
//! token.

pub mod account;
pub mod public_url;
pub mod replay;
pub mod sequence;
pub mod signature;
pub mod stream_message;
pub mod stream_session;
pub mod stream_token;
pub mod trunk;
pub mod twiml;
pub mod verify;

pub use account::{Account, Accounts, AuthToken, TokenSlot};
pub use public_url::PublicBase;
pub use replay::ReplayGuard;
pub use stream_session::{SessionEvent, StreamSession};
pub use stream_token::StreamTokens;
pub use trunk::{CallAnswer, Refusal, TwilioTrunk};
pub use twiml::{DialTarget, StreamMode};
pub use verify::{VerifiedCall, VerifiedStream, Verifier};
