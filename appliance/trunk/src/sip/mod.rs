//! The SIP trunk: a user agent server for PBXs and SBCs that send the appliance calls.
//!
//! [`parse`] reads one message from a datagram and [`message`] writes one; [`header`] reads the
//! structured headers routing needs. Everything here is pure: no sockets and no clock, time is
//! passed in. Nothing here may answer a source that matches no configured trunk, resolve a
//! tenant from anything but the matched trunk and its numbers, or log a number, a URI or audio.

pub mod call;
pub mod config;
pub mod core;
pub mod digest;
pub mod header;
pub mod message;
pub mod parse;
pub mod response;
pub mod rtp;
pub mod sdp;
pub mod shell;
pub mod transaction;

pub use call::CallId;
pub use config::{SipConfig, Trunks};
pub use core::{CoreEvent, Counters, EndReason, SipCore};
pub use message::{Headers, Message, Method, Request, Response};
pub use parse::{ParseError, parse};
pub use shell::{CallEvent, SipShell};
