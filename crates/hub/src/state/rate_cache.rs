//! The rate cards, read from the database at most every few seconds: every metered message needs
//! the card in force, and cards change a few times a year (an import by another process shows up
//! within `REFRESH_MS`).

use domain::Currency;
use domain::pricing::RateCard;
use std::sync::{Arc, Mutex};
use store::rate_cards::Version;

const REFRESH_MS: i64 = 5_000;

/// Every version with its rates, in effective-date order per currency.
#[derive(Debug, Default)]
pub struct RateCards {
    pub cards: Vec<(Version, Arc<RateCard>)>,
}

impl RateCards {
    /// The card of `currency` in force at `at_ms`: the newest version that took effect by then.
    pub fn in_force(&self, currency: Currency, at_ms: i64) -> Option<&(Version, Arc<RateCard>)> {
        self.cards
            .iter()
            .filter(|(v, _)| v.currency == currency && v.effective_from_ms <= at_ms)
            .max_by_key(|(v, _)| (v.effective_from_ms, v.version))
    }
}

#[derive(Debug, Default)]
pub struct RateCache {
    loaded: Mutex<Option<(i64, Arc<RateCards>)>>,
}

impl RateCache {
    /// The cached cards if read less than `REFRESH_MS` ago.
    pub fn fresh(&self, now_ms: i64) -> Option<Arc<RateCards>> {
        let loaded = self.loaded.lock().ok()?;
        loaded
            .as_ref()
            .filter(|(at, _)| now_ms - *at < REFRESH_MS && now_ms >= *at)
            .map(|(_, cards)| Arc::clone(cards))
    }

    pub fn put(&self, now_ms: i64, cards: Arc<RateCards>) {
        if let Ok(mut loaded) = self.loaded.lock() {
            *loaded = Some((now_ms, cards));
        }
    }

    /// Forget the cards, so the next message reads the new version (after an import here).
    pub fn clear(&self) {
        if let Ok(mut loaded) = self.loaded.lock() {
            *loaded = None;
        }
    }
}
