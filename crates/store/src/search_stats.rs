//! How many channels hold each trigram, as last counted: planning statistics for free-text
//! search on both backends. They only choose how a phrase is looked up (every match is checked against
//! the whole phrase), so counts a minute old are as good as fresh ones, and a search box that is
//! busy does not count them again for every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_AGE: Duration = Duration::from_secs(60);
/// Far more than the trigrams people search for in a minute; past it the cache starts again.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Default)]
pub(crate) struct TrigramStats {
    counts: Mutex<HashMap<String, (i64, Instant)>>,
}

impl TrigramStats {
    pub(crate) fn get(&self, trigram: &str) -> Option<i64> {
        let counts = self.counts.lock().ok()?;
        counts
            .get(trigram)
            .filter(|(_, at)| at.elapsed() < MAX_AGE)
            .map(|(n, _)| *n)
    }

    pub(crate) fn put(&self, trigram: String, n: i64) {
        if let Ok(mut counts) = self.counts.lock() {
            if counts.len() >= MAX_ENTRIES {
                counts.clear();
            }
            counts.insert(trigram, (n, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_counts_and_forgets_when_full() {
        let stats = TrigramStats::default();
        assert_eq!(stats.get("abc"), None);
        stats.put("abc".into(), 12);
        assert_eq!(stats.get("abc"), Some(12));
        for i in 0..MAX_ENTRIES {
            stats.put(format!("{i:03}"), 1);
        }
        assert_eq!(stats.get("abc"), None, "a full cache starts again");
    }
}
