//! The user agent server with no I/O: datagrams and the time in, datagrams and call events out.
//!
//! The shell feeds [`SipCore::handle_datagram`] and [`SipCore::handle_timeout`], sends what
//! [`SipCore::poll_transmit`] gives and acts on [`SipCore::poll_event`]; tests do the same on
//! explicit time; [`invite`] holds what an INVITE does. A source no trunk allows is never
//! answered; a request that is not SIP is dropped; each is counted in [`Counters`]. This module
//! must never log header values or SDP.

mod invite;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use super::call::{Call, CallId, CallState};
use super::config::{SipConfig, Trunk, Trunks};
use super::digest::Nonces;
use super::header::{cseq, tag};
use super::message::{Method, Request, Response};
use super::parse::{ParseError, parse};
use super::response::{ALLOW, routable, to_request};
use super::sdp::Negotiated;
use super::transaction::{Received, ServerTransactions, Transmit, TxKey, TxState};

/// Why the shell's request about a call was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CoreError {
    /// The call ended (cancelled, say) or was already answered.
    #[error("call {0} is not waiting for an answer")]
    NotOffered(CallId),
}

/// What the core tells the shell about calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreEvent {
    /// A verified INVITE: bind a media port and call [`SipCore::accept`] (or
    /// [`SipCore::reject`]).
    Offered {
        /// The call.
        call: CallId,
        /// The tenant of the dialled number.
        tenant: String,
        /// The trunk that sent it.
        trunk: String,
        /// The agreed audio stream.
        media: Negotiated,
    },
    /// A re-INVITE changed the audio stream: hold, resume, a new address or codec.
    MediaChanged {
        /// The call.
        call: CallId,
        /// The stream now.
        media: Negotiated,
    },
    /// The call is over.
    Ended {
        /// The call.
        call: CallId,
        /// Why.
        reason: EndReason,
    },
}

/// Why a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The peer hung up (BYE).
    Hangup,
    /// The peer cancelled before the answer.
    Cancelled,
    /// The ACK of our 2xx never came (64*T1).
    NoAck,
}

impl EndReason {
    /// A fixed label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hangup => "hangup",
            Self::Cancelled => "cancelled",
            Self::NoAck => "no_ack",
        }
    }
}

/// What was dropped or refused, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams from a source no trunk allows (not answered).
    pub unknown_source: u64,
    /// Datagrams that were not SIP, or broken requests with no way to answer (not answered).
    pub garbage: u64,
    /// Broken requests answered 400.
    pub malformed: u64,
    /// Responses received (a UAS sends no requests, so none is expected).
    pub stray_responses: u64,
    /// INVITEs challenged (401) for missing, wrong or stale digest credentials.
    pub challenged: u64,
    /// Calls refused at the box's (503) or trunk's (486) limit.
    pub over_limit: u64,
    /// Non-2xx answers to an INVITE never acknowledged (Timer H).
    pub unacknowledged: u64,
}

/// The SIP user agent server.
#[derive(Debug)]
pub struct SipCore {
    trunks: Trunks,
    max_calls: usize,
    retry_after_secs: u32,
    contact: String,
    txs: ServerTransactions,
    calls: Vec<Call>,
    next_call: u64,
    next_tag: u64,
    tag_seed: u64,
    nonces: Nonces,
    epoch: Instant,
    transmits: VecDeque<Transmit>,
    events: VecDeque<CoreEvent>,
    counters: Counters,
}

impl SipCore {
    /// A core for `trunks`, listening at `local` (for Contact). `secret` (random, made at start)
    /// keys the digest nonces and makes this run's tags differ from another's; `now` starts
    /// the nonces' clock.
    pub fn new(
        config: &SipConfig,
        trunks: Trunks,
        local: SocketAddr,
        secret: [u8; 32],
        now: Instant,
    ) -> Self {
        let mut seed = [0u8; 8];
        seed.copy_from_slice(secret.get(..8).unwrap_or(&[0; 8]));
        Self {
            trunks,
            max_calls: config.max_calls,
            retry_after_secs: config.retry_after_secs,
            contact: format!("<sip:diala-edge@{local}>"),
            txs: ServerTransactions::default(),
            calls: Vec::new(),
            next_call: 1,
            next_tag: 0,
            tag_seed: u64::from_le_bytes(seed),
            nonces: Nonces::new(secret),
            epoch: now,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next call event.
    pub fn poll_event(&mut self) -> Option<CoreEvent> {
        self.events.pop_front()
    }

    /// What was dropped or refused so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Calls offered or up.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Handles one datagram from `from` at `now`.
    pub fn handle_datagram(&mut self, from: SocketAddr, bytes: &[u8], now: Instant) {
        let Some(trunk) = self.trunks.matching(from.ip()).cloned() else {
            self.counters.unknown_source += 1;
            return;
        };
        match parse(bytes) {
            Ok(super::Message::Request(request)) => self.handle_request(&trunk, request, from, now),
            Ok(super::Message::Response(_)) => self.counters.stray_responses += 1,
            Err(ParseError::Keepalive) => {}
            Err(ParseError::Garbage(_)) => self.counters.garbage += 1,
            Err(ParseError::Malformed { head, .. }) if routable(&head) => {
                self.counters.malformed += 1;
                let bytes = to_request(&head, 400, None).to_bytes();
                self.transmits.push_back(Transmit { to: from, bytes });
            }
            Err(ParseError::Malformed { .. }) => self.counters.garbage += 1,
        }
    }

    fn handle_request(&mut self, trunk: &Trunk, request: Request, from: SocketAddr, now: Instant) {
        let Some(key) = TxKey::of(&request) else {
            self.counters.garbage += 1;
            return;
        };
        match self.txs.receive(&key, &request.method, from, now) {
            Received::New => {}
            Received::Retransmission(again) => {
                self.transmits.extend(again);
                return;
            }
            Received::Absorbed => return,
        }

        let in_dialog = request.headers.get("To").and_then(tag).is_some();
        match request.method {
            Method::Invite if !in_dialog => self.new_call(trunk, &key, request, from, now),
            Method::Invite => self.reinvite(&key, &request, now),
            Method::Ack => self.ack(&request),
            Method::Bye => self.bye(&key, &request, now),
            Method::Cancel => self.cancel(&key, &request, now),
            Method::Options => {
                let mut ok = to_request(&request, 200, Some(&self.new_tag()));
                ok.headers.push("Allow", ALLOW);
                ok.headers.push("Accept", "application/sdp");
                self.send(&key, ok, now);
            }
            Method::Other(_) => {
                let mut refusal = to_request(&request, 405, Some(&self.new_tag()));
                refusal.headers.push("Allow", ALLOW);
                self.send(&key, refusal, now);
            }
        }
    }

    fn ack(&mut self, request: &Request) {
        let number = cseq(&request.headers).map(|(n, _)| n);
        let Some(call) = self.calls.iter_mut().find(|c| c.owns(request)) else {
            return;
        };
        if call
            .pending_ok
            .as_ref()
            .is_some_and(|ok| Some(ok.cseq) == number)
        {
            call.pending_ok = None;
            call.state = CallState::Confirmed;
        }
    }

    fn bye(&mut self, key: &TxKey, request: &Request, now: Instant) {
        let Some(index) = self.calls.iter().position(|c| c.owns(request)) else {
            return self.send(key, to_request(request, 481, None), now);
        };
        let call = self.calls.swap_remove(index);
        self.send(key, to_request(request, 200, None), now);
        self.end(call.id, EndReason::Hangup);
    }

    fn cancel(&mut self, key: &TxKey, cancel: &Request, now: Instant) {
        let invite_key = key.cancelled_invite();
        let Some(state) = self.txs.state(&invite_key) else {
            return self.send(key, to_request(cancel, 481, None), now);
        };
        let index = self.calls.iter().position(|c| c.invite_key == invite_key);
        let local_tag = index
            .and_then(|i| self.calls.get(i))
            .map(|c| c.local_tag.clone());
        self.send(key, to_request(cancel, 200, local_tag.as_deref()), now);
        if state != TxState::Proceeding {
            return;
        }
        let Some(call) = index.map(|i| self.calls.swap_remove(i)) else {
            return;
        };
        if let Some(invite) = &call.invite {
            let terminated = to_request(invite, 487, Some(&call.local_tag));
            self.send(&invite_key, terminated, now);
        }
        self.end(call.id, EndReason::Cancelled);
    }

    /// Fires what is due at `now`: transaction retransmissions and timeouts, 2xx retransmissions.
    pub fn handle_timeout(&mut self, now: Instant) {
        let (sends, lost) = self.txs.on_timeout(now);
        self.transmits.extend(sends);
        self.counters.unacknowledged += lost.len() as u64;

        let mut unanswered = Vec::new();
        for call in &mut self.calls {
            let Some(ok) = &mut call.pending_ok else {
                continue;
            };
            if ok.give_up <= now {
                unanswered.push(call.id);
            } else if ok.next <= now {
                ok.sent(now);
                self.transmits.push_back(Transmit {
                    to: call.peer,
                    bytes: ok.bytes.clone(),
                });
            }
        }
        // Limitation: a call whose 2xx is never acknowledged ends here without a BYE to the peer.
        for id in unanswered {
            self.calls.retain(|c| c.id != id);
            self.end(id, EndReason::NoAck);
        }
    }

    /// When [`SipCore::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let oks = self.calls.iter().filter_map(|c| c.pending_ok.as_ref());
        let call_times = oks.map(|ok| ok.next.min(ok.give_up));
        call_times.chain(self.txs.next_deadline()).min()
    }

    fn offered(&mut self, id: CallId) -> Result<&mut Call, CoreError> {
        self.call_mut(id)
            .filter(|c| c.state == CallState::Offered && c.invite.is_some())
            .ok_or(CoreError::NotOffered(id))
    }

    fn call_mut(&mut self, id: CallId) -> Option<&mut Call> {
        self.calls.iter_mut().find(|c| c.id == id)
    }

    fn send(&mut self, key: &TxKey, response: Response, now: Instant) {
        let status = response.status;
        let sent = self.txs.respond(key, status, response.to_bytes(), now);
        self.transmits.extend(sent);
    }

    fn end(&mut self, call: CallId, reason: EndReason) {
        self.events.push_back(CoreEvent::Ended { call, reason });
    }

    fn new_tag(&mut self) -> String {
        self.next_tag = self.next_tag.wrapping_add(1);
        // Tags need only be unique (RFC 3261 section 19.3): this run's seed and a counter.
        format!("{:x}-{:x}", self.tag_seed, self.next_tag)
    }
}
