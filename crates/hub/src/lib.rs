//! Partner Hub as a library: build the application state from a `Config`, then serve it. The
//! binary (`main.rs`) only parses the command line and calls in here; tests do the same.
#![forbid(unsafe_code)]

pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod jobs;
pub mod passwords;
pub mod providers;
pub mod services;
pub mod state;
pub mod wire;

use crate::clock::Clock;
use crate::config::{Config, WhatsAppProviderKind};
use crate::providers::mail::{Mailer, SmtpMailer};
use crate::providers::whatsapp::WhatsAppProvider;
use crate::providers::whatsapp::cloud_api::{CloudApi, CloudApiConfig};
use crate::providers::whatsapp::sandbox::Sandbox;
use crate::state::AppState;
use std::net::SocketAddr;
use std::sync::Arc;
use store::{Backend, Db};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A start-up failure, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot open the database: {0}")]
    Database(store::StoreError),
    #[error("cannot apply migrations: {0}")]
    Migrate(store::StoreError),
    #[error("{}", schema_behind_message(.0))]
    SchemaBehind(store::SchemaBehind),
    #[error("WhatsApp provider: {0}")]
    WhatsApp(String),
    #[error("webhook client: {0}")]
    Webhooks(String),
    #[error("cannot load the shipped rate card: {0}")]
    RateCard(String),
    #[error("mail: {0}")]
    Mail(#[from] providers::mail::MailError),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

fn schema_behind_message(behind: &store::SchemaBehind) -> String {
    let fix =
        "run `partnerhub migrate` with the same --database-url first (or start with --migrate)";
    match behind.applied {
        None => format!("the database has no Partner Hub schema yet: {fix}"),
        Some(applied) => format!(
            "the database's schema is at migration {applied:04} but this partnerhub needs {:04}: {fix}",
            behind.needed
        ),
    }
}

/// Make ring the process's TLS crypto provider (the workspace compiles no other), before any
/// HTTP client is built. Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Open the database; SQLite is always migrated (it is ours alone), PostgreSQL only when asked,
/// so several instances sharing one server do not race to migrate.
pub async fn open_db(url: &str, migrate: bool) -> Result<Db, StartError> {
    let db = Db::connect(url).await.map_err(StartError::Database)?;
    if migrate || db.backend() == Backend::Sqlite {
        db.migrate().await.map_err(StartError::Migrate)?;
    } else if let Some(behind) = db.schema_behind().await.map_err(StartError::Database)? {
        // Every request would fail (and /readyz would not know): refuse to start instead.
        return Err(StartError::SchemaBehind(behind));
    }
    Ok(db)
}

/// Everything the Hub needs, from its configuration.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    let db = open_db(config.database_url.expose(), config.migrate).await?;
    build_state_on(db, config, clock).await
}

/// `build_state` on a database the caller opened (and migrated), e.g. with test limits.
pub async fn build_state_on(
    db: Db,
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<AppState, StartError> {
    install_crypto_provider();
    let mailer: Option<Arc<dyn Mailer>> = match &config.smtp_url {
        Some(url) => Some(Arc::new(SmtpMailer::new(url.expose(), &config.mail_from)?)),
        None => None,
    };
    let whatsapp = whatsapp_provider(&config)?;
    let webhook_client = providers::webhook_client::WebhookClient::new(&config)
        .map_err(|e| StartError::Webhooks(e.to_string()))?;
    http::ops::prometheus();
    let state = AppState::new(db, config, clock, mailer, whatsapp, webhook_client);
    match services::billing::ensure_shipped_card(&state).await {
        Ok(()) => {}
        // Another instance loaded it at the same moment.
        Err(error::AppError::Conflict(_)) => {}
        Err(e) => return Err(StartError::RateCard(e.to_string())),
    }
    Ok(state)
}

fn whatsapp_provider(config: &Config) -> Result<Arc<dyn WhatsAppProvider>, StartError> {
    let settings = &config.whatsapp;
    Ok(match settings.provider {
        WhatsAppProviderKind::Sandbox => Arc::new(Sandbox {
            show_codes: config.dev,
        }),
        WhatsAppProviderKind::CloudApi => Arc::new(
            CloudApi::new(CloudApiConfig {
                base_url: settings.graph_api_url.clone(),
                access_token: settings
                    .graph_api_token
                    .clone()
                    .unwrap_or_else(|| domain::Secret::new("")),
                business_id: settings.graph_business_id.clone().unwrap_or_default(),
                timeout: std::time::Duration::from_secs(20),
            })
            .map_err(|e| StartError::WhatsApp(e.to_string()))?,
        ),
    })
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })
}

/// Serve web and workers until `shutdown` is cancelled, then stop accepting, finish requests in
/// flight and drain running jobs.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    admin: Option<TcpListener>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let worker = tokio::spawn(jobs::worker(state.clone(), shutdown.clone()));
    let dispatcher = tokio::spawn(jobs::webhook_dispatch::dispatcher(
        state.clone(),
        shutdown.clone(),
    ));
    let admin_task = admin.map(|listener| {
        let app = http::admin_router(state.clone());
        let token = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await
        })
    });
    let limits = state
        .config
        .connections
        .within_open_files(http::server::raise_open_files_limit());
    let app = http::router(state.clone());
    let trusted = state.config.trusted_proxies.clone();
    let served = http::server::serve(listener, app, limits, trusted, shutdown.clone()).await;
    shutdown.cancel();
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    let _ = worker.await;
    let _ = dispatcher.await;
    state.db.close().await;
    served
}
