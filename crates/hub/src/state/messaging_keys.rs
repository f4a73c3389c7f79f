//! Messaging keys (`D360-API-KEY`) recently seen, with the number, its partner and the partner's
//! billing settings read together: a busy number's sends then cost no lookups before their own
//! transaction. Revoking or replacing a number's keys forgets them in this process at once; a
//! change to the number or the partner (a cancellation, billing switched on) is seen within
//! `TTL_MS`. The balance itself is never cached: the send's transaction reads and gates it.

use domain::{ApiKeyId, ChannelId};
use std::collections::HashMap;
use std::sync::Mutex;
use store::billing::Settings;
use store::channels::ChannelView;
use store::partners::Partner;

const TTL_MS: i64 = 5_000;
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone, Debug)]
pub struct KnownKey {
    pub key_id: ApiKeyId,
    pub partner: Partner,
    pub channel: ChannelView,
    pub settings: Settings,
}

#[derive(Debug, Default)]
pub struct MessagingKeys {
    entries: Mutex<HashMap<String, (i64, KnownKey)>>,
}

impl MessagingKeys {
    pub fn get(&self, hash: &str, now_ms: i64) -> Option<KnownKey> {
        let entries = self.entries.lock().ok()?;
        let (at, known) = entries.get(hash)?;
        (now_ms - *at < TTL_MS && now_ms >= *at).then(|| known.clone())
    }

    pub fn put(&self, hash: String, now_ms: i64, known: KnownKey) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(hash, (now_ms, known));
        }
    }

    /// Forget every key of the number (its keys were revoked or replaced).
    pub fn forget_channel(&self, channel: &ChannelId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (_, k)| &k.channel.id != channel);
        }
    }
}
