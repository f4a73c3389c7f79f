//! The development-mode webhook sink: a receiver built into the Hub, so a newcomer can watch
//! signed deliveries arrive without running a server. It keeps the last deliveries per partner
//! in memory, each with the result of checking its signature against the partner's secrets.

use domain::PartnerId;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How many deliveries the sink remembers per partner.
pub const KEPT: usize = 200;

#[derive(Clone, Debug)]
pub struct Received {
    pub received_ms: i64,
    pub webhook_id: String,
    pub event: String,
    /// The status the sink answered with.
    pub answered: u16,
    /// `Ok` when a signature verified against one of the partner's secrets; else why not.
    pub signature: Result<(), String>,
    pub body: String,
}

#[derive(Debug, Default)]
pub struct DevSink {
    received: Mutex<HashMap<PartnerId, VecDeque<Received>>>,
}

impl DevSink {
    pub fn record(&self, partner: &PartnerId, received: Received) {
        let Ok(mut all) = self.received.lock() else {
            return;
        };
        let list = all.entry(partner.clone()).or_default();
        list.push_front(received);
        list.truncate(KEPT);
    }

    /// Newest first.
    pub fn list(&self, partner: &PartnerId) -> Vec<Received> {
        self.received
            .lock()
            .ok()
            .and_then(|all| all.get(partner).map(|l| l.iter().cloned().collect()))
            .unwrap_or_default()
    }

    pub fn clear(&self, partner: &PartnerId) {
        if let Ok(mut all) = self.received.lock() {
            all.remove(partner);
        }
    }
}
