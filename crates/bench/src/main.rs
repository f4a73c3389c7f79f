//! `partnerhub-bench`: start a Partner Hub on a throw-away database, seed it, drive it over real
//! HTTP with concurrent keep-alive clients and print figures (never assert them).
//!
//! ```text
//! cargo run --release -p bench -- pages [--seconds N] [--clients N] [--database-url URL] [--keep DIR]
//! cargo run --release -p bench -- api   [--seconds N] [--clients N] [--database-url URL] [--keep DIR]
//! cargo run --release -p bench -- webhooks [--events N] [--database-url URL]
//! cargo run --release -p bench -- messages [--seconds N] [--clients N] [--database-url URL]
//! ```
//! With `--database-url postgres://…/db` the database must exist and be empty. `--keep DIR`
//! keeps the data directory (and the SQLite database in it) for the next run with the same
//! options, which then skips seeding.
#![forbid(unsafe_code)]

mod messages;
mod seed;
mod webhooks;

use anyhow::{Context, bail};
use hub::clock::SystemClock;
use hub::config::Config;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

struct Options {
    scenario: String,
    seconds: u64,
    clients: usize,
    database_url: Option<String>,
    events: usize,
    keep: Option<std::path::PathBuf>,
}

const USAGE: &str = "usage: partnerhub-bench pages|api|webhooks|messages [--seconds N] [--clients N] [--events N] [--database-url URL] [--keep DIR]";

fn parse_options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        scenario: String::new(),
        seconds: 10,
        clients: 16,
        database_url: None,
        events: 100_000,
        keep: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => options.seconds = args.next().context("--seconds N")?.parse()?,
            "--clients" => options.clients = args.next().context("--clients N")?.parse()?,
            "--events" => options.events = args.next().context("--events N")?.parse()?,
            "--database-url" => {
                options.database_url = Some(args.next().context("--database-url URL")?)
            }
            "--keep" => options.keep = Some(args.next().context("--keep DIR")?.into()),
            other if options.scenario.is_empty() && !other.starts_with('-') => {
                options.scenario = other.to_owned()
            }
            other => bail!("unknown argument {other:?}; {USAGE}"),
        }
    }
    if !matches!(
        options.scenario.as_str(),
        "pages" | "api" | "webhooks" | "messages"
    ) {
        bail!("unknown scenario {:?}; {USAGE}", options.scenario);
    }
    Ok(options)
}

/// Peak resident memory of this process (server and load generator together), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time this process (server and load generator together) has used so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    stat_cpu_seconds(&stat).map_or(0.0, |(_, seconds)| seconds)
}

/// A process's command name and CPU time in seconds, from its `/proc/<pid>/stat`.
fn stat_cpu_seconds(stat: &str) -> Option<(&str, f64)> {
    let (head, rest) = stat.rsplit_once(')')?;
    let (_, command) = head.split_once('(')?;
    // Fields after the command name: state is the first, utime the 12th and stime the 13th,
    // in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    Some((command, (ticks(11)? + ticks(12)?) / 100.0))
}

/// CPU time every `postgres` process on this machine (server, backends, background workers)
/// has used so far, in seconds: the database's share of a request when PostgreSQL runs here,
/// which this process's own CPU time leaves out. Backends live as long as the Hub's pool keeps
/// their connections, which is the whole of a scenario.
fn postgres_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            stat_cpu_seconds(&stat)
                .filter(|(command, _)| *command == "postgres")
                .map(|(_, seconds)| seconds)
        })
        .sum()
}

/// Start counting peak memory from now (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    if options.scenario == "webhooks" {
        return webhooks::run(options.database_url, options.events).await;
    }
    if options.scenario == "messages" {
        return messages::run(options.database_url, options.seconds, options.clients).await;
    }
    let temp = tempfile::tempdir()?;
    let dir = match &options.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let kept = options.keep.as_deref().and_then(seed::load);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| store::Db::sqlite_url(&dir));
    let config = Config::local(addr, dir.clone(), database_url)?;
    let backend = if config.database_url.expose().starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let state = hub::build_state(config, Arc::new(SystemClock)).await?;
    if kept.is_none() {
        hub::demo::seed(&state, "bench password")
            .await
            .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    }

    let shutdown = CancellationToken::new();
    match options.scenario.as_str() {
        "pages" => {
            let demo = store::partners::by_name(state.db.pool(), "Demo Partner")
                .await?
                .context("no Demo Partner")?;
            let server = tokio::spawn(hub::serve(state, listener, None, shutdown.clone()));
            println!(
                "partnerhub-bench pages on {backend}: {} clients for {} s each",
                options.clients, options.seconds
            );
            let users = format!("{base}/partner/{}/users", demo.id);
            report(
                "GET users page (logged in)",
                drive(&base, &[users], &options, Auth::Login).await?,
            );
            report(
                "GET /login (anonymous)",
                drive(&base, &[format!("{base}/login")], &options, Auth::None).await?,
            );
            report(
                "GET /healthz",
                drive(&base, &[format!("{base}/healthz")], &options, Auth::None).await?,
            );
            shutdown.cancel();
            let _ = server.await;
        }
        _ => {
            let started = Instant::now();
            let seeded = match kept {
                Some(seeded) => seeded,
                None => {
                    let seeded = seed::api_data(&state).await?;
                    if let Some(dir) = &options.keep {
                        seed::save(dir, &seeded)?;
                    }
                    seeded
                }
            };
            println!(
                "partnerhub-bench api on {backend}: seeded {} channels / {} clients for the measured partner and {} more channels in {:.1} s",
                seeded.channels,
                seeded.clients.len(),
                seeded.other_channels,
                started.elapsed().as_secs_f64()
            );
            reset_peak_rss();
            let server = tokio::spawn(hub::serve(state, listener, None, shutdown.clone()));
            println!(
                "{} clients for {} s per scenario\n",
                options.clients, options.seconds
            );
            let pid = &seeded.partner;
            let auth = Auth::ApiKey(seeded.api_key.clone());
            let a = format!("{base}/api/v2/partners/{pid}/channels?limit=100&sort=-created_at");
            report(
                "(a) channels limit=100 -created_at",
                drive(&base, &[a], &options, auth.clone()).await?,
            );
            let b1 = format!(
                "{base}/api/v2/partners/{pid}/channels?limit=100&sort=-created_at&filters=%7B%22status%22%3A%22running%22%7D"
            );
            report(
                "(b) + filters status=running",
                drive(&base, &[b1], &options, auth.clone()).await?,
            );
            let b2: Vec<String> = (0..50)
                .map(|i| {
                    format!(
                        "{base}/api/v2/partners/{pid}/channels?limit=100&q=client%20{}",
                        i * 97
                    )
                })
                .collect();
            report(
                "(b) + q= free text",
                drive(&base, &b2, &options, auth.clone()).await?,
            );
            let c: Vec<String> = seeded
                .clients
                .iter()
                .take(5000)
                .map(|cid| format!("{base}/api/v2/partners/{pid}/clients/{cid}"))
                .collect();
            report(
                "(c) GET client",
                drive(&base, &c, &options, auth.clone()).await?,
            );
            println!(
                "\npeak RSS while serving: {:.0} MiB (server and load generator share the process)",
                peak_rss_mib()
            );
            println!(
                "\n(e) first page against the last by offset and by cursor, -created_at, limit=100"
            );
            let lists = [
                (pid, auth.clone(), seeded.channels),
                (
                    &seeded.small_partner,
                    Auth::ApiKey(seeded.small_api_key.clone()),
                    1_000,
                ),
            ];
            for (partner, auth, rows) in lists {
                deep_pages(&base, partner, auth, rows, &options).await?;
            }
            reset_peak_rss();
            let (seconds, rows, bytes) = export_csv(&base, pid).await?;
            println!(
                "(d) CSV export of all channels: {rows} rows, {:.1} MB in {seconds:.2} s; peak RSS during the export {:.0} MiB",
                bytes as f64 / 1e6,
                peak_rss_mib()
            );
            shutdown.cancel();
            let _ = server.await;
        }
    }
    Ok(())
}

/// The first page of a partner's `rows` channels, then the last page by `offset` and by
/// `cursor` (the `next_cursor` of the page before it), each driven like the other scenarios.
async fn deep_pages(
    base: &str,
    partner: &domain::PartnerId,
    auth: Auth,
    rows: usize,
    options: &Options,
) -> anyhow::Result<()> {
    let list = format!("{base}/api/v2/partners/{partner}/channels?limit=100&sort=-created_at");
    let Auth::ApiKey(key) = &auth else {
        bail!("deep pages need an API key");
    };
    let before_last: serde_json::Value = reqwest::Client::new()
        .get(format!("{list}&offset={}", rows.saturating_sub(200)))
        .header("x-api-key", key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let cursor = before_last["next_cursor"]
        .as_str()
        .context("the page before the last has no next_cursor")?;
    let by_cursor = format!("{list}&cursor={cursor}");
    let last: serde_json::Value = reqwest::Client::new()
        .get(&by_cursor)
        .header("x-api-key", key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if last["count"] != 100 || !last["next_cursor"].is_null() {
        bail!(
            "the last page by cursor is not the last 100 rows: {}",
            last["count"]
        );
    }
    let rows_label = if rows >= 100_000 { "100,000" } else { "1,000" };
    let first = report(
        &format!("{rows_label} rows: first page"),
        drive(base, std::slice::from_ref(&list), options, auth.clone()).await?,
    );
    let offset = report(
        &format!("{rows_label} rows: last page by offset"),
        drive(
            base,
            &[format!("{list}&offset={}", rows.saturating_sub(100))],
            options,
            auth.clone(),
        )
        .await?,
    );
    let cursor = report(
        &format!("{rows_label} rows: last page by cursor"),
        drive(base, &[by_cursor], options, auth).await?,
    );
    println!(
        "{:<36} p50 by offset {:.1}×, by cursor {:.2}× the first page's",
        "",
        offset / first.max(f64::EPSILON),
        cursor / first.max(f64::EPSILON)
    );
    Ok(())
}

/// Log in as the bench partner's Owner and download the whole CSV export once, reading it as a
/// stream (a browser would write it to disk).
async fn export_csv(
    base: &str,
    partner: &domain::PartnerId,
) -> anyhow::Result<(f64, usize, usize)> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", "owner@bench.test"),
            ("password", "bench password"),
        ])
        .send()
        .await?;
    if res.status() != 303 {
        bail!("bench login failed with {}", res.status());
    }
    let started = Instant::now();
    let mut res = client
        .get(format!("{base}/partner/{partner}/accounts/export.csv"))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("export failed with {}", res.status());
    }
    let (mut bytes, mut lines) = (0, 0);
    while let Some(chunk) = res.chunk().await? {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    Ok((
        started.elapsed().as_secs_f64(),
        lines.saturating_sub(1),
        bytes,
    ))
}

#[derive(Clone)]
enum Auth {
    None,
    Login,
    ApiKey(String),
}

struct Figures {
    requests: usize,
    cpu_seconds: f64,
    /// With `--database-url`: the local PostgreSQL processes' CPU time.
    database_cpu_seconds: Option<f64>,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// `clients` keep-alive connections request `urls` round-robin until the time is up.
/// Each URL of a scenario once, one after the other, before the clock starts: the server's
/// statement caches, pools and planning statistics are then as warm as in a running Hub, and
/// the figures measure the steady state (the first requests of a scenario are not in them).
async fn warm_up(base: &str, urls: &[String], auth: &Auth) -> anyhow::Result<()> {
    let client = match auth {
        Auth::None => reqwest::Client::new(),
        Auth::ApiKey(key) => {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-api-key", key.parse()?);
            reqwest::Client::builder()
                .default_headers(headers)
                .build()?
        }
        Auth::Login => {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()?;
            client
                .post(format!("{base}/login"))
                .form(&[("email", "owner@demo.test"), ("password", "bench password")])
                .send()
                .await?;
            client
        }
    };
    for url in urls {
        client.get(url).send().await?.bytes().await?;
    }
    Ok(())
}

async fn drive(
    base: &str,
    urls: &[String],
    options: &Options,
    auth: Auth,
) -> anyhow::Result<Figures> {
    warm_up(base, urls, &auth).await?;
    let mut tasks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let database_cpu_started = postgres_cpu_seconds();
    let urls = Arc::new(urls.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..options.clients {
        let mut builder = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none());
        if let Auth::ApiKey(key) = &auth {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-api-key", key.parse()?);
            builder = builder.default_headers(headers);
        }
        let client = builder.build()?;
        if let Auth::Login = auth {
            let res = client
                .post(format!("{base}/login"))
                .form(&[("email", "owner@demo.test"), ("password", "bench password")])
                .send()
                .await?;
            if res.status() != 303 {
                bail!("bench login failed with {}", res.status());
            }
        }
        let (urls, next) = (urls.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let url = &urls[next.fetch_add(1, Ordering::Relaxed) % urls.len()];
                let t = Instant::now();
                match client.get(url).send().await {
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
    let mut figures = Figures {
        requests: 0,
        cpu_seconds: 0.0,
        database_cpu_seconds: None,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for task in tasks {
        let (latencies, errors) = task.await?;
        figures.requests += latencies.len();
        figures.errors += errors;
        figures.latencies.extend(latencies);
    }
    figures.elapsed = started.elapsed();
    figures.cpu_seconds = cpu_seconds() - cpu_started;
    if options.database_url.is_some() {
        figures.database_cpu_seconds = Some(postgres_cpu_seconds() - database_cpu_started);
    }
    Ok(figures)
}

/// Prints a scenario's figures; returns its p50 latency in ms.
fn report(name: &str, mut f: Figures) -> f64 {
    f.latencies.sort();
    let pct = |p: f64| {
        let i = ((f.latencies.len() as f64 * p) as usize).min(f.latencies.len().saturating_sub(1));
        f.latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let per_request = |seconds: f64| seconds * 1000.0 / f.requests.max(1) as f64;
    let database = f
        .database_cpu_seconds
        .map(|s| format!("   + PostgreSQL {:>5.2} ms/req", per_request(s)))
        .unwrap_or_default();
    println!(
        "{name:<36} {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   CPU {:>5.2} ms/req{database}   errors {}",
        f.requests as f64 / f.elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        per_request(f.cpu_seconds),
        f.errors
    );
    pct(0.50)
}
