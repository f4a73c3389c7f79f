//! The HTTP client that reaches partners' webhook and redirect URLs: no redirects, a timeout, a
//! capped body read, and — outside development mode — a resolver that refuses private and
//! reserved addresses inside the connector, so the address checked is the address dialled.

use crate::config::Config;
use domain::ip_policy::{self, AllowList};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much of a response body we keep (the deliveries page shows it).
pub const EXCERPT_BYTES: usize = 20 * 1024;

/// Resolves with the system resolver, then drops every address a webhook may not reach.
#[derive(Debug)]
struct GuardedResolver {
    allow: AllowList,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(found) => found.collect(),
                Err(err) => {
                    tracing::info!(host = %host, error = %err, "webhook host does not resolve");
                    Vec::new()
                }
            };
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| ip_policy::may_connect(a.ip(), &allow))
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = Box::new(if found.is_empty() {
                    Unreachable::NoAddress(host)
                } else {
                    Unreachable::Private(host)
                });
                return Err(err);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Why the guarded resolver gave no address, in the words the partner reads.
#[derive(Debug, thiserror::Error)]
enum Unreachable {
    #[error("the name {0} does not resolve: check its spelling, and that it is a public name")]
    NoAddress(String),
    #[error("{0} is in a private network: addresses in private networks are not allowed")]
    Private(String),
}

/// The outbound client, built once.
#[derive(Clone, Debug)]
pub struct WebhookClient {
    client: reqwest::Client,
    /// `None` in development mode: loopback receivers are the point there.
    guard: Option<AllowList>,
}

/// What one request produced, in the words the deliveries page uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// The first `EXCERPT_BYTES` of the body (lossy UTF-8).
    pub excerpt: Option<String>,
    /// A transport failure in plain words (DNS, refused connection, TLS, timeout).
    pub error: Option<String>,
    pub retry_after: Option<String>,
}

impl Exchange {
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

impl WebhookClient {
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        crate::install_crypto_provider();
        let guard = (!config.dev).then(|| config.webhooks.allow.clone());
        let mut builder = reqwest::Client::builder()
            // A redirect would take a signed event (or a client's browser) somewhere the partner
            // never configured.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(config.webhooks.timeout_ms))
            .connect_timeout(Duration::from_millis(config.webhooks.timeout_ms.min(5_000)))
            .pool_max_idle_per_host(32)
            .user_agent(concat!("partnerhub-webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(allow) = &guard {
            builder = builder.dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
            }));
        }
        Ok(Self {
            client: builder.build()?,
            guard,
        })
    }

    /// An address literal in the URL never meets the resolver, so it is judged here.
    fn refuse_literal(&self, url: &reqwest::Url) -> Option<String> {
        let allow = self.guard.as_ref()?;
        let ip: IpAddr = match url.host()? {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => return None,
        };
        (!ip_policy::may_connect(ip, allow))
            .then(|| Unreachable::Private(ip.to_string()).to_string())
    }

    /// POST `body` as JSON with `headers`.
    pub async fn post(&self, url: &str, headers: &[(String, String)], body: String) -> Exchange {
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(name.as_str(), value);
        }
        self.exchange(url, request.body(body)).await
    }

    /// GET `url` (the redirect URL test: does it answer?).
    pub async fn get(&self, url: &str) -> Exchange {
        self.exchange(url, self.client.get(url)).await
    }

    async fn exchange(&self, url: &str, request: reqwest::RequestBuilder) -> Exchange {
        let started = Instant::now();
        let failed = |error: String, started: Instant| Exchange {
            status: None,
            latency_ms: elapsed_ms(started),
            excerpt: None,
            error: Some(error),
            retry_after: None,
        };
        match reqwest::Url::parse(url) {
            Ok(parsed) => {
                if let Some(refusal) = self.refuse_literal(&parsed) {
                    return failed(refusal, started);
                }
            }
            Err(e) => return failed(format!("the URL cannot be used: {e}"), started),
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return failed(describe(&e, url), started),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (excerpt, error) = match read_capped(response, EXCERPT_BYTES).await {
            Ok(bytes) => (Some(String::from_utf8_lossy(&bytes).into_owned()), None),
            Err(e) => (None, Some(describe(&e, url))),
        };
        Exchange {
            status: Some(status),
            latency_ms: elapsed_ms(started),
            excerpt,
            error,
            retry_after,
        }
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// Read at most `cap` bytes and stop: a receiver cannot make us buffer a huge answer.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body)
}

/// A transport error in words a partner's operator understands ("the name … does not
/// resolve", "nothing answers at …"). The whole cause chain (resolver, TLS and socket errors, in
/// their own jargon) goes to the log, never to the page: URLs carry no secret, but the chain is
/// noise to the reader.
fn describe(err: &reqwest::Error, url: &str) -> String {
    let parsed = reqwest::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "the host".to_owned());
    let port = parsed
        .as_ref()
        .and_then(reqwest::Url::port_or_known_default);
    let mut chain = Vec::new();
    let mut unreachable = None;
    let mut io_kind = None;
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        chain.push(cause.to_string());
        if let Some(u) = cause.downcast_ref::<Unreachable>() {
            unreachable = Some(u.to_string());
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        source = cause.source();
    }
    let detail = chain.join(": ");
    tracing::info!(host = %host, error = %detail, "webhook request failed");
    let lower = detail.to_ascii_lowercase();
    let at = match port {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    if let Some(message) = unreachable {
        message
    } else if err.is_timeout() {
        format!("no answer from {host} within the timeout")
    } else if err.is_redirect() {
        "the URL answered with a redirect, and redirects are not followed".to_owned()
    } else if lower.contains("dns error") || lower.contains("lookup address") {
        Unreachable::NoAddress(host).to_string()
    } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        format!("could not connect: nothing answers at {at}")
    } else if lower.contains("certificate") {
        format!("could not connect: the TLS certificate of {host} is not valid or not trusted")
    } else if lower.contains("tls") || lower.contains("handshake") {
        format!("could not connect: the TLS handshake with {host} failed")
    } else if err.is_connect() {
        format!("could not connect to {at}")
    } else if err.is_body() || err.is_decode() {
        "the response body could not be read".to_owned()
    } else {
        format!("the request to {host} failed")
    }
}
