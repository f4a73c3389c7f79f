//! Partner API keys recently seen, so a busy integration costs no lookup per request.

use domain::ApiKeyId;
use store::api_keys::PartnerKey;
use store::partners::Partner;

/// Partner keys seen recently, by digest. A revoked key stops working at once in this process
/// and within `KEY_CACHE_TTL_MS` in others; "last used" is written at most once a minute per key.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedKey>>,
}

#[derive(Debug, Clone)]
pub struct CachedKey {
    /// The key and the partner it acts for, read together: an API call then needs no query to
    /// know its partner (a change to the partner's own row reaches other processes within
    /// the same `KEY_CACHE_TTL_MS` as a revocation does).
    pub key: Option<(PartnerKey, Partner)>,
    pub fetched_ms: i64,
    pub touched_ms: i64,
}

const KEY_CACHE_TTL_MS: i64 = 30_000;
const UNKNOWN_KEY_TTL_MS: i64 = 5_000;
pub const TOUCH_EVERY_MS: i64 = 60_000;
const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    pub fn get(&self, hash: &str, now: i64) -> Option<CachedKey> {
        let entries = self.entries.lock().ok()?;
        let hit = entries.get(hash)?;
        let ttl = if hit.key.is_some() {
            KEY_CACHE_TTL_MS
        } else {
            UNKNOWN_KEY_TTL_MS
        };
        (now - hit.fetched_ms < ttl).then(|| hit.clone())
    }

    pub fn put(&self, hash: String, entry: CachedKey) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= KEY_CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, entry);
        }
    }

    pub fn forget(&self, id: &ApiKeyId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| e.key.as_ref().is_none_or(|(k, _)| &k.id != id));
        }
    }
}
