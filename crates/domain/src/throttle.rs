//! Failed-login throttling. A key (an account's email, a client IP) that failed `max_failures`
//! times within `window_ms` is refused until its oldest failure in the window ages out, and the
//! caller learns exactly how long that is so the page can say "try again in N s".
//!
//! Pure and clock-free: callers pass the time in, so tests move time instead of sleeping.

use std::collections::{HashMap, VecDeque};

#[derive(Debug)]
pub struct Throttle {
    max_failures: usize,
    window_ms: i64,
    failures: HashMap<String, VecDeque<i64>>,
}

/// How long a throttled key must wait, rounded up to whole seconds (never zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    pub seconds: u64,
}

impl Throttle {
    /// Above this many tracked keys, stale ones are swept so memory stays bounded under a
    /// spray of random emails or addresses.
    const SWEEP_ABOVE: usize = 10_000;

    pub fn new(max_failures: usize, window_ms: i64) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window_ms,
            failures: HashMap::new(),
        }
    }

    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), RetryAfter> {
        let Some(times) = self.failures.get(key) else {
            return Ok(());
        };
        let recent: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| now_ms - t < self.window_ms)
            .collect();
        if recent.len() < self.max_failures {
            return Ok(());
        }
        // The key is free again once enough failures have left the window.
        let unlock_at = recent[recent.len() - self.max_failures] + self.window_ms;
        let wait_ms = (unlock_at - now_ms).max(1);
        Err(RetryAfter {
            seconds: u64::try_from(wait_ms).unwrap_or(1).div_ceil(1000),
        })
    }

    pub fn record_failure(&mut self, key: &str, now_ms: i64) {
        if self.failures.len() > Self::SWEEP_ABOVE {
            let window = self.window_ms;
            self.failures
                .retain(|_, times| times.back().is_some_and(|t| now_ms - t < window));
        }
        let times = self.failures.entry(key.to_owned()).or_default();
        times.push_back(now_ms);
        // Room beyond the limit, so that taking back an attempt counted in advance (`forget`)
        // never takes a real failure with it.
        while times.len() > 2 * self.max_failures {
            times.pop_front();
        }
    }

    pub fn clear(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// Take back one failure recorded at `at` (an attempt counted before it was checked turned
    /// out right).
    pub fn forget(&mut self, key: &str, at: i64) {
        if let Some(times) = self.failures.get_mut(key)
            && let Some(i) = times.iter().rposition(|t| *t == at)
        {
            times.remove(i);
        }
    }
}

/// Slows a key down instead of shutting it: once it has `after` failures within the window,
/// one attempt is let through every `gap_ms` after the latest failure. For accounts, where
/// anyone can cause failures: a lock would let a stranger keep the owner out.
#[derive(Debug)]
pub struct SlowDown {
    failures: Throttle,
    gap_ms: i64,
}

impl SlowDown {
    pub fn new(after: usize, window_ms: i64, gap_ms: i64) -> Self {
        Self {
            failures: Throttle::new(after, window_ms),
            gap_ms,
        }
    }

    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), RetryAfter> {
        if self.failures.check(key, now_ms).is_ok() {
            return Ok(());
        }
        let latest = self
            .failures
            .failures
            .get(key)
            .and_then(|times| times.back().copied())
            .unwrap_or(i64::MIN / 2);
        let wait_ms = latest + self.gap_ms - now_ms;
        if wait_ms <= 0 {
            return Ok(());
        }
        Err(RetryAfter {
            seconds: u64::try_from(wait_ms).unwrap_or(1).div_ceil(1000),
        })
    }

    pub fn record_failure(&mut self, key: &str, now_ms: i64) {
        self.failures.record_failure(key, now_ms);
    }

    pub fn forget(&mut self, key: &str, at: i64) {
        self.failures.forget(key, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn locks_after_max_failures_and_says_how_long() {
        let mut t = Throttle::new(3, 15 * MIN);
        for i in 0..3 {
            assert!(t.check("a@x.y", i * 1000).is_ok());
            t.record_failure("a@x.y", i * 1000);
        }
        let wait = t.check("a@x.y", 3000).expect_err("locked");
        // Oldest failure at 0 s leaves the 15 min window at 900 s.
        assert_eq!(wait.seconds, 897);
        assert!(
            t.check("other@x.y", 3000).is_ok(),
            "other keys are unaffected"
        );
        assert!(
            t.check("a@x.y", 15 * MIN).is_ok(),
            "unlocks when failures age out"
        );
    }

    #[test]
    fn slow_down_lets_one_attempt_through_per_gap_never_shuts() {
        let mut s = SlowDown::new(3, 15 * MIN, 30_000);
        for i in 0..3 {
            assert!(s.check("a", i * 1000).is_ok(), "under the threshold");
            s.record_failure("a", i * 1000);
        }
        assert_eq!(s.check("a", 2_500).unwrap_err().seconds, 30);
        assert!(s.check("a", 32_000).is_ok(), "one attempt per gap");
        s.record_failure("a", 32_000);
        assert_eq!(s.check("a", 33_000).unwrap_err().seconds, 29);
        assert!(s.check("b", 33_000).is_ok(), "other keys are unaffected");
    }

    #[test]
    fn forget_takes_back_one_failure() {
        let mut t = Throttle::new(2, MIN);
        t.record_failure("k", 5);
        t.record_failure("k", 6);
        assert!(t.check("k", 7).is_err());
        t.forget("k", 6);
        assert!(t.check("k", 7).is_ok());
    }

    #[test]
    fn clear_forgets_failures() {
        let mut t = Throttle::new(2, MIN);
        t.record_failure("k", 0);
        t.record_failure("k", 1);
        assert!(t.check("k", 2).is_err());
        t.clear("k");
        assert!(t.check("k", 2).is_ok());
    }

    #[test]
    fn memory_is_swept_of_stale_keys() {
        let mut t = Throttle::new(1, MIN);
        for i in 0..=Throttle::SWEEP_ABOVE {
            t.record_failure(&format!("k{i}"), 0);
        }
        t.record_failure("fresh", 10 * MIN);
        assert_eq!(t.failures.len(), 1);
    }
}
