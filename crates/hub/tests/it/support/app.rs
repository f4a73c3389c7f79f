//! `TestApp`: a real Partner Hub on an ephemeral port, on a fresh database (a temporary SQLite
//! file, or a new PostgreSQL database), with a manual clock and helpers to create partners and
//! users. `for_each_backend` runs a test body on SQLite and, when configured, on PostgreSQL.

use super::harness::CatchUnwind;
use super::postgres::{self, TestDatabase};
use hub::clock::{Clock, ManualClock};
use hub::config::Config;
use hub::state::AppState;
use reqwest::redirect::Policy;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use domain::{PartnerId, Role};

/// 2026-11-25 09:00 UTC: tests start at a fixed, known time.
pub const T0_MS: i64 = 1_795_597_200_000;
pub const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Default)]
pub struct Options {
    pub smtp_url: Option<String>,
    pub dev: bool,
    /// The public URL people use (e.g. https behind a proxy); defaults to the server's own.
    pub public_url: Option<String>,
    /// How long webhook deliveries wait for an answer (the app's default is 10 s).
    pub webhook_timeout_ms: Option<u64>,
    /// A fixed listen address (e.g. `127.0.0.1:8082`, where the connect button's `local`
    /// environment looks); an ephemeral port otherwise.
    pub bind: Option<SocketAddr>,
    /// SQLite only: a size limit the test can move (see `store::PageLimit`).
    pub page_limit: Option<store::PageLimit>,
    /// The listener's connection limits (the app's defaults otherwise).
    pub connections: Option<hub::config::ConnectionLimits>,
    /// Reverse proxies whose forwarding headers are believed (none otherwise).
    pub trusted_proxies: Option<&'static str>,
}

pub struct TestApp {
    pub state: AppState,
    pub url: String,
    pub clock: ManualClock,
    pub backend: Backend,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<()>,
    /// The SQLite file's directory. `for_each_backend` holds it itself: a test body that uses
    /// only `app.state` captures only that field, and would otherwise drop the directory (and
    /// the database file) while the test still runs.
    dir: Option<tempfile::TempDir>,
    pg: Option<TestDatabase>,
}

/// Run `body` against a fresh app on every backend this machine offers: SQLite always,
/// PostgreSQL when `PARTNERHUB_TEST_POSTGRES_URL` is set (scripts/test always sets it).
pub async fn for_each_backend<F, Fut>(body: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for_each_backend_with(Options::default, body).await;
}

pub async fn for_each_backend_with<O, F, Fut>(options: O, body: F)
where
    O: Fn() -> Options,
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut backends = vec![Backend::Sqlite];
    if postgres::test_postgres_url().is_some() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        let mut app = TestApp::start(backend, options()).await;
        let pg = app.pg.take();
        let _dir = app.dir.take();
        let shutdown = app.shutdown.clone();
        let outcome = CatchUnwind::new(body(app)).await;
        shutdown.cancel();
        if let Err(panic) = outcome {
            // Which backend failed, in words, next to the panic message above it.
            eprintln!("\n=== this test failed on {} ===\n", backend.name());
            // The drop guard removes a PostgreSQL database as the panic unwinds.
            drop(pg);
            std::panic::resume_unwind(panic);
        }
        if let Some(pg) = pg {
            pg.remove().await;
        }
    }
}

impl TestApp {
    pub async fn start(backend: Backend, options: Options) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let admin = postgres::test_postgres_url().expect("PARTNERHUB_TEST_POSTGRES_URL");
                Some(postgres::create(&admin).await)
            }
        };
        let database_url = match &pg {
            Some(db) => db.url.clone(),
            None => store::Db::sqlite_url(dir.path()),
        };
        let listener = match options.bind {
            Some(addr) => tokio::net::TcpListener::bind(addr).await.unwrap_or_else(|err| {
                panic!("cannot listen on {addr} ({err}): something else holds it; stop it and run the test again")
            }),
            None => tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        };
        let addr = listener.local_addr().expect("addr");
        let url = format!("http://{addr}");
        let mut config =
            Config::local(addr, dir.path().to_path_buf(), database_url).expect("config");
        if let Some(public) = &options.public_url {
            config.public_url = public.parse().expect("public url");
        }
        config.dev = options.dev;
        config.whatsapp.sandbox_delay_ms = 0;
        config.smtp_url = options.smtp_url.map(domain::SecretUrl::new);
        if let Some(ms) = options.webhook_timeout_ms {
            config.webhooks.timeout_ms = ms;
        }
        if let Some(limits) = options.connections {
            config.connections = limits;
        }
        if let Some(cidrs) = options.trusted_proxies {
            config.trusted_proxies =
                domain::ip_policy::AllowList::parse_list(cidrs).expect("trusted proxies");
        }
        let clock = ManualClock::starting_at(T0_MS);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let state = match options.page_limit {
            Some(limit) => {
                let db = store::Db::connect_with(config.database_url.expose(), limit)
                    .await
                    .expect("database");
                db.migrate().await.expect("migrations");
                hub::build_state_on(db, config, shared).await
            }
            None => hub::build_state(config, shared).await,
        }
        .expect("app state");
        let shutdown = CancellationToken::new();
        let router = hub::http::router(state.clone());
        let token = shutdown.clone();
        let limits = state.config.connections;
        let trusted = state.config.trusted_proxies.clone();
        let server = tokio::spawn(async move {
            let _ = hub::http::server::serve(listener, router, limits, trusted, token).await;
        });
        TestApp {
            state,
            url,
            clock,
            backend,
            shutdown,
            server,
            dir: Some(dir),
            pg,
        }
    }

    /// Stop the server (and drop its PostgreSQL database when this app owns it).
    pub async fn finish(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
        self.state.db.close().await;
        if let Some(pg) = self.pg {
            pg.remove().await;
        }
    }

    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client")
    }

    /// A browser-like client whose connections come from another loopback address (Linux
    /// routes all of 127.0.0.0/8 to the loopback), so the Hub sees a different person.
    pub fn client_from(&self, address: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .local_address(address.parse::<std::net::IpAddr>().expect("an IP address"))
            .build()
            .expect("client")
    }

    pub async fn run_due_jobs(&self) -> usize {
        hub::jobs::run_due(&self.state).await.expect("jobs")
    }

    /// Deliver every due partner webhook event now (the app runs no dispatcher in tests).
    /// Returns how many attempts were made.
    pub async fn run_due_webhooks(&self) -> usize {
        hub::jobs::webhook_dispatch::run_due(&self.state)
            .await
            .expect("webhook dispatch")
    }

    /// Move the manual clock forward to the wall clock (for checks, such as Standard Webhooks'
    /// timestamp tolerance, that compare with the real time). Never moves it back.
    pub fn catch_up_with_wall_clock(&self) {
        let wall = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_millis(),
        )
        .expect("millis");
        let behind = wall - self.clock.now_ms();
        if behind > 0 {
            self.clock.advance_ms(behind);
        }
    }

    /// A bearer token of a user (with `PASSWORD`) from `POST /api/v2/token`.
    pub async fn bearer(&self, email: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.link("/api/v2/token"))
            .json(&serde_json::json!({"username": email, "password": PASSWORD}))
            .send()
            .await
            .expect("token");
        assert_eq!(res.status(), 200, "token for {email}");
        let body: serde_json::Value = res.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// A client for the Partner API authenticated with `Authorization: Bearer`.
    pub fn api_bearer(&self, token: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("client")
    }

    /// A Partner-Payment partner with nothing else (see `partner_named` for more).
    pub async fn partner(&self, name: &str) -> PartnerId {
        self.partner_named(name).build().await.id
    }

    /// A user with `PASSWORD`, member of the given partners.
    pub async fn user(&self, email: &str, name: &str, memberships: &[(&PartnerId, Role)]) {
        let email = domain::Email::parse(email).expect("email");
        let hash = hub::passwords::hash(PASSWORD).await.expect("hash");
        let now = self.clock.now_ms();
        let mut tx = self.state.db.begin_write().await.expect("write");
        let user = store::users::ensure(&mut tx, &email, name, now)
            .await
            .expect("user");
        store::users::set_password(&mut *tx, &user.id, &hash)
            .await
            .expect("password");
        for (partner, role) in memberships {
            store::partners::add_member(&mut *tx, partner, &user.id, *role, now)
                .await
                .expect("member");
        }
        tx.commit().await.expect("commit");
    }

    pub async fn staff(&self, email: &str) {
        let hash = hub::passwords::hash(PASSWORD).await.expect("hash");
        let mut tx = self.state.db.begin_write().await.expect("write");
        store::staff::upsert(
            &mut *tx,
            &domain::Email::parse(email).expect("email"),
            "Sam Staff",
            &hash,
            self.clock.now_ms(),
        )
        .await
        .expect("staff");
        tx.commit().await.expect("commit");
    }

    /// A client logged in as `email` (with `PASSWORD`).
    pub async fn login(&self, email: &str) -> reqwest::Client {
        let client = self.client();
        let res = client
            .post(self.link("/login"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("login");
        assert_eq!(
            res.status(),
            303,
            "login of {email} failed: {}",
            res.text().await.unwrap_or_default()
        );
        client
    }

    pub async fn staff_login(&self, email: &str) -> reqwest::Client {
        let client = self.client();
        let res = client
            .post(self.link("/staff/login"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .expect("staff login");
        assert_eq!(res.status(), 303, "staff login failed");
        client
    }

    /// A partner API key (as an Owner would create in the Hub).
    pub async fn api_key(&self, partner: &PartnerId) -> String {
        hub::services::api_keys::create_partner_key(
            &self.state,
            partner,
            "tests",
            &hub::services::audit::Actor::System,
        )
        .await
        .expect("api key")
        .secret
    }

    /// A client for the Partner API authenticated with `X-API-Key`.
    pub fn api(&self, key: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-api-key", key.parse().expect("header"));
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("client")
    }

    /// The newest mail in the outbox to `to`: (subject, body).
    pub async fn last_mail_to(&self, to: &str) -> Option<(String, String)> {
        store::mail::recent(self.state.db.pool(), 100, 0)
            .await
            .expect("outbox")
            .into_iter()
            .find(|m| m.to_addr == to)
            .map(|m| (m.subject, m.body_text))
    }
}

/// The first `http…` link in a text that contains `path_part`.
pub fn find_link(text: &str, path_part: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.starts_with("http") && w.contains(path_part))
        .map(str::to_owned)
}

/// The path of an absolute URL on the test server.
pub fn path_of(url: &str) -> String {
    let parsed: url::Url = url.parse().expect("url");
    match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    }
}
