//! `partnerhub-bench`: start a Partner Hub on a throw-away database, seed it, drive it over real
//! HTTP with concurrent keep-alive clients and print figures (never assert them).
//!
//! `cargo run --release -p bench -- pages [--seconds N] [--clients N] [--database-url URL]`
#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use hub::clock::SystemClock;
use hub::config::Config;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

struct Options {
    scenario: String,
    seconds: u64,
    clients: usize,
    database_url: Option<String>,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        scenario: String::new(),
        seconds: 10,
        clients: 16,
        database_url: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => options.seconds = args.next().context("--seconds N")?.parse()?,
            "--clients" => options.clients = args.next().context("--clients N")?.parse()?,
            "--database-url" => {
                options.database_url = Some(args.next().context("--database-url URL")?)
            }
            other if options.scenario.is_empty() && !other.starts_with('-') => {
                options.scenario = other.to_owned()
            }
            other => bail!(
                "unknown argument {other:?}; usage: partnerhub-bench pages [--seconds N] [--clients N] [--database-url URL]"
            ),
        }
    }
    if options.scenario != "pages" {
        bail!("unknown scenario {:?}; available: pages", options.scenario);
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let database_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| store::Db::sqlite_url(dir.path()));
    let config = Config::local(addr, dir.path().to_path_buf(), database_url)?;
    let backend = if config.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let state = hub::build_state(config, Arc::new(SystemClock)).await?;
    let seed = hub::services::demo::seed(&state, "bench password")
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(hub::serve(state, listener, None, shutdown.clone()));

    println!(
        "partnerhub-bench pages on {backend}: {} clients for {} s each",
        options.clients, options.seconds
    );
    let dashboard = format!("{base}/partner/{}/users", seed.demo_partner);
    report(
        "GET users page (logged in)",
        drive(&base, &dashboard, &options, true).await?,
    );
    report(
        "GET /login (anonymous)",
        drive(&base, &format!("{base}/login"), &options, false).await?,
    );
    report(
        "GET /healthz",
        drive(&base, &format!("{base}/healthz"), &options, false).await?,
    );

    shutdown.cancel();
    let _ = server.await;
    Ok(())
}

struct Figures {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

async fn drive(
    base: &str,
    url: &str,
    options: &Options,
    logged_in: bool,
) -> anyhow::Result<Figures> {
    let mut tasks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    for _ in 0..options.clients {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        if logged_in {
            let res = client
                .post(format!("{base}/login"))
                .form(&[("email", "owner@demo.test"), ("password", "bench password")])
                .send()
                .await?;
            if res.status() != 303 {
                bail!("bench login failed with {}", res.status());
            }
        }
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&url).send().await {
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
    Ok(figures)
}

fn report(name: &str, mut f: Figures) {
    f.latencies.sort();
    let pct = |p: f64| {
        let i = ((f.latencies.len() as f64 * p) as usize).min(f.latencies.len().saturating_sub(1));
        f.latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{name:<32} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   errors {}",
        f.requests as f64 / f.elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        f.errors
    );
}
