//! Flow control on the appliance: the batches sent and not yet acknowledged.
//!
//! Pure bookkeeping, no I/O: the sync client opens a batch when there is room, hands its
//! records back to the outbox when the control plane acknowledges it, and on a lost
//! connection releases everything still in flight so it is sent again on the next one.

use std::collections::BTreeMap;

/// One outbox record lent to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The tenant whose outbox holds it.
    pub tenant: String,
    /// Its id in that outbox.
    pub id: i64,
}

/// The batches in flight on one connection.
#[derive(Debug)]
pub struct Window {
    limit: usize,
    next: u64,
    in_flight: BTreeMap<u64, Vec<Claim>>,
}

impl Window {
    /// A window of at most `limit` batches (at least one).
    pub fn new(limit: usize) -> Self {
        Window {
            limit: limit.max(1),
            next: 1,
            in_flight: BTreeMap::new(),
        }
    }

    /// Whether another batch may be sent now.
    pub fn has_room(&self) -> bool {
        self.in_flight.len() < self.limit
    }

    /// Batches waiting for their acknowledgement.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Records a batch of `claims` as sent and returns its number.
    pub fn open(&mut self, claims: Vec<Claim>) -> u64 {
        let batch = self.next;
        self.next += 1;
        self.in_flight.insert(batch, claims);
        batch
    }

    /// The claims of an acknowledged batch; `None` for a batch this window never sent or
    /// already closed (a duplicate or stray acknowledgement, which changes nothing).
    pub fn ack(&mut self, batch: u64) -> Option<Vec<Claim>> {
        self.in_flight.remove(&batch)
    }

    /// Every claim still in flight, for release when the connection is lost.
    pub fn drain(&mut self) -> Vec<Claim> {
        std::mem::take(&mut self.in_flight)
            .into_values()
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claims(ids: &[i64]) -> Vec<Claim> {
        ids.iter()
            .map(|&id| Claim {
                tenant: "acme".to_owned(),
                id,
            })
            .collect()
    }

    #[test]
    fn the_window_fills_and_an_ack_makes_room() {
        let mut window = Window::new(2);
        let first = window.open(claims(&[1, 2]));
        let second = window.open(claims(&[3]));
        assert!(!window.has_room());
        assert_eq!(window.ack(first).unwrap(), claims(&[1, 2]));
        assert!(window.has_room());
        assert_eq!(window.ack(first), None, "a repeated ack changes nothing");
        assert_eq!(window.ack(99), None);
        assert_eq!(window.in_flight(), 1);
        assert!(second > first);
    }

    #[test]
    fn a_lost_connection_releases_everything_in_flight() {
        let mut window = Window::new(4);
        window.open(claims(&[1]));
        window.open(claims(&[2, 3]));
        assert_eq!(window.drain(), claims(&[1, 2, 3]));
        assert_eq!(window.in_flight(), 0);
    }
}
