//! One call's dialog as the user agent server keeps it: identifiers, state, media and the 2xx
//! that is retransmitted until the ACK.
//!
//! A dialog is found by Call-ID and both tags (RFC 3261 section 12.2.2); a request that names
//! none gets 481 from the core. This module must never hold or expose the caller's number: the
//! tenant and trunk are all the rest of the appliance learns about who called.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::header::{call_id, tag};
use super::message::Request;
use super::sdp::Negotiated;
use super::transaction::{T1, T2, TxKey};

/// The appliance's own number for a call, unique in one run; never derived from SIP headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sip-{}", self.0)
    }
}

/// Where a call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// The INVITE was received and is waiting for the shell to accept or reject it.
    Offered,
    /// The 2xx was sent and the ACK has not come yet.
    Answered,
    /// Acknowledged: the call is up.
    Confirmed,
}

/// A 2xx being retransmitted until its ACK (RFC 3261 section 13.3.1.4).
#[derive(Debug)]
pub struct PendingOk {
    /// The CSeq number the ACK must carry.
    pub cseq: u32,
    /// The response on the wire.
    pub bytes: Vec<u8>,
    /// When to send it again.
    pub next: Instant,
    interval: Duration,
    /// When to stop and end the call (64*T1).
    pub give_up: Instant,
}

impl PendingOk {
    /// A 2xx first sent at `now`.
    pub fn new(cseq: u32, bytes: Vec<u8>, now: Instant) -> Self {
        Self {
            cseq,
            bytes,
            next: now + T1,
            interval: T1,
            give_up: now + 64 * T1,
        }
    }

    /// Moves the next send on after a send at `now`, doubling up to T2.
    pub fn sent(&mut self, now: Instant) {
        self.interval = (self.interval * 2).min(T2);
        self.next = now + self.interval;
    }
}

/// One call.
#[derive(Debug)]
pub struct Call {
    /// Its id.
    pub id: CallId,
    /// The tenant resolved from the trunk and the dialled number.
    pub tenant: String,
    /// The trunk's name.
    pub trunk: String,
    /// Where the peer sends SIP from (responses and retransmissions go there).
    pub peer: SocketAddr,
    /// The SIP Call-ID.
    pub sip_call_id: String,
    /// The peer's tag (From of its requests).
    pub remote_tag: String,
    /// Our tag (To of its requests).
    pub local_tag: String,
    /// The transaction of the INVITE that opened it.
    pub invite_key: TxKey,
    /// That INVITE, kept until it is answered.
    pub invite: Option<Request>,
    /// Where it stands.
    pub state: CallState,
    /// The agreed audio stream.
    pub media: Negotiated,
    /// Where we receive RTP, once accepted.
    pub local_media: Option<SocketAddr>,
    /// The version of our last SDP answer.
    pub sdp_version: u64,
    /// A 2xx not yet acknowledged.
    pub pending_ok: Option<PendingOk>,
}

impl Call {
    /// True when `request` belongs to this call's dialog.
    pub fn owns(&self, request: &Request) -> bool {
        let headers = &request.headers;
        let from_tag = headers.get("From").and_then(tag);
        let to_tag = headers.get("To").and_then(tag);
        call_id(headers) == Some(self.sip_call_id.as_str())
            && from_tag == Some(self.remote_tag.as_str())
            && to_tag == Some(self.local_tag.as_str())
    }
}
