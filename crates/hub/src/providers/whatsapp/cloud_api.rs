//! The `cloud_api` provider: Meta's WhatsApp Cloud API over the Graph API, for deployments that
//! onboard real numbers. It is a thin translation layer so that the rest of the Hub only ever sees
//! `WhatsAppProvider` results: Graph's JSON shapes, error codes and failure modes (rate limits,
//! outages, wrong codes) are mapped here into `ProviderError::Rejected` (retrying will not help)
//! and `ProviderError::Unavailable` (try again later), and the access token never leaves it.

use super::{
    CodeCheck, MessageAccepted, NumberAdded, NumberFacts, ProviderError, ProviderFuture,
    WabaCreated, WhatsAppProvider,
};
use domain::{MessagingLimit, PhoneNumber, QualityRating, VerificationMethod};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;

/// Graph error code for a verification code that does not match: the person typed the wrong
/// code, which is an answer rather than a failure.
const WRONG_CODE: i64 = 136025;

/// Graph error codes Meta documents as temporary (unknown/service errors, the various rate and
/// throughput limits, register/deregister throttling): the same request may succeed later.
const TRANSIENT_CODES: &[i64] = &[1, 2, 4, 17, 32, 341, 613, 80007, 130429, 131016, 133016];

/// Graph answers are a few hundred bytes; anything far larger is not an answer we understand, and
/// reading it unbounded would let a misbehaving endpoint exhaust our memory.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Meta's messages end up in channel errors people read; a runaway message should not.
const MAX_MESSAGE_CHARS: usize = 300;

/// Graph object ids are decimal; anything else would be spliced into a URL path unchecked.
const MAX_ID_DIGITS: usize = 32;

/// How to reach the Graph API and as whom (the token never prints: it is a `Secret`).
#[derive(Clone, Debug)]
pub struct CloudApiConfig {
    /// Versioned Graph API root, e.g. `https://graph.facebook.com/v21.0`.
    pub base_url: String,
    /// A system user access token of the Business Solution Provider's business.
    pub access_token: domain::Secret,
    /// The BSP's Meta business id, which owns the WABAs created here.
    pub business_id: String,
    /// Upper bound for one Graph call, connection and body included.
    pub timeout: Duration,
}

impl CloudApiConfig {
    pub const DEFAULT_BASE_URL: &'static str = "https://graph.facebook.com/v21.0";
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// A configuration against Meta's production Graph API with the default timeout.
    pub fn new(access_token: impl Into<String>, business_id: impl Into<String>) -> Self {
        Self {
            base_url: Self::DEFAULT_BASE_URL.to_owned(),
            access_token: domain::Secret::new(access_token),
            business_id: business_id.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

/// The Graph API client behind `WhatsAppProvider`.
pub struct CloudApi {
    client: reqwest::Client,
    base_url: String,
    business_id: String,
    /// Kept only to scrub it from any text that comes back from the wire.
    access_token: String,
    authorization: HeaderValue,
    timeout: Duration,
}

impl fmt::Debug for CloudApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudApi")
            .field("base_url", &self.base_url)
            .field("business_id", &self.business_id)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl CloudApi {
    /// Checks the configuration up front so that a typo shows at start-up rather than on the
    /// first number someone onboards.
    pub fn new(config: CloudApiConfig) -> Result<CloudApi, ProviderError> {
        let base_url = config.base_url.trim().trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&base_url).map_err(|e| {
            ProviderError::Rejected(format!("cloud_api base_url {base_url:?} is not a URL: {e}"))
        })?;
        if !matches!(parsed.scheme(), "https" | "http")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(ProviderError::Rejected(format!(
                "cloud_api base_url {base_url:?} must be an http(s) URL without query or fragment"
            )));
        }
        let business_id = graph_id("business_id", config.business_id.trim())?.to_owned();
        let access_token = config.access_token.expose().trim().to_owned();
        if access_token.is_empty() {
            return Err(ProviderError::Rejected(
                "cloud_api access_token is required".to_owned(),
            ));
        }
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {access_token}")).map_err(|_| {
                ProviderError::Rejected(
                    "cloud_api access_token contains characters not allowed in a header".to_owned(),
                )
            })?;
        // Keeps the token out of HTTP-level debug output and logs.
        authorization.set_sensitive(true);
        if config.timeout.is_zero() {
            return Err(ProviderError::Rejected(
                "cloud_api timeout must be greater than zero".to_owned(),
            ));
        }

        // reqwest is built without a default crypto backend so that only ring is compiled in;
        // it then uses the process default, which must exist before the first TLS client. An
        // error only means some provider is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            // A redirect from the Graph API would be unexpected, and following one would send
            // the bearer token wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .user_agent(concat!("partnerhub/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::Rejected(format!("cannot build the cloud_api HTTP client: {e}"))
            })?;

        Ok(CloudApi {
            client,
            base_url,
            business_id,
            access_token,
            authorization,
            timeout: config.timeout,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url)
    }

    async fn post_form<T: DeserializeOwned>(
        &self,
        action: &'static str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, Failure> {
        self.call(action, self.client.post(self.url(path)).form(form))
            .await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        action: &'static str,
        path: &str,
    ) -> Result<T, Failure> {
        self.call(action, self.client.get(self.url(path))).await
    }

    /// One Graph call: sends with the token, reads a bounded body and sorts the outcome into a
    /// value, a Graph error (kept whole so callers can look at its code) or a provider error.
    async fn call<T: DeserializeOwned>(
        &self,
        action: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        let response = request
            .header(AUTHORIZATION, self.authorization.clone())
            .send()
            .await
            .map_err(|e| self.transport_failure(action, e))?;
        let status = response.status();
        let body = read_bounded(response)
            .await
            .map_err(|e| self.transport_failure(action, e))?;

        if status.is_success() {
            let Some(bytes) = body else {
                return Err(self.rejected(format!(
                    "the WhatsApp Cloud API answered {action} with more than {} KB",
                    MAX_BODY_BYTES / 1024
                )));
            };
            return match serde_json::from_slice::<T>(&bytes) {
                Ok(value) => Ok(value),
                // Graph occasionally wraps an error in a 200; treat it like any other error.
                Err(parse_error) => match parse_graph_error(&bytes) {
                    Some(error) => Err(self.graph_failure(action, status, error)),
                    None => Err(self.rejected(format!(
                        "the WhatsApp Cloud API sent a malformed response to {action}: \
                         {parse_error}"
                    ))),
                },
            };
        }

        match body.as_deref().and_then(parse_graph_error) {
            Some(error) => Err(self.graph_failure(action, status, error)),
            None => Err(self.status_failure(action, status)),
        }
    }

    fn transport_failure(&self, action: &'static str, error: reqwest::Error) -> Failure {
        let reason = if error.is_timeout() {
            format!("no answer within {:?}", self.timeout)
        } else {
            error_chain(&error.without_url())
        };
        tracing::warn!(provider = "cloud_api", action, %reason, "Graph API unreachable");
        Failure::from(ProviderError::Unavailable(self.redact(format!(
            "the WhatsApp Cloud API could not be reached for {action}: {reason}"
        ))))
    }

    fn graph_failure(
        &self,
        action: &'static str,
        status: StatusCode,
        error: GraphError,
    ) -> Failure {
        tracing::warn!(
            provider = "cloud_api",
            action,
            status = status.as_u16(),
            code = error.code,
            subcode = error.error_subcode,
            fbtrace_id = error.fbtrace_id.as_deref().unwrap_or(""),
            "Graph API error"
        );
        let message = match error.message.trim() {
            "" => format!("HTTP {}", status.as_u16()),
            text => truncate(text, MAX_MESSAGE_CHARS),
        };
        let reference = match (error.code, error.error_subcode) {
            (Some(code), Some(subcode)) => format!(" (Graph error {code}/{subcode})"),
            (Some(code), None) => format!(" (Graph error {code})"),
            _ => String::new(),
        };
        let transient = is_retryable_status(status)
            || error.is_transient == Some(true)
            || error
                .code
                .is_some_and(|code| TRANSIENT_CODES.contains(&code));
        let text = if transient {
            format!("Meta could not handle {action} right now: {message}{reference}")
        } else {
            format!("Meta refused {action}: {message}{reference}")
        };
        let text = self.redact(text);
        Failure {
            error: if transient {
                ProviderError::Unavailable(text)
            } else {
                ProviderError::Rejected(text)
            },
            graph_code: error.code,
        }
    }

    fn status_failure(&self, action: &'static str, status: StatusCode) -> Failure {
        tracing::warn!(
            provider = "cloud_api",
            action,
            status = status.as_u16(),
            "Graph API error"
        );
        let code = status.as_u16();
        Failure::from(if is_retryable_status(status) {
            ProviderError::Unavailable(format!(
                "the WhatsApp Cloud API could not handle {action} right now (HTTP {code})"
            ))
        } else if status.is_redirection() {
            ProviderError::Rejected(format!(
                "the WhatsApp Cloud API answered {action} with an unexpected redirect (HTTP {code})"
            ))
        } else {
            ProviderError::Rejected(format!(
                "the WhatsApp Cloud API refused {action} (HTTP {code})"
            ))
        })
    }

    fn rejected(&self, message: String) -> Failure {
        Failure::from(ProviderError::Rejected(self.redact(message)))
    }

    /// Whatever the wire sends back is scrubbed, because a proxy or a verbose error could echo
    /// the request and these messages are stored and shown to partners.
    fn redact(&self, text: String) -> String {
        if text.contains(&self.access_token) {
            text.replace(&self.access_token, "[redacted]")
        } else {
            text
        }
    }

    /// Calls an endpoint that answers `{"success": true}`; anything else did not happen.
    async fn post_expecting_success(
        &self,
        action: &'static str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<(), Failure> {
        let answer: Success = self.post_form(action, path, form).await?;
        if answer.success {
            Ok(())
        } else {
            Err(self.rejected(format!("the WhatsApp Cloud API did not confirm {action}")))
        }
    }
}

impl WhatsAppProvider for CloudApi {
    fn name(&self) -> &'static str {
        "cloud_api"
    }

    fn create_waba<'a>(&'a self, business_name: &'a str) -> ProviderFuture<'a, WabaCreated> {
        Box::pin(async move {
            let path = format!("{}/owned_whatsapp_business_accounts", self.business_id);
            // Billing currency and time zone are Meta's defaults for BSP-created WABAs; the
            // business can change the time zone later in Business Manager.
            let form = [
                ("name", business_name.trim()),
                ("currency", "USD"),
                ("timezone_id", "1"),
            ];
            let created: Created = self.post_form("creating the WABA", &path, &form).await?;
            let waba_id = self.created_id("creating the WABA", created)?;

            // The WABA exists from here on: failures name it so that nobody creates a second one
            // without looking for the first.
            let fields: WabaFields = self
                .get(
                    "reading the WABA's template namespace",
                    &format!("{waba_id}?fields=message_template_namespace"),
                )
                .await
                .map_err(|failure| after_waba_created(failure.error, &waba_id))?;
            let namespace = fields
                .message_template_namespace
                .map(|ns| ns.trim().to_owned())
                .filter(|ns| !ns.is_empty())
                .ok_or_else(|| {
                    ProviderError::Rejected(format!(
                        "WABA {waba_id} was created but Meta reported no template namespace"
                    ))
                })?;
            Ok(WabaCreated {
                external_id: waba_id,
                namespace,
            })
        })
    }

    fn add_number<'a>(
        &'a self,
        waba_external_id: &'a str,
        phone: &'a PhoneNumber,
        display_name: &'a str,
    ) -> ProviderFuture<'a, NumberAdded> {
        Box::pin(async move {
            let waba_id = graph_id("WABA id", waba_external_id)?;
            let country_code = phone.country_code().to_string();
            // Meta wants the number split: country code, then the national significant number.
            let national = phone
                .digits()
                .strip_prefix(country_code.as_str())
                .filter(|rest| !rest.is_empty())
                .ok_or_else(|| {
                    ProviderError::Rejected(format!(
                        "{phone} does not start with its country code {country_code}"
                    ))
                })?;
            let form = [
                ("cc", country_code.as_str()),
                ("phone_number", national),
                ("verified_name", display_name.trim()),
            ];
            let created: Created = self
                .post_form(
                    "adding the number",
                    &format!("{waba_id}/phone_numbers"),
                    &form,
                )
                .await?;
            Ok(NumberAdded {
                external_id: self.created_id("adding the number", created)?,
            })
        })
    }

    fn request_code<'a>(
        &'a self,
        number_id: &'a str,
        method: VerificationMethod,
    ) -> ProviderFuture<'a, ()> {
        Box::pin(async move {
            let number_id = graph_id("number id", number_id)?;
            let code_method = match method {
                VerificationMethod::Sms => "SMS",
                VerificationMethod::Voice => "VOICE",
            };
            let form = [("code_method", code_method), ("language", "en_US")];
            self.post_expecting_success(
                "requesting a verification code",
                &format!("{number_id}/request_code"),
                &form,
            )
            .await?;
            Ok(())
        })
    }

    fn verify_code<'a>(
        &'a self,
        number_id: &'a str,
        code: &'a str,
    ) -> ProviderFuture<'a, CodeCheck> {
        Box::pin(async move {
            let number_id = graph_id("number id", number_id)?;
            // People paste codes as they arrive by SMS (`123-456`) or with stray spaces.
            let code: String = code
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect();
            if code.is_empty() || code.len() > 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(CodeCheck::Wrong);
            }
            let outcome = self
                .post_expecting_success(
                    "checking the verification code",
                    &format!("{number_id}/verify_code"),
                    &[("code", code.as_str())],
                )
                .await;
            match outcome {
                Ok(()) => Ok(CodeCheck::Verified),
                Err(failure) if failure.graph_code == Some(WRONG_CODE) => Ok(CodeCheck::Wrong),
                Err(failure) => Err(failure.error),
            }
        })
    }

    fn register<'a>(&'a self, number_id: &'a str) -> ProviderFuture<'a, ()> {
        Box::pin(async move {
            let number_id = graph_id("number id", number_id)?;
            // Registration sets the number's two-step verification PIN. Nobody types it here, so
            // it is random rather than guessable; the business can reset it through Meta.
            let pin = two_step_pin();
            let form = [("messaging_product", "whatsapp"), ("pin", pin.as_str())];
            self.post_expecting_success(
                "registering the number",
                &format!("{number_id}/register"),
                &form,
            )
            .await?;
            Ok(())
        })
    }

    fn send_message<'a>(
        &'a self,
        number_id: &'a str,
        body: &'a serde_json::Value,
    ) -> ProviderFuture<'a, MessageAccepted> {
        Box::pin(async move {
            let number_id = graph_id("number id", number_id)?;
            let answer: SentAnswer = self
                .call(
                    "sending a message",
                    self.client
                        .post(self.url(&format!("{number_id}/messages")))
                        .json(body),
                )
                .await
                .map_err(|f| f.error)?;
            let provider_id = answer
                .messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .ok_or_else(|| {
                    self.rejected("the WhatsApp Cloud API returned no message id".into())
                        .error
                })?;
            Ok(MessageAccepted { provider_id })
        })
    }

    fn number_facts<'a>(&'a self, number_id: &'a str) -> ProviderFuture<'a, NumberFacts> {
        Box::pin(async move {
            let number_id = graph_id("number id", number_id)?;
            let fields: NumberFields = self
                .get(
                    "reading the number's quality rating and messaging limit",
                    &format!("{number_id}?fields=quality_rating,messaging_limit_tier"),
                )
                .await?;
            // Meta reports `NA` (and may add values) before a number has enough traffic to rate.
            let quality_rating = fields
                .quality_rating
                .as_deref()
                .and_then(|value| QualityRating::parse(value).ok())
                .unwrap_or(QualityRating::Unknown);
            let tier = fields.messaging_limit_tier.ok_or_else(|| {
                ProviderError::Rejected(format!(
                    "Meta reported no messaging limit tier for number {number_id}"
                ))
            })?;
            let messaging_limit = MessagingLimit::parse(&tier).map_err(|_| {
                ProviderError::Rejected(self.redact(format!(
                    "Meta reported a messaging limit tier the Hub does not know for number \
                     {number_id}: {}",
                    truncate(&tier, 40)
                )))
            })?;
            Ok(NumberFacts {
                quality_rating,
                messaging_limit,
            })
        })
    }
}

impl CloudApi {
    fn created_id(&self, action: &'static str, created: Created) -> Result<String, Failure> {
        let id = created.id.trim();
        match graph_id("id", id) {
            Ok(id) => Ok(id.to_owned()),
            Err(_) => Err(self.rejected(format!(
                "the WhatsApp Cloud API answered {action} with an id that is not a Graph id: {}",
                truncate(id, 40)
            ))),
        }
    }
}

/// A failed call. The Graph error code rides along because one caller treats a specific code
/// (a wrong verification code) as an answer rather than an error.
/// Graph's answer to `POST /{phone-number-id}/messages`.
#[derive(serde::Deserialize)]
struct SentAnswer {
    #[serde(default)]
    messages: Vec<SentId>,
}

#[derive(serde::Deserialize)]
struct SentId {
    id: String,
}

#[derive(Debug)]
struct Failure {
    error: ProviderError,
    graph_code: Option<i64>,
}

impl From<ProviderError> for Failure {
    fn from(error: ProviderError) -> Self {
        Failure {
            error,
            graph_code: None,
        }
    }
}

impl From<Failure> for ProviderError {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}

/// Keeps the kind of a failure that happened after a WABA was created, and names the WABA.
fn after_waba_created(error: ProviderError, waba_id: &str) -> ProviderError {
    match error {
        ProviderError::Rejected(m) => {
            ProviderError::Rejected(format!("WABA {waba_id} was created, but {m}"))
        }
        ProviderError::Unavailable(m) => {
            ProviderError::Unavailable(format!("WABA {waba_id} was created, but {m}"))
        }
    }
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Success {
    success: bool,
}

#[derive(Deserialize)]
struct WabaFields {
    message_template_namespace: Option<String>,
}

#[derive(Deserialize)]
struct NumberFields {
    quality_rating: Option<String>,
    messaging_limit_tier: Option<String>,
}

#[derive(Deserialize)]
struct GraphErrorEnvelope {
    error: GraphError,
}

/// Graph's error object; only what we act on or log.
#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    code: Option<i64>,
    error_subcode: Option<i64>,
    is_transient: Option<bool>,
    fbtrace_id: Option<String>,
}

fn parse_graph_error(body: &[u8]) -> Option<GraphError> {
    serde_json::from_slice::<GraphErrorEnvelope>(body)
        .ok()
        .map(|envelope| envelope.error)
}

fn is_retryable_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Reads at most `MAX_BODY_BYTES`; `None` means the body was larger.
async fn read_bounded(mut response: reqwest::Response) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Checks an id before it becomes a URL path segment.
fn graph_id<'a>(what: &str, id: &'a str) -> Result<&'a str, ProviderError> {
    if !id.is_empty() && id.len() <= MAX_ID_DIGITS && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(ProviderError::Rejected(format!(
            "{what} {:?} is not a Graph API id",
            truncate(id, 40)
        )))
    }
}

fn two_step_pin() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000_u32))
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// reqwest's own message is terse ("error sending request"); the cause is in its sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const TOKEN: &str = "EAAGsecret-token-0123456789";
    const BUSINESS: &str = "100200300";
    const NUMBER: &str = "106540352242922";

    fn config(server: &MockServer, timeout: Duration) -> CloudApiConfig {
        CloudApiConfig {
            base_url: format!("{}/v21.0/", server.uri()),
            access_token: domain::Secret::new(TOKEN),
            business_id: BUSINESS.to_owned(),
            timeout,
        }
    }

    fn api(server: &MockServer) -> CloudApi {
        CloudApi::new(config(server, Duration::from_secs(5))).unwrap()
    }

    /// Matches a form-encoded body with exactly these fields.
    fn form(expected: &[(&str, &str)]) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
        let expected: BTreeMap<String, String> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |request: &Request| {
            let form_encoded = request
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            let sent: BTreeMap<String, String> = url::form_urlencoded::parse(&request.body)
                .into_owned()
                .collect();
            form_encoded && sent == expected
        }
    }

    fn bearer() -> wiremock::matchers::HeaderExactMatcher {
        header("authorization", format!("Bearer {TOKEN}").as_str())
    }

    fn graph_error(code: i64, message: &str) -> serde_json::Value {
        json!({"error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_subcode": 2388093,
            "fbtrace_id": "AbCdEfGhIjK"
        }})
    }

    fn phone(input: &str) -> PhoneNumber {
        PhoneNumber::parse(input).unwrap()
    }

    fn assert_no_token(error: &ProviderError) {
        let text = error.to_string();
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(
            !format!("{error:?}").contains(TOKEN),
            "token leaked: {error:?}"
        );
    }

    #[tokio::test]
    async fn create_waba_creates_it_under_the_business_and_reads_its_namespace() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!(
                "/v21.0/{BUSINESS}/owned_whatsapp_business_accounts"
            )))
            .and(bearer())
            .and(form(&[
                ("name", "Müller & Söhne GmbH"),
                ("currency", "USD"),
                ("timezone_id", "1"),
            ]))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": "104996122399160"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v21.0/104996122399160"))
            .and(query_param("fields", "message_template_namespace"))
            .and(bearer())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "message_template_namespace": "c1a7e8f2_9b3d_4c5e_8f01_2a3b4c5d6e7f",
                "id": "104996122399160"
            })))
            .expect(1)
            .mount(&server)
            .await;

        let waba = api(&server)
            .create_waba(" Müller & Söhne GmbH ")
            .await
            .unwrap();

        assert_eq!(waba.external_id, "104996122399160");
        assert_eq!(waba.namespace, "c1a7e8f2_9b3d_4c5e_8f01_2a3b4c5d6e7f");
    }

    #[tokio::test]
    async fn a_failed_namespace_read_names_the_waba_that_was_created() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": "104996122399160"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;

        let error = api(&server).create_waba("Acme").await.unwrap_err();

        assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
        assert!(
            error
                .to_string()
                .contains("WABA 104996122399160 was created"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn add_number_splits_country_code_and_national_number() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v21.0/104996122399160/phone_numbers"))
            .and(bearer())
            .and(form(&[
                ("cc", "49"),
                ("phone_number", "15123456789"),
                ("verified_name", "Acme Support"),
            ]))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": NUMBER})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v21.0/104996122399160/phone_numbers"))
            .and(form(&[
                ("cc", "1"),
                ("phone_number", "2015550123"),
                ("verified_name", "Acme US"),
            ]))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": "106540352242923"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let api = api(&server);

        let german = api
            .add_number("104996122399160", &phone("+4915123456789"), "Acme Support")
            .await
            .unwrap();
        let american = api
            .add_number("104996122399160", &phone("+1 201-555-0123"), "Acme US")
            .await
            .unwrap();

        assert_eq!(german.external_id, NUMBER);
        assert_eq!(american.external_id, "106540352242923");
    }

    #[tokio::test]
    async fn request_code_sends_the_method_in_meta_spelling() {
        let server = MockServer::start().await;
        for (code_method, times) in [("SMS", 1), ("VOICE", 1)] {
            Mock::given(method("POST"))
                .and(path(format!("/v21.0/{NUMBER}/request_code")))
                .and(bearer())
                .and(form(&[("code_method", code_method), ("language", "en_US")]))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
                .expect(times)
                .mount(&server)
                .await;
        }
        let api = api(&server);

        api.request_code(NUMBER, VerificationMethod::Sms)
            .await
            .unwrap();
        api.request_code(NUMBER, VerificationMethod::Voice)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_right_code_verifies() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v21.0/{NUMBER}/verify_code")))
            .and(bearer())
            .and(form(&[("code", "123456")]))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .expect(1)
            .mount(&server)
            .await;

        let check = api(&server).verify_code(NUMBER, " 123-456 ").await.unwrap();

        assert_eq!(check, CodeCheck::Verified);
    }

    #[tokio::test]
    async fn a_wrong_code_is_an_answer_not_an_error() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v21.0/{NUMBER}/verify_code")))
            .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
                136025,
                "(#136025) Verify code error. Code couldn't be verified, You have entered the \
                 wrong code.",
            )))
            .expect(1)
            .mount(&server)
            .await;
        let api = api(&server);

        assert_eq!(
            api.verify_code(NUMBER, "999999").await.unwrap(),
            CodeCheck::Wrong
        );
        // Not even digits: Meta would refuse it, so it is not sent.
        assert_eq!(
            api.verify_code(NUMBER, "abc").await.unwrap(),
            CodeCheck::Wrong
        );
    }

    #[tokio::test]
    async fn other_errors_while_verifying_stay_errors() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400).set_body_json(graph_error(100, "Invalid parameter")),
            )
            .mount(&server)
            .await;

        let error = api(&server)
            .verify_code(NUMBER, "123456")
            .await
            .unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert!(error.to_string().contains("Invalid parameter"), "{error}");
    }

    #[tokio::test]
    async fn register_sends_a_six_digit_pin() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v21.0/{NUMBER}/register")))
            .and(bearer())
            .and(|request: &Request| {
                let sent: BTreeMap<String, String> = url::form_urlencoded::parse(&request.body)
                    .into_owned()
                    .collect();
                sent.len() == 2
                    && sent.get("messaging_product").map(String::as_str) == Some("whatsapp")
                    && sent.get("pin").is_some_and(|pin| {
                        pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
                    })
            })
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .expect(1)
            .mount(&server)
            .await;

        api(&server).register(NUMBER).await.unwrap();
    }

    #[tokio::test]
    async fn send_message_posts_the_cloud_api_body_and_returns_metas_id() {
        let server = MockServer::start().await;
        let body = json!({"messaging_product": "whatsapp", "to": "4915123456789", "type": "text",
            "text": {"body": "Hello"}});
        Mock::given(method("POST"))
            .and(path(format!("/v21.0/{NUMBER}/messages")))
            .and(bearer())
            .and(wiremock::matchers::body_json(&body))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": "4915123456789", "wa_id": "4915123456789"}],
                "messages": [{"id": "wamid.HBgLNDkxNTEyMzQ1Njc4OQ=="}],
            })))
            .expect(1)
            .mount(&server)
            .await;

        let sent = api(&server).send_message(NUMBER, &body).await.unwrap();
        assert_eq!(sent.provider_id, "wamid.HBgLNDkxNTEyMzQ1Njc4OQ==");
    }

    #[tokio::test]
    async fn a_refused_message_is_a_rejection_with_metas_words() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v21.0/{NUMBER}/messages")))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "(#131026) Message undeliverable", "type": "OAuthException",
                "code": 131026, "fbtrace_id": "A1"}})))
            .mount(&server)
            .await;

        let error = api(&server)
            .send_message(NUMBER, &json!({"messaging_product": "whatsapp"}))
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert!(
            error.to_string().contains("Message undeliverable"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn success_false_is_not_success() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": false})))
            .mount(&server)
            .await;

        let error = api(&server).register(NUMBER).await.unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert!(
            error.to_string().contains("registering the number"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn number_facts_maps_quality_and_tier() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("/v21.0/{NUMBER}")))
            .and(query_param("fields", "quality_rating,messaging_limit_tier"))
            .and(bearer())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "quality_rating": "GREEN",
                "messaging_limit_tier": "TIER_1K",
                "id": NUMBER
            })))
            .expect(1)
            .mount(&server)
            .await;

        let facts = api(&server).number_facts(NUMBER).await.unwrap();

        assert_eq!(facts.quality_rating, QualityRating::Green);
        assert_eq!(facts.messaging_limit, MessagingLimit::Tier1K);
    }

    #[tokio::test]
    async fn an_unknown_quality_is_unknown() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "quality_rating": "NA",
                "messaging_limit_tier": "TIER_UNLIMITED",
                "id": NUMBER
            })))
            .mount(&server)
            .await;

        let facts = api(&server).number_facts(NUMBER).await.unwrap();

        assert_eq!(facts.quality_rating, QualityRating::Unknown);
        assert_eq!(facts.messaging_limit, MessagingLimit::TierUnlimited);
    }

    #[tokio::test]
    async fn an_unknown_tier_is_a_clear_rejection() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "quality_rating": "YELLOW",
                "messaging_limit_tier": "TIER_50",
                "id": NUMBER
            })))
            .mount(&server)
            .await;

        let error = api(&server).number_facts(NUMBER).await.unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains("messaging limit tier") && text.contains("TIER_50"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn server_errors_and_rate_limits_are_unavailable() {
        for (status, body) in [
            (500, json!({})),
            (502, json!("<html>Bad Gateway</html>")),
            (429, json!({})),
            // Graph's throttling comes as a 400 with a rate-limit code.
            (400, graph_error(80007, "Rate limit hit")),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(status).set_body_json(body))
                .mount(&server)
                .await;

            let error = api(&server).number_facts(NUMBER).await.unwrap_err();

            assert!(
                matches!(error, ProviderError::Unavailable(_)),
                "{status}: {error:?}"
            );
            assert_no_token(&error);
        }
    }

    #[tokio::test]
    async fn client_errors_are_rejections_with_metas_message() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(
                100,
                "(#100) The phone number is already registered on WhatsApp",
            )))
            .mount(&server)
            .await;

        let error = api(&server)
            .add_number("104996122399160", &phone("+4915123456789"), "Acme")
            .await
            .unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains("(#100) The phone number is already registered on WhatsApp"),
            "{text}"
        );
        assert!(text.contains("adding the number"), "{text}");
        assert_no_token(&error);
    }

    #[tokio::test]
    async fn the_token_never_appears_in_errors_even_when_echoed() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(graph_error(
                190,
                &format!("Invalid OAuth access token - Cannot parse access token {TOKEN}"),
            )))
            .mount(&server)
            .await;

        let error = api(&server).number_facts(NUMBER).await.unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert!(
            error.to_string().contains("Invalid OAuth access token"),
            "{error}"
        );
        assert_no_token(&error);
    }

    #[tokio::test]
    async fn client_errors_without_a_graph_body_still_reject() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
            .mount(&server)
            .await;

        let error = api(&server)
            .request_code(NUMBER, VerificationMethod::Sms)
            .await
            .unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert!(error.to_string().contains("HTTP 404"), "{error}");
    }

    #[tokio::test]
    async fn malformed_json_is_rejected_clearly() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": "))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"quality_rating": 7})))
            .mount(&server)
            .await;
        let api = api(&server);

        for error in [
            api.add_number("104996122399160", &phone("+4915123456789"), "Acme")
                .await
                .unwrap_err(),
            api.number_facts(NUMBER).await.unwrap_err(),
        ] {
            assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
            assert!(error.to_string().contains("malformed response"), "{error}");
        }
    }

    #[tokio::test]
    async fn ids_that_are_not_graph_ids_are_refused() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "../../me"})))
            .mount(&server)
            .await;
        let api = api(&server);

        let error = api
            .add_number("104996122399160", &phone("+4915123456789"), "Acme")
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");

        let requests_so_far = server.received_requests().await.unwrap().len();
        let error = api.register("../../me/accounts").await.unwrap_err();
        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            requests_so_far
        );
    }

    #[tokio::test]
    async fn oversized_answers_are_not_read() {
        let server = MockServer::start().await;
        let huge = format!(
            "{{\"id\":\"1\",\"padding\":\"{}\"}}",
            "x".repeat(MAX_BODY_BYTES)
        );
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(huge, "application/json"))
            .mount(&server)
            .await;

        let error = api(&server).register(NUMBER).await.unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert!(error.to_string().contains("more than 64 KB"), "{error}");
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("/v21.0/{NUMBER}")))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/elsewhere", server.uri())),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/elsewhere"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;

        let error = api(&server).number_facts(NUMBER).await.unwrap_err();

        assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
        assert!(error.to_string().contains("redirect"), "{error}");
    }

    #[tokio::test]
    async fn timeouts_are_unavailable() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"success": true}))
                    .set_delay(Duration::from_secs(3)),
            )
            .mount(&server)
            .await;
        let api = CloudApi::new(config(&server, Duration::from_millis(200))).unwrap();

        let error = api
            .request_code(NUMBER, VerificationMethod::Voice)
            .await
            .unwrap_err();

        assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("no answer within"), "{error}");
        assert_no_token(&error);
    }

    #[tokio::test]
    async fn an_unreachable_api_is_unavailable() {
        // A port that was free a moment ago; wiremock pools its servers, so dropping one would
        // not close its port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = CloudApi::new(CloudApiConfig {
            base_url: format!("http://127.0.0.1:{port}/v21.0"),
            ..CloudApiConfig::new(TOKEN, BUSINESS)
        })
        .unwrap();

        let error = api.verify_code(NUMBER, "123456").await.unwrap_err();

        assert!(matches!(error, ProviderError::Unavailable(_)), "{error:?}");
        assert_no_token(&error);
    }

    #[test]
    fn bad_configuration_is_refused_up_front() {
        let good = CloudApiConfig::new(TOKEN, BUSINESS);
        assert_eq!(good.base_url, "https://graph.facebook.com/v21.0");
        assert!(CloudApi::new(good.clone()).is_ok());

        for broken in [
            CloudApiConfig {
                base_url: "graph.facebook.com".into(),
                ..good.clone()
            },
            CloudApiConfig {
                base_url: "ftp://graph.facebook.com".into(),
                ..good.clone()
            },
            CloudApiConfig {
                access_token: domain::Secret::new(" "),
                ..good.clone()
            },
            CloudApiConfig {
                access_token: domain::Secret::new("tok\nen"),
                ..good.clone()
            },
            CloudApiConfig {
                business_id: "me".into(),
                ..good.clone()
            },
            CloudApiConfig {
                timeout: Duration::ZERO,
                ..good.clone()
            },
        ] {
            let error = CloudApi::new(broken).unwrap_err();
            assert!(matches!(error, ProviderError::Rejected(_)), "{error:?}");
            assert_no_token(&error);
        }
    }

    #[test]
    fn debug_output_hides_the_token() {
        let config = CloudApiConfig::new(TOKEN, BUSINESS);
        assert!(!format!("{config:?}").contains(TOKEN));
        let api = CloudApi::new(config).unwrap();
        assert!(!format!("{api:?}").contains(TOKEN));
        assert_eq!(api.name(), "cloud_api");
        assert!(!api.shows_codes());
    }
}
