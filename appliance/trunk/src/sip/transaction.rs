//! RFC 3261 server transactions over an unreliable transport, on explicit time.
//!
//! A transaction absorbs the peer's retransmissions of a request by resending its last
//! response, retransmits a non-2xx final answer to an INVITE until the ACK comes (Timer G,
//! doubling from T1 to T2) or gives up (Timer H), lingers after the ACK (Timer I) and after a
//! non-INVITE final answer (Timer J). A 2xx to an INVITE is the dialog's to retransmit; the
//! transaction then only absorbs INVITE retransmissions for 64*T1 (RFC 6026, Timer L). This
//! module must never read a clock or decide what a request means: that is the core's job.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::header::{self, cseq, tag, top_via, via_branch, via_sent_by};
use super::message::{Method, Request};

/// RTT estimate (RFC 3261 section 17.1.1.1).
pub const T1: Duration = Duration::from_millis(500);
/// The longest retransmission interval.
pub const T2: Duration = Duration::from_secs(4);
/// How long a message may live in the network.
pub const T4: Duration = Duration::from_secs(5);

/// Bytes to send to a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub to: SocketAddr,
    /// The datagram.
    pub bytes: Vec<u8>,
}

/// What identifies a server transaction (RFC 3261 section 17.2.3): the branch, the sent-by and
/// the method, with ACK counted as INVITE.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TxKey {
    branch: String,
    sent_by: String,
    method: Method,
}

impl TxKey {
    /// The key of `request`, or `None` when it has no readable top Via.
    pub fn of(request: &Request) -> Option<Self> {
        let via = top_via(&request.headers)?;
        let sent_by = via_sent_by(via)?.to_ascii_lowercase();
        let method = match &request.method {
            Method::Ack => Method::Invite,
            other => other.clone(),
        };
        let branch = match via_branch(via) {
            Some(b) if b.starts_with("z9hG4bK") => b.to_owned(),
            // An RFC 2543 peer: the dialog identifiers and the CSeq number stand in.
            _ => legacy_branch(request)?,
        };
        Some(Self {
            branch,
            sent_by,
            method,
        })
    }

    /// The key of the INVITE transaction a CANCEL with this key cancels.
    pub fn cancelled_invite(&self) -> Self {
        Self {
            method: Method::Invite,
            ..self.clone()
        }
    }
}

fn legacy_branch(request: &Request) -> Option<String> {
    let headers = &request.headers;
    let from_tag = tag(headers.get("From")?).unwrap_or_default();
    let (number, _) = cseq(headers)?;
    Some(format!("{}|{number}|{from_tag}", header::call_id(headers)?))
}

/// Where a transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxState {
    /// Received, no final answer yet.
    Proceeding,
    /// A 2xx to an INVITE was sent (RFC 6026).
    Accepted,
    /// A final answer was sent; for an INVITE, not yet acknowledged.
    Completed,
    /// An INVITE's non-2xx answer was acknowledged.
    Confirmed,
}

#[derive(Debug)]
struct Tx {
    peer: SocketAddr,
    state: TxState,
    response: Option<Vec<u8>>,
    retransmit: Option<(Instant, Duration)>,
    expires: Option<Instant>,
}

/// What a received request is to the transaction layer.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// A new request: the core decides the answer.
    New,
    /// A retransmission: send this again (nothing when no answer was sent yet).
    Retransmission(Option<Transmit>),
    /// The ACK of a non-2xx answer: the transaction took it.
    Absorbed,
}

/// A transaction that ended without its ACK (Timer H).
#[derive(Debug, PartialEq, Eq)]
pub struct Unacknowledged(pub TxKey);

/// Every live server transaction.
#[derive(Debug, Default)]
pub struct ServerTransactions {
    txs: HashMap<TxKey, Tx>,
}

impl ServerTransactions {
    /// Routes a request that arrived from `peer` at `now`.
    pub fn receive(
        &mut self,
        key: &TxKey,
        method: &Method,
        peer: SocketAddr,
        now: Instant,
    ) -> Received {
        if *method == Method::Ack {
            return match self.txs.get_mut(key) {
                Some(tx) if tx.state == TxState::Completed => {
                    tx.state = TxState::Confirmed;
                    tx.retransmit = None;
                    tx.expires = Some(now + T4);
                    Received::Absorbed
                }
                Some(tx) if tx.state == TxState::Confirmed => Received::Absorbed,
                // An ACK for a 2xx has a branch of its own: it is the dialog's.
                _ => Received::New,
            };
        }
        if let Some(tx) = self.txs.get(key) {
            let again = match tx.state {
                TxState::Accepted => None,
                _ => tx.response.clone(),
            };
            let to = tx.peer;
            return Received::Retransmission(again.map(|bytes| Transmit { to, bytes }));
        }
        let tx = Tx {
            peer,
            state: TxState::Proceeding,
            response: None,
            retransmit: None,
            expires: None,
        };
        self.txs.insert(key.clone(), tx);
        Received::New
    }

    /// Records the response `bytes` with `status` sent in transaction `key` at `now`, and
    /// returns what to send (nothing when the transaction is gone or already answered).
    pub fn respond(
        &mut self,
        key: &TxKey,
        status: u16,
        bytes: Vec<u8>,
        now: Instant,
    ) -> Option<Transmit> {
        let tx = self.txs.get_mut(key)?;
        if tx.state != TxState::Proceeding {
            return None;
        }
        let invite = key.method == Method::Invite;
        match (invite, status) {
            (_, 100..=199) => {}
            (true, 200..=299) => {
                tx.state = TxState::Accepted;
                tx.expires = Some(now + 64 * T1);
            }
            (true, _) => {
                tx.state = TxState::Completed;
                tx.retransmit = Some((now + T1, T1));
                tx.expires = Some(now + 64 * T1);
            }
            (false, _) => {
                tx.state = TxState::Completed;
                tx.expires = Some(now + 64 * T1);
            }
        }
        tx.response = Some(bytes.clone());
        Some(Transmit { to: tx.peer, bytes })
    }

    /// The state of transaction `key`.
    pub fn state(&self, key: &TxKey) -> Option<TxState> {
        self.txs.get(key).map(|tx| tx.state)
    }

    /// Fires the timers due at `now`: retransmissions to send, INVITEs never acknowledged.
    pub fn on_timeout(&mut self, now: Instant) -> (Vec<Transmit>, Vec<Unacknowledged>) {
        let mut sends = Vec::new();
        let mut lost = Vec::new();
        self.txs.retain(|key, tx| {
            if tx.expires.is_some_and(|at| at <= now) {
                if tx.state == TxState::Completed && key.method == Method::Invite {
                    lost.push(Unacknowledged(key.clone()));
                }
                return false;
            }
            if let Some((at, interval)) = tx.retransmit
                && at <= now
            {
                let next = (interval * 2).min(T2);
                tx.retransmit = Some((now + next, next));
                if let Some(bytes) = &tx.response {
                    sends.push(Transmit {
                        to: tx.peer,
                        bytes: bytes.clone(),
                    });
                }
            }
            true
        });
        (sends, lost)
    }

    /// The earliest time a timer is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        let times = self
            .txs
            .values()
            .flat_map(|tx| [tx.expires, tx.retransmit.map(|(at, _)| at)]);
        times.flatten().min()
    }

    /// Live transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// True when none is live.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }
}
