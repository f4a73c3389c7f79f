//! `AppState`: everything a request, a job or a command needs, built once and shared, and the
//! in-process caches it holds.

pub mod dev_sink;
pub mod group_commit;
pub mod key_cache;
pub mod messaging_keys;
pub mod rate_cache;

use crate::clock::Clock;
use crate::config::Config;
use crate::providers::mail::Mailer;
use crate::providers::webhook_client::WebhookClient;
use crate::providers::whatsapp::WhatsAppProvider;
use domain::throttle::{SlowDown, Throttle};
use std::sync::{Arc, Mutex};
use store::Db;
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// `None` when no SMTP server is configured: mail then stays in the outbox.
    pub mailer: Option<Arc<dyn Mailer>>,
    pub whatsapp: Arc<dyn WhatsAppProvider>,
    pub login_throttle: LoginThrottle,
    /// Recently seen partner API keys, so a busy integration costs no lookup per request.
    pub key_cache: key_cache::KeyCache,
    /// Wakes the job runner when work is enqueued in this process.
    pub jobs_wakeup: Notify,
    /// Reaches partners' webhook and redirect URLs (SSRF-guarded outside development mode).
    pub webhook_client: WebhookClient,
    /// Wakes the webhook dispatcher when events are enqueued or resent in this process.
    pub webhooks_wakeup: Notify,
    /// What the development-mode webhook sink received (empty outside development mode).
    pub dev_sink: dev_sink::DevSink,
    /// The rate cards, re-read every few seconds.
    pub rate_cards: rate_cache::RateCache,
    /// Messaging keys recently seen, with their number (see `messaging_keys`).
    pub messaging_keys: messaging_keys::MessagingKeys,
    /// The last second of sends for which this process queued the sandbox's report run.
    pub report_second: std::sync::atomic::AtomicI64,
    /// Accepted messages waiting to be written together (see `services::messaging::send`).
    pub sends: group_commit::GroupCommit<
        store::messages::Pending,
        Result<store::messages::Fate, store::StoreError>,
    >,
}

/// Failed logins are limited per account and address together (a lock, which only that address
/// can cause), per address (one address guessing many accounts), and per account from any
/// address (a slow-down, never a lock, that a known address skips): see `services::auth`.
#[derive(Debug)]
pub struct LoginThrottle {
    pub per_account_and_ip: Mutex<Throttle>,
    pub per_ip: Mutex<Throttle>,
    pub per_account: Mutex<SlowDown>,
    /// Onboarding sign-ups (each makes a user and a client) per client IP: enough for an
    /// agency onboarding clients from one office, not for a script filling the database.
    pub signups_per_ip: Mutex<Throttle>,
}

impl LoginThrottle {
    const WINDOW_MS: i64 = 15 * 60 * 1000;
    pub const SIGNUPS_PER_HOUR: usize = 20;
    /// Failures from all addresses after which an account is slowed down...
    const SLOW_DOWN_AFTER: usize = 10;
    /// ...to one attempt from an unknown address per this gap.
    const SLOW_DOWN_GAP_MS: i64 = 30_000;

    pub fn new() -> Self {
        Self {
            per_account_and_ip: Mutex::new(Throttle::new(5, Self::WINDOW_MS)),
            per_account: Mutex::new(SlowDown::new(
                Self::SLOW_DOWN_AFTER,
                Self::WINDOW_MS,
                Self::SLOW_DOWN_GAP_MS,
            )),
            per_ip: Mutex::new(Throttle::new(30, Self::WINDOW_MS)),
            signups_per_ip: Mutex::new(Throttle::new(Self::SIGNUPS_PER_HOUR, 60 * 60 * 1000)),
        }
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl AppState {
    pub fn new(
        db: Db,
        config: Config,
        clock: Arc<dyn Clock>,
        mailer: Option<Arc<dyn Mailer>>,
        whatsapp: Arc<dyn WhatsAppProvider>,
        webhook_client: WebhookClient,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            config,
            clock,
            mailer,
            whatsapp,
            login_throttle: LoginThrottle::new(),
            key_cache: key_cache::KeyCache::default(),
            jobs_wakeup: Notify::new(),
            webhook_client,
            webhooks_wakeup: Notify::new(),
            dev_sink: dev_sink::DevSink::default(),
            rate_cards: rate_cache::RateCache::default(),
            messaging_keys: messaging_keys::MessagingKeys::default(),
            report_second: std::sync::atomic::AtomicI64::new(i64::MIN),
            sends: group_commit::GroupCommit::default(),
        }))
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
