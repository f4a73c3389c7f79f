//! The command line: every flag can also be set with a `PARTNERHUB_*` environment variable. It
//! only parses; `config` validates what it parsed.

use crate::config::{
    Config, ConfigError, ConfigInput, ForwardedHeader, LogFormat, WhatsAppProviderKind,
};
use clap::{Args, Parser, Subcommand};
use domain::{Secret, SecretUrl};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "partnerhub",
    version,
    about = "Partner Hub: the dashboard and Partner API of a WhatsApp BSP"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Hub (web and background workers).
    Serve(ServeArgs),
    /// Seed demo partners and logins (idempotently), then serve in development mode.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Password for every demo login; random (and printed) when not given.
        #[arg(long, env = "PARTNERHUB_DEMO_PASSWORD")]
        password: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate(StoreArgs),
    /// Print the effective configuration, secrets redacted.
    Config(ServeArgs),
    /// Staff accounts of the BSP.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Partners.
    Partner {
        #[command(subcommand)]
        command: PartnerCommand,
    },
    /// Recompute every balance and hash chain of the ledger; exits non-zero, naming the account,
    /// on any difference.
    CheckLedger(ServeArgs),
    /// Billing of partners (staff).
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// Rate card versions (staff).
    RateCard {
        #[command(subcommand)]
        command: RateCardCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BillingCommand {
    /// Turn billing on for a partner: its numbers stop sending at a zero balance.
    Enable {
        #[command(flatten)]
        serve: ServeArgs,
        #[arg(long)]
        partner: String,
        /// Also mark the partner eligible for authentication-international rates.
        #[arg(long, default_value_t = false)]
        auth_international: bool,
    },
    /// Credit (positive) or debit (negative) a balance, with a reason for the audit log.
    Adjust {
        #[command(flatten)]
        serve: ServeArgs,
        #[arg(long)]
        partner: String,
        /// A Direct-Payment client's balance instead of the partner's.
        #[arg(long)]
        client: Option<String>,
        /// In the partner's currency, e.g. 25.00 or -3.50.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RateCardCommand {
    /// Load a CSV (market,marketing,utility,authentication,authentication_international) as the
    /// next version of its currency.
    Import {
        #[command(flatten)]
        serve: ServeArgs,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        currency: String,
        /// YYYY-MM-DD (UTC).
        #[arg(long)]
        effective_from: String,
    },
    /// Make a card in another currency from the USD card in force, at a conversion rate.
    Derive {
        #[command(flatten)]
        serve: ServeArgs,
        #[arg(long)]
        currency: String,
        /// Units of the new currency per US dollar, e.g. 0.92.
        #[arg(long)]
        fx: String,
        /// YYYY-MM-DD (UTC).
        #[arg(long)]
        effective_from: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account (or reset its password); the password is read from standard input.
    Create {
        #[command(flatten)]
        serve: ServeArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Create a partner and invite its first Owner; prints the Partner ID and the invitation link.
    Create {
        #[command(flatten)]
        serve: ServeArgs,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long, default_value = "eur")]
        currency: String,
        #[arg(long, default_value = "partner_payment")]
        payment_model: String,
    },
}

/// Where the data lives.
#[derive(Clone, Debug, Args)]
pub struct StoreArgs {
    /// Directory for the embedded SQLite database and other files.
    #[arg(long, env = "PARTNERHUB_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// postgres://… to use PostgreSQL; unset means SQLite in the data directory.
    #[arg(long, env = "PARTNERHUB_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address of the web listener.
    #[arg(long, env = "PARTNERHUB_BIND", default_value = "127.0.0.1:8082")]
    pub bind: SocketAddr,
    /// Separate listener for /metrics, /healthz and /readyz without login (operators only).
    #[arg(long, env = "PARTNERHUB_ADMIN_BIND")]
    pub admin_bind: Option<SocketAddr>,
    /// The URL people use to reach the Hub (links in emails); defaults to http://<bind>.
    #[arg(long, env = "PARTNERHUB_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Development mode: relaxed URL rules, sandbox codes shown, movable clock, mail links logged.
    #[arg(long, env = "PARTNERHUB_DEV", default_value_t = false)]
    pub dev: bool,
    /// smtp://user:pass@host:port (or smtps://) to send mail; unset keeps mail in the outbox.
    #[arg(long, env = "PARTNERHUB_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender address of outgoing mail.
    #[arg(
        long,
        env = "PARTNERHUB_MAIL_FROM",
        default_value = crate::config::DEFAULT_MAIL_FROM
    )]
    pub mail_from: String,
    #[arg(
        long,
        env = "PARTNERHUB_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,
    /// Which WhatsApp provider to use: the built-in sandbox or Meta's Cloud API.
    #[arg(
        long,
        env = "PARTNERHUB_WHATSAPP_PROVIDER",
        value_enum,
        default_value = "sandbox"
    )]
    pub whatsapp_provider: WhatsAppProviderKind,
    /// How long the sandbox takes for each asynchronous step (WABA review, code, registration).
    #[arg(long, env = "PARTNERHUB_SANDBOX_DELAY_MS", default_value_t = 3000)]
    pub sandbox_delay_ms: u64,
    /// Graph API base URL for the cloud_api provider.
    #[arg(
        long,
        env = "PARTNERHUB_GRAPH_API_URL",
        default_value = "https://graph.facebook.com/v21.0"
    )]
    pub graph_api_url: String,
    /// Graph API access token (system user) for the cloud_api provider.
    #[arg(long, env = "PARTNERHUB_GRAPH_API_TOKEN")]
    pub graph_api_token: Option<String>,
    /// The BSP's Meta business id under which client WABAs are created.
    #[arg(long, env = "PARTNERHUB_GRAPH_BUSINESS_ID")]
    pub graph_business_id: Option<String>,
    /// Apply migrations at start (always done for SQLite).
    #[arg(long, env = "PARTNERHUB_MIGRATE", default_value_t = false)]
    pub migrate: bool,
    /// Addresses webhooks may reach although they are private or reserved (comma-separated
    /// CIDRs, e.g. "10.20.0.0/16, 192.168.1.5"). Outside development mode nothing else
    /// private is ever dialled.
    #[arg(long, env = "PARTNERHUB_WEBHOOK_ALLOW_CIDRS", default_value = "")]
    pub webhook_allow_cidrs: String,
    /// How long a webhook receiver may take to answer, in milliseconds.
    #[arg(long, env = "PARTNERHUB_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// Reverse proxies in front of the Hub (CIDRs, e.g. "10.0.0.0/8 192.168.1.5"). From these
    /// peers only, the client's address comes from `Forwarded` or `X-Forwarded-For` (the
    /// rightmost hop that is not itself a trusted proxy); throttles and the audit log use it.
    #[arg(long = "trusted-proxy", env = "PARTNERHUB_TRUSTED_PROXIES", value_name = "CIDR", num_args = 1.., value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write the client's address into; the other one is ignored
    /// (a proxy passes what the client sent in it through untouched).
    #[arg(long, env = "PARTNERHUB_TRUSTED_PROXY_HEADER", value_enum, default_value_t = ForwardedHeader::XForwardedFor)]
    pub trusted_proxy_header: ForwardedHeader,
}

impl StoreArgs {
    /// The database URL to use: the one given, or the SQLite file in the data directory.
    pub fn database_url(&self) -> Result<SecretUrl, ConfigError> {
        crate::config::database_url(
            &self.data_dir,
            self.database_url.clone().map(SecretUrl::new).as_ref(),
        )
    }
}

impl ServeArgs {
    /// The validated configuration these flags describe.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::new(ConfigInput {
            bind: self.bind,
            admin_bind: self.admin_bind,
            public_url: self.public_url.clone(),
            dev: self.dev,
            data_dir: self.store.data_dir.clone(),
            database_url: self.store.database_url.clone().map(SecretUrl::new),
            smtp_url: self.smtp_url.clone().map(SecretUrl::new),
            mail_from: self.mail_from.clone(),
            log_format: self.log_format,
            migrate: self.migrate,
            whatsapp_provider: self.whatsapp_provider,
            sandbox_delay_ms: self.sandbox_delay_ms,
            graph_api_url: self.graph_api_url.clone(),
            graph_api_token: self.graph_api_token.clone().map(Secret::new),
            graph_business_id: self.graph_business_id.clone(),
            webhook_allow_cidrs: self.webhook_allow_cidrs.clone(),
            webhook_timeout_ms: self.webhook_timeout_ms,
            trusted_proxies: self.trusted_proxies.join(","),
            trusted_proxy_header: self.trusted_proxy_header,
        })
    }
}
