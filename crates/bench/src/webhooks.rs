//! `partnerhub-bench webhooks`: partner webhook delivery through the durable outbox.
//!
//! 1. Throughput: N events (default 100,000) for 100 partners are enqueued first, then the
//!    dispatcher delivers them to a local receiver answering 200: deliveries per second.
//! 2. Latency while not saturated: events enqueued at a steady rate; enqueue (commit) → arrival
//!    at the receiver, p50 and p99.
//! 3. The same N events to a receiver that fails 20 % of requests with 500: attempts and
//!    deliveries per second. Retries are due 5 s and then minutes later; the clock the Hub
//!    runs on is moved forward whenever only retries wait, so the run measures work, not waiting.

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use domain::webhook_event::EventType;
use hub::clock::{Clock, SystemClock};
use hub::config::Config;
use hub::state::AppState;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const PARTNERS: usize = 100;
const ENQUEUE_BATCH: usize = 500;

/// The system clock plus an offset the bench can move forward.
#[derive(Debug, Default)]
struct JumpClock {
    offset_ms: AtomicI64,
}

impl Clock for JumpClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.offset_ms.load(Ordering::SeqCst)
    }
}

#[derive(Default)]
struct Receiver {
    /// Deliveries answered 2xx, by event id, with the arrival time (first arrival only).
    arrived: Mutex<HashMap<String, Instant>>,
    requests: AtomicU64,
    /// Fail one request in `fail_one_in` (0: never).
    fail_one_in: AtomicU64,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::Relaxed);
    let fail = r.fail_one_in.load(Ordering::Relaxed);
    // Deterministic spread of failures: every fifth request fails at 20 %.
    if fail > 0 && n % fail == 0 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok())
        && let Ok(mut arrived) = r.arrived.lock()
    {
        arrived.entry(id.to_owned()).or_insert_with(Instant::now);
    }
    StatusCode::OK
}

async fn partners(state: &AppState, url: &str) -> anyhow::Result<Vec<domain::PartnerId>> {
    let mut ids = Vec::with_capacity(PARTNERS);
    for i in 0..PARTNERS {
        let id = domain::PartnerId::generate();
        {
            let mut tx = state.db.begin_write().await?;
            store::partners::create(
                &mut *tx,
                &store::partners::NewPartner {
                    id: &id,
                    name: &format!("Webhook Partner {i:03}"),
                    currency: domain::Currency::Eur,
                    payment_model: domain::PaymentModel::PartnerPayment,
                },
                state.now_ms(),
            )
            .await?;
            tx.commit().await?;
        }
        let parsed = hub::services::webhooks::parse_url(
            state,
            hub::services::webhooks::UrlKind::Webhook,
            Some(&format!("{url}?partner={i}")),
        )
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
        hub::services::webhooks::save_url(
            state,
            &id,
            hub::services::webhooks::UrlKind::Webhook,
            parsed.as_ref(),
            &hub::services::audit::Actor::System,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
        ids.push(id);
    }
    Ok(ids)
}

/// Enqueue `n` events round-robin over the partners, `ENQUEUE_BATCH` per transaction (as busy
/// request handlers would commit them). Returns each event's id with its commit time.
async fn enqueue(
    state: &AppState,
    partners: &[domain::PartnerId],
    n: usize,
) -> anyhow::Result<Vec<(String, Instant)>> {
    let mut out = Vec::with_capacity(n);
    let data = serde_json::json!({"id": "benchCH1", "status": "running", "note": "a partner webhook event of typical size, carrying a small object"});
    let mut done = 0;
    while done < n {
        let take = ENQUEUE_BATCH.min(n - done);
        let mut tx = state.db.begin_write().await?;
        let mut ids = Vec::with_capacity(take);
        for i in 0..take {
            let partner = &partners[(done + i) % partners.len()];
            let id = hub::services::events::emit(
                &mut tx,
                state,
                partner,
                EventType::ChannelStatusChanged,
                &data,
            )
            .await?;
            ids.push(id.as_str().to_owned());
        }
        tx.commit().await?;
        let at = Instant::now();
        state.webhooks_wakeup.notify_one();
        out.extend(ids.into_iter().map(|id| (id, at)));
        done += take;
    }
    Ok(out)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn latencies(enqueued: &[(String, Instant)], receiver: &Receiver) -> Vec<Duration> {
    let arrived = receiver
        .arrived
        .lock()
        .map(|a| a.clone())
        .unwrap_or_default();
    let mut out: Vec<Duration> = enqueued
        .iter()
        .filter_map(|(id, at)| arrived.get(id).map(|t| t.saturating_duration_since(*at)))
        .collect();
    out.sort_unstable();
    out
}

async fn wait_delivered(
    state: &AppState,
    receiver: &Receiver,
    clock: &JumpClock,
    want: usize,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut last = 0;
    let mut still = Instant::now();
    loop {
        let got = receiver.arrived.lock().map(|a| a.len()).unwrap_or(0);
        if got >= want {
            return Ok(started.elapsed());
        }
        if got != last {
            last = got;
            still = Instant::now();
        } else if still.elapsed() > Duration::from_millis(200) {
            // Nothing moves: only retries wait. Jump to when all of them are due instead of
            // sleeping (their jitter spreads them out; one jump per retry would crawl).
            let next: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(next_attempt_ms) FROM webhook_events WHERE state = 'pending'",
            )
            .fetch_one(state.db.pool())
            .await?;
            if let Some(next) = next {
                let ahead = next - clock.now_ms();
                if ahead > 0 {
                    clock.offset_ms.fetch_add(ahead + 1, Ordering::SeqCst);
                    state.webhooks_wakeup.notify_one();
                }
            }
            still = Instant::now();
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "only {got} of {want} deliveries after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn reset(receiver: &Receiver) {
    if let Ok(mut a) = receiver.arrived.lock() {
        a.clear();
    }
    receiver.requests.store(0, Ordering::Relaxed);
}

pub async fn run(database_url: Option<String>, events: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let receiver = Arc::new(Receiver::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hook", listener.local_addr()?);
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let database_url = database_url.unwrap_or_else(|| store::Db::sqlite_url(dir.path()));
    let backend = if database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut config = Config::local(
        "127.0.0.1:0".parse()?,
        dir.path().to_path_buf(),
        database_url,
    )?;
    // The receiver is plain http on this machine, which only development mode allows.
    config.dev = true;
    let clock = Arc::new(JumpClock::default());
    let state = hub::build_state(config, clock.clone()).await?;
    let partners = partners(&state, &hook).await?;
    println!(
        "partnerhub-bench webhooks on {backend}: {events} events for {PARTNERS} partners, local receiver"
    );

    // 1. Throughput from a full outbox.
    let started = Instant::now();
    let enqueued = enqueue(&state, &partners, events).await?;
    println!(
        "enqueued {events} events in {:.1} s ({:.0} events/s, {ENQUEUE_BATCH} per transaction)",
        started.elapsed().as_secs_f64(),
        events as f64 / started.elapsed().as_secs_f64()
    );
    crate::reset_peak_rss();
    let shutdown = CancellationToken::new();
    let dispatcher = tokio::spawn(hub::jobs::webhook_dispatch::dispatcher(
        state.clone(),
        shutdown.clone(),
    ));
    let took = wait_delivered(&state, &receiver, &clock, events, Duration::from_secs(600))
        .await
        .context("throughput run")?;
    let lat = latencies(&enqueued, &receiver);
    println!(
        "(1) receiver 200: {events} delivered in {:.1} s = {:.0} deliveries/s (queue drained from full; p50 wait in queue {:.1} s); peak RSS {:.0} MiB",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64(),
        percentile(&lat, 0.5).as_secs_f64(),
        crate::peak_rss_mib()
    );

    // 2. Latency at a steady rate the dispatcher keeps up with.
    reset(&receiver);
    let rate = 1000usize;
    let seconds = 10usize;
    let mut steady = Vec::with_capacity(rate * seconds);
    let tick = Duration::from_millis(10);
    let per_tick = rate / 100;
    let started = Instant::now();
    let mut next = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds as u64) {
        steady.extend(enqueue(&state, &partners, per_tick).await?);
        next += tick;
        tokio::time::sleep_until(next.into()).await;
    }
    wait_delivered(
        &state,
        &receiver,
        &clock,
        steady.len(),
        Duration::from_secs(120),
    )
    .await?;
    let lat = latencies(&steady, &receiver);
    println!(
        "(2) steady {rate} events/s for {seconds} s: enqueue→delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );

    // 3. A receiver failing 20 % of requests.
    reset(&receiver);
    receiver.fail_one_in.store(5, Ordering::Relaxed);
    let started = Instant::now();
    let enqueued = enqueue(&state, &partners, events).await?;
    let enqueue_s = started.elapsed();
    wait_delivered(&state, &receiver, &clock, events, Duration::from_secs(600))
        .await
        .context("failing receiver run")?;
    // Enqueueing and delivering overlap here, as in real life: time the whole run.
    let took = started.elapsed();
    let attempts = receiver.requests.load(Ordering::Relaxed);
    let lat = latencies(&enqueued, &receiver);
    println!(
        "(3) receiver failing 20 %: {events} delivered with {attempts} attempts in {:.1} s = {:.0} attempts/s, {:.0} deliveries/s (enqueue took {:.1} s of it; retries' waits skipped by moving the clock); first-try p50 in queue {:.1} s",
        took.as_secs_f64(),
        attempts as f64 / took.as_secs_f64(),
        events as f64 / took.as_secs_f64(),
        enqueue_s.as_secs_f64(),
        percentile(&lat, 0.5).as_secs_f64()
    );
    shutdown.cancel();
    let _ = dispatcher.await;
    Ok(())
}
