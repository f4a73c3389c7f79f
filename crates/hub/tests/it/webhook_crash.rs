//! At-least-once across a crash: the `partnerhub` process is killed with SIGKILL in the middle
//! of delivering 1,000 events; after a restart on the same data directory every event reaches
//! the receiver with a valid signature. (A process test, so it runs on the embedded SQLite; the
//! outbox code path is the same on PostgreSQL, where leases of a dead instance expire instead.)

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use domain::webhook_signature::{self, WebhookSecret};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const EVENTS: usize = 1000;
const KILL_AFTER: usize = 300;

#[derive(Default)]
struct Seen {
    /// Every delivery as received: (webhook-id, timestamp, signature header, body).
    deliveries: Vec<(String, String, String, Bytes)>,
    ids: HashSet<String>,
    /// The Hub to kill once `KILL_AFTER` deliveries arrived (set while the first run lives).
    victim: Option<u32>,
}

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Seen>>,
    /// Deliveries wait until this turns true, so all events are queued before any completes.
    open: watch::Receiver<bool>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut open = r.open.clone();
    let _ = open.wait_for(|o| *o).await;
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let kill = {
        let mut seen = r.seen.lock().unwrap();
        seen.ids.insert(h("webhook-id"));
        seen.deliveries.push((
            h("webhook-id"),
            h("webhook-timestamp"),
            h("webhook-signature"),
            body,
        ));
        if seen.ids.len() >= KILL_AFTER {
            seen.victim.take()
        } else {
            None
        }
    };
    if let Some(pid) = kill {
        // Mid-delivery: hundreds of attempts are in flight and none of these 2xx is recorded yet.
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    StatusCode::OK
}

fn start_hub(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerhub"))
        .args([
            "serve",
            "--dev",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .env("PARTNERHUB_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("the Hub prints its URL").unwrap();
        if let Some(rest) = line.strip_prefix("Partner Hub is listening on ") {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

async fn wait_ready(url: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{url}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the Hub at {url} did not get ready");
}

#[tokio::test]
async fn every_event_is_delivered_after_a_sigkill_mid_delivery() {
    hub::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();

    // A partner with an API key, written to the Hub's own SQLite file before it starts.
    let config = hub::config::Config::local(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().to_path_buf(),
        store::Db::sqlite_url(dir.path()),
    )
    .unwrap();
    let state = hub::build_state(config, Arc::new(hub::clock::SystemClock))
        .await
        .unwrap();
    let partner = domain::PartnerId::generate();
    store::partners::create(
        state.db.pool(),
        &store::partners::NewPartner {
            id: &partner,
            name: "Crash Partner",
            currency: domain::Currency::Eur,
            payment_model: domain::PaymentModel::PartnerPayment,
        },
        state.now_ms(),
    )
    .await
    .unwrap();
    let key = hub::services::api_keys::create_partner_key(
        &state,
        &partner,
        "crash test",
        &hub::services::audit::Actor::System,
    )
    .await
    .unwrap()
    .secret;
    state.db.close().await;

    let (open_tx, open_rx) = watch::channel(false);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let receiver = Receiver {
        seen: seen.clone(),
        open: open_rx,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (mut first, url) = start_hub(dir.path());
    seen.lock().unwrap().victim = Some(first.id());
    wait_ready(&url).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-api-key", key.parse().unwrap());
    let api = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let base = format!("{url}/api/v2/partners/{partner}");
    let res = api
        .post(format!("{base}/webhook_url"))
        .json(&json!({ "webhook_url": hook }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let secret: Value = api
        .get(format!("{base}/webhook_secret"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = WebhookSecret::parse(secret["secret"].as_str().unwrap()).unwrap();

    // 1,000 changes, each writing its `client_created` event in the same transaction.
    for i in 0..EVENTS {
        let res = api
            .post(format!("{base}/clients"))
            .json(&json!({ "name": format!("Client {i:04}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    open_tx.send(true).unwrap();

    let status = tokio::task::spawn_blocking(move || first.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success(), "the first Hub was killed, not stopped");
    let before_restart = seen.lock().unwrap().ids.len();
    assert!(
        (KILL_AFTER..EVENTS).contains(&before_restart),
        "killed mid-delivery: {before_restart} of {EVENTS} had arrived"
    );

    let (mut second, url) = start_hub(dir.path());
    wait_ready(&url).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while seen.lock().unwrap().ids.len() < EVENTS {
        assert!(
            Instant::now() < deadline,
            "only {} of {EVENTS} events arrived after the restart",
            seen.lock().unwrap().ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let deliveries = seen.lock().unwrap().deliveries.clone();
    let mut names = HashSet::new();
    for (id, ts, signature, body) in &deliveries {
        let ts: i64 = ts.parse().unwrap();
        webhook_signature::verify(&secret, id, ts, body, signature, ts, 300)
            .unwrap_or_else(|e| panic!("delivery {id} has a bad signature: {e}"));
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["id"], id.as_str(), "webhook-id is the event id");
        assert_eq!(event["event"], "client_created");
        names.insert(event["data"]["name"].as_str().unwrap().to_owned());
    }
    assert_eq!(names.len(), EVENTS, "every client's event arrived");

    // The restarted Hub knows they were delivered: nothing is left pending.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending: Value = reqwest::Client::new()
            .get(format!(
                "{url}/api/v2/partners/{partner}/events?limit=1&filters=%7B%22state%22%3A%22pending%22%7D"
            ))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if pending["total"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "still pending: {pending}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = second.kill();
    let _ = second.wait();
}
