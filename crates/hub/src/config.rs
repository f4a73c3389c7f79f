//! One `Config`, built once from the command line and `PARTNERHUB_*` variables (`cli` parses
//! them into `ConfigInput`), validated here so nothing later has to second-guess it. Secrets are
//! held in types that never print them.

use domain::{Secret, SecretUrl};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhatsAppProviderKind {
    Sandbox,
    CloudApi,
}

/// Which header the trusted proxies write the client's address into. Only that one is read: a
/// proxy that appends to `X-Forwarded-For` passes a client's own `Forwarded` through untouched,
/// and the other way round.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

/// What the operator asked for, before validation: the command line's values, by meaning.
#[derive(Clone, Debug)]
pub struct ConfigInput {
    pub bind: SocketAddr,
    pub admin_bind: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub dev: bool,
    pub data_dir: PathBuf,
    pub database_url: Option<SecretUrl>,
    pub smtp_url: Option<SecretUrl>,
    pub mail_from: String,
    pub log_format: LogFormat,
    pub migrate: bool,
    pub whatsapp_provider: WhatsAppProviderKind,
    pub sandbox_delay_ms: u64,
    pub graph_api_url: String,
    pub graph_api_token: Option<Secret>,
    pub graph_business_id: Option<String>,
    pub webhook_allow_cidrs: String,
    pub webhook_timeout_ms: u64,
    pub trusted_proxies: String,
    pub trusted_proxy_header: ForwardedHeader,
}

/// How partner webhooks are delivered.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WebhookConfig {
    /// Private or reserved addresses that deliveries may reach anyway (operators, tests).
    #[serde(serialize_with = "display")]
    pub allow: domain::ip_policy::AllowList,
    pub timeout_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow: domain::ip_policy::AllowList::default(),
            timeout_ms: 10_000,
        }
    }
}

fn display<T: std::fmt::Display, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Which WhatsApp provider, and how it is reached.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WhatsAppConfig {
    pub provider: WhatsAppProviderKind,
    pub sandbox_delay_ms: i64,
    pub graph_api_url: String,
    pub graph_api_token: Option<Secret>,
    pub graph_business_id: Option<String>,
}

impl Default for WhatsAppConfig {
    fn default() -> Self {
        Self {
            provider: WhatsAppProviderKind::Sandbox,
            sandbox_delay_ms: 3000,
            graph_api_url: "https://graph.facebook.com/v21.0".into(),
            graph_api_token: None,
            graph_business_id: None,
        }
    }
}

/// How many connections the public listener holds, and how soon a request's headers must
/// arrive (see `http::server`).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct ConnectionLimits {
    pub header_read_timeout_ms: u64,
    pub max_per_address: usize,
    pub max_total: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            // Far above a browser's six per host, enough for an office behind one address.
            max_per_address: 256,
            max_total: 10_000,
        }
    }
}

impl ConnectionLimits {
    /// Fit the total under the process's open-files limit, leaving room for the database,
    /// outgoing webhooks and mail.
    pub fn within_open_files(mut self, open_files: u64) -> Self {
        let room = usize::try_from(open_files.saturating_sub(256)).unwrap_or(usize::MAX);
        self.max_total = self.max_total.min(room.max(64));
        self
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Config {
    pub bind: SocketAddr,
    pub admin_bind: Option<SocketAddr>,
    pub public_url: Url,
    pub dev: bool,
    pub data_dir: PathBuf,
    pub database_url: SecretUrl,
    pub smtp_url: Option<SecretUrl>,
    pub mail_from: String,
    pub log_format: LogFormat,
    pub migrate: bool,
    pub whatsapp: WhatsAppConfig,
    pub webhooks: WebhookConfig,
    /// How long a partner user's session lasts, in milliseconds.
    pub session_ttl_ms: i64,
    /// How long a staff session lasts (shorter: staff hold more power).
    pub staff_session_ttl_ms: i64,
    pub connections: ConnectionLimits,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` say who the client is; from any
    /// other peer those headers are ignored.
    #[serde(serialize_with = "display")]
    pub trusted_proxies: domain::ip_policy::AllowList,
    pub trusted_proxy_header: ForwardedHeader,
}

/// A start-up problem, phrased as the one line the operator will read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--public-url {0:?} is not an absolute http(s) URL")]
    PublicUrl(String),
    #[error("--smtp-url must look like smtp://user:password@host:587 or smtps://host:465")]
    SmtpUrl,
    #[error("--mail-from {0:?} is not a mail address like \"Partner Hub <no-reply@example.com>\"")]
    MailFrom(String),
    #[error("--database-url: {0}")]
    DatabaseUrl(String),
    #[error("--whatsapp-provider cloud_api needs --graph-api-token and --graph-business-id")]
    CloudApi,
    #[error("--sandbox-delay-ms must be at most 600000")]
    SandboxDelay,
    #[error("--webhook-allow-cidrs: {0}")]
    WebhookAllow(String),
    #[error("--webhook-timeout-ms must be between 100 and 60000")]
    WebhookTimeout,
    #[error("--trusted-proxy: {0}")]
    TrustedProxy(String),
    #[error("data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const USER_SESSION_TTL_MS: i64 = 14 * DAY_MS;
/// Staff hold more power, so their sessions are shorter.
const STAFF_SESSION_TTL_MS: i64 = DAY_MS / 2;
pub const DEFAULT_MAIL_FROM: &str = "Partner Hub <no-reply@partnerhub.local>";

impl Config {
    pub fn new(args: ConfigInput) -> Result<Self, ConfigError> {
        let public_url = match &args.public_url {
            Some(raw) => parse_public_url(raw)?,
            None => parse_public_url(&format!("http://{}", args.bind))?,
        };
        if let Some(smtp) = &args.smtp_url {
            let ok = Url::parse(smtp.expose())
                .ok()
                .is_some_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some());
            if !ok {
                return Err(ConfigError::SmtpUrl);
            }
        }
        if args.whatsapp_provider == WhatsAppProviderKind::CloudApi
            && (args.graph_api_token.is_none() || args.graph_business_id.is_none())
        {
            return Err(ConfigError::CloudApi);
        }
        if args.sandbox_delay_ms > 600_000 {
            return Err(ConfigError::SandboxDelay);
        }
        let allow = domain::ip_policy::AllowList::parse_list(&args.webhook_allow_cidrs)
            .map_err(|e| ConfigError::WebhookAllow(e.message))?;
        if !(100..=60_000).contains(&args.webhook_timeout_ms) {
            return Err(ConfigError::WebhookTimeout);
        }
        let trusted_proxies = domain::ip_policy::AllowList::parse_list(&args.trusted_proxies)
            .map_err(|e| ConfigError::TrustedProxy(e.message))?;
        if args.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::MailFrom(args.mail_from));
        }
        Ok(Config {
            bind: args.bind,
            admin_bind: args.admin_bind,
            public_url,
            dev: args.dev,
            database_url: database_url(&args.data_dir, args.database_url.as_ref())?,
            data_dir: args.data_dir.clone(),
            smtp_url: args.smtp_url,
            mail_from: args.mail_from,
            log_format: args.log_format,
            migrate: args.migrate,
            whatsapp: WhatsAppConfig {
                provider: args.whatsapp_provider,
                sandbox_delay_ms: i64::try_from(args.sandbox_delay_ms).unwrap_or(3000),
                graph_api_url: args.graph_api_url,
                graph_api_token: args.graph_api_token,
                graph_business_id: args.graph_business_id,
            },
            webhooks: WebhookConfig {
                allow,
                timeout_ms: args.webhook_timeout_ms,
            },
            session_ttl_ms: USER_SESSION_TTL_MS,
            staff_session_ttl_ms: STAFF_SESSION_TTL_MS,
            connections: ConnectionLimits::default(),
            trusted_proxies,
            trusted_proxy_header: args.trusted_proxy_header,
        })
    }

    /// A configuration with the command line's defaults, for embedding the Hub (tests, benches).
    pub fn local(
        bind: SocketAddr,
        data_dir: PathBuf,
        database_url: String,
    ) -> Result<Self, ConfigError> {
        let database_url = SecretUrl::new(database_url);
        Ok(Config {
            bind,
            admin_bind: None,
            public_url: parse_public_url(&format!("http://{bind}"))?,
            dev: false,
            data_dir,
            database_url,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            log_format: LogFormat::Pretty,
            migrate: true,
            whatsapp: WhatsAppConfig::default(),
            webhooks: WebhookConfig::default(),
            session_ttl_ms: USER_SESSION_TTL_MS,
            staff_session_ttl_ms: STAFF_SESSION_TTL_MS,
            connections: ConnectionLimits::default(),
            trusted_proxies: domain::ip_policy::AllowList::default(),
            trusted_proxy_header: ForwardedHeader::default(),
        })
    }

    /// Cookies get `Secure` and the `__Host-` prefix when people reach us over https.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// An absolute link to `path` (which starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    match Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        _ => Err(ConfigError::PublicUrl(raw.to_owned())),
    }
}

/// The database URL to use: the one given, or the SQLite file in the data directory (which is
/// created and checked for writing here, so a bad directory fails at start with its reason).
pub fn database_url(dir: &Path, given: Option<&SecretUrl>) -> Result<SecretUrl, ConfigError> {
    if let Some(url) = given {
        store::Db::backend_of(url.expose()).map_err(|e| ConfigError::DatabaseUrl(e.to_string()))?;
        return Ok(url.clone());
    }
    let fail = |reason: String| ConfigError::DataDir {
        path: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create it ({e})")))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("is not writable ({e})")))?;
    let _ = std::fs::remove_file(probe);
    Ok(SecretUrl::new(store::Db::sqlite_url(dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_config_shows_no_secret() {
        let mut config = Config::local(
            "127.0.0.1:8082".parse().unwrap(),
            PathBuf::from("/tmp/x"),
            "postgres://app:db-hunter2@db:5432/hub?sslmode=disable".into(),
        )
        .unwrap();
        config.smtp_url = Some(SecretUrl::new("smtps://mailer:smtp-hunter2@mail:465"));
        config.whatsapp.graph_api_token = Some(Secret::new("EAAG-graph-hunter2"));
        let shown = format!("{config:?} {config:#?}");
        for secret in ["db-hunter2", "smtp-hunter2", "EAAG-graph-hunter2"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // The operator still sees which servers are meant.
        assert!(
            shown.contains("db:5432/hub") && shown.contains("mail:465"),
            "{shown}"
        );
        let printed = serde_json::to_string(&config).unwrap();
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
