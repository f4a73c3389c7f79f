//! `partnerhub-bench messages`: metered messages over real HTTP. 100 running numbers of one
//! Partner-Payment partner (every message of theirs debits the same balance) and 5 numbers each
//! of 20 other partners; every number has an approved marketing template and a messaging
//! webhook pointing at a local receiver. `--clients` keep-alive clients send template messages
//! for `--seconds`; then the figures, the ledger check, and usage entries against accepted
//! messages.

use anyhow::{Context, bail};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use domain::{ChannelStatus, Currency, Micros};
use hub::clock::SystemClock;
use hub::config::Config;
use hub::services::audit::Actor;
use hub::state::AppState;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const MAIN_NUMBERS_PER_CLIENT: usize = 10;
const MAIN_CLIENTS: usize = 10;
const OTHER_PARTNERS: usize = 20;
const OTHER_NUMBERS: usize = 5;
const TEMPLATE: &str = "bench_offer";

struct Number {
    key: String,
    main: bool,
}

async fn seed_partner(
    state: &AppState,
    name: &str,
    clients: usize,
    per_client: usize,
    first_phone: u64,
    receiver: &str,
) -> anyhow::Result<(domain::PartnerId, Vec<String>)> {
    let partner = crate::seed::partner(state, name).await?;
    crate::seed::fill(
        state,
        &partner,
        clients,
        per_client,
        first_phone,
        state.now_ms() - 3_600_000,
        &[ChannelStatus::Running],
    )
    .await?;
    let found = store::partners::get(state.db.pool(), &partner)
        .await?
        .context("the partner just made")?;
    hub::services::billing::enable(state, &partner, &Actor::System)
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    hub::services::billing::adjust(
        state,
        &partner,
        &store::billing::Holder::Partner,
        Micros::parse_major("1000000").map_err(|e| anyhow::anyhow!("{e}"))?,
        "bench prepayment",
        &Actor::System,
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    let mut keys = Vec::new();
    let mut wabas_with_template = std::collections::HashSet::new();
    let mut conn = state.db.pool().acquire().await?;
    let channels: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM channels WHERE partner_id = $1 ORDER BY created_ms")
            .bind(partner.as_str())
            .fetch_all(&mut *conn)
            .await?;
    drop(conn);
    for (id,) in channels {
        let channel =
            domain::ChannelId::parse(&id).map_err(|_| anyhow::anyhow!("channel id {id}"))?;
        let key =
            hub::services::api_keys::create_channel_key(state, &found, &channel, &Actor::System)
                .await
                .map_err(|e| anyhow::anyhow!(e.public_message()))?
                .secret;
        let sender = hub::services::messaging::authenticate(state, Some(&key))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if wabas_with_template.insert(sender.channel.waba_id.clone()) {
            let body = serde_json::json!({"name": TEMPLATE, "category": "MARKETING", "language": "en",
                "components": [{"type": "BODY", "text": "Our offer for you, {{1}}"}]});
            let template = hub::services::messaging::templates::submit(state, &sender, &body)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            hub::services::messaging::templates::review(state, &partner, &template.id)
                .await
                .map_err(|e| anyhow::anyhow!(e.public_message()))?;
        }
        hub::services::messaging::webhook::set(
            state,
            &sender,
            &serde_json::json!({"url": receiver, "headers": {}}),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        keys.push(key);
    }
    Ok((partner, keys))
}

pub async fn run(database_url: Option<String>, seconds: u64, clients: usize) -> anyhow::Result<()> {
    // The status webhooks' receiver.
    let deliveries = Arc::new(AtomicU64::new(0));
    let counted = deliveries.clone();
    let receiver_app = Router::new().route(
        "/hook",
        post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                StatusCode::OK
            }
        }),
    );
    let receiver_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = format!("http://{}/hook", receiver_listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(receiver_listener, receiver_app).await;
    });

    let temp = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let database_url = database_url.unwrap_or_else(|| store::Db::sqlite_url(temp.path()));
    let mut config = Config::local(addr, temp.path().to_path_buf(), database_url)?;
    // The receiver is plain http on this machine.
    config.dev = true;
    let backend = if config.database_url.expose().starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let state = hub::build_state(config, Arc::new(SystemClock)).await?;
    let effective =
        domain::calendar::day_start_ms(domain::pricing::SHIPPED_USD_CARD_EFFECTIVE_FROM)
            .context("the shipped card's date")?;
    hub::services::billing::derive_card(&state, Currency::Eur, 920_000, effective)
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    let started = Instant::now();
    let mut numbers = Vec::new();
    let (main, keys) = seed_partner(
        &state,
        "Bench Sender",
        MAIN_CLIENTS,
        MAIN_NUMBERS_PER_CLIENT,
        4_915_200_000_000,
        &receiver,
    )
    .await?;
    numbers.extend(keys.into_iter().map(|key| Number { key, main: true }));
    for p in 0..OTHER_PARTNERS {
        let (_, keys) = seed_partner(
            &state,
            &format!("Bench Other {p}"),
            1,
            OTHER_NUMBERS,
            4_915_300_000_000 + p as u64 * 1_000,
            &receiver,
        )
        .await?;
        numbers.extend(keys.into_iter().map(|key| Number { key, main: false }));
    }
    println!(
        "partnerhub-bench messages on {backend}: {} numbers of the measured partner and {} of {OTHER_PARTNERS} others, seeded in {:.1} s",
        numbers.iter().filter(|n| n.main).count(),
        numbers.iter().filter(|n| !n.main).count(),
        started.elapsed().as_secs_f64()
    );
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(hub::serve(state.clone(), listener, None, shutdown.clone()));

    // Four of five messages from the measured partner's numbers: its balance is the hot row.
    let order: Arc<Vec<usize>> = Arc::new({
        let main: Vec<usize> = (0..numbers.len()).filter(|i| numbers[*i].main).collect();
        let other: Vec<usize> = (0..numbers.len()).filter(|i| !numbers[*i].main).collect();
        (0..1000)
            .map(|i| {
                if i % 5 == 4 {
                    other[i % other.len()]
                } else {
                    main[i % main.len()]
                }
            })
            .collect()
    });
    let keys: Arc<Vec<String>> = Arc::new(numbers.iter().map(|n| n.key.clone()).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let measured = Instant::now();
    let cpu_started = crate::cpu_seconds();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = reqwest::Client::new();
        let (order, keys, next, url) = (
            order.clone(),
            keys.clone(),
            next.clone(),
            format!("{base}/messages"),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let key = &keys[order[n % order.len()]];
                let body = format!(
                    r#"{{"messaging_product":"whatsapp","to":"4915{:09}","type":"template","template":{{"name":"{TEMPLATE}","language":{{"code":"en"}}}}}}"#,
                    100_000_001 + (n % 800_000_000)
                );
                let t = Instant::now();
                match client
                    .post(&url)
                    .header("D360-API-KEY", key)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = measured.elapsed().as_secs_f64();
    let cpu = crate::cpu_seconds() - cpu_started;
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let accepted = latencies.len();
    println!(
        "{clients} clients for {seconds} s: {:>8.0} accepted messages/s   p50 {:>6.2} ms   p99 {:>6.2} ms   CPU {:.2} ms/msg   errors {errors}",
        accepted as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        cpu * 1000.0 / accepted.max(1) as f64,
    );

    // Let the sandbox's reports and the status webhooks catch up a little, then check.
    let settle = Instant::now() + Duration::from_secs(10);
    while Instant::now() < settle && deliveries.load(Ordering::Relaxed) < 2 * accepted as u64 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let problems = hub::services::billing::check_ledger(&state)
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    let usage: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries WHERE kind = 'usage'",
    )
    .fetch_one(state.db.pool())
    .await?;
    shutdown.cancel();
    let _ = server.await;
    println!(
        "check-ledger: {}; usage entries {usage} for {accepted} accepted messages; status webhooks delivered {} (sent + delivered per message, until 10 s after the run)",
        if problems.is_empty() {
            "holds".to_owned()
        } else {
            format!("{} accounts differ", problems.len())
        },
        deliveries.load(Ordering::Relaxed)
    );
    let _ = main;
    if !problems.is_empty() || usage != accepted as i64 {
        bail!("the ledger does not match the accepted messages");
    }
    Ok(())
}
