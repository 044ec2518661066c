//! RTP and RTCP of a SIP call's audio: packets in, ordered 8 kHz frames and DTMF events out.
//!
//! [`jitter`] orders and conceals, [`stats`] counts for RTCP receiver reports, [`receiver`]
//! ties them to the agreed codec. All of it is pure, on passed-in arrival times. Nothing here
//! may log audio or DTMF keys.

pub mod jitter;
pub mod receiver;
pub mod stats;

pub use jitter::{JitterBuffer, JitterCounters};
pub use receiver::{Dtmf, Media, RtpReceiver};
