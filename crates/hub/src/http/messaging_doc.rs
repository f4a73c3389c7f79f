//! The Messaging API in the OpenAPI document: its operations (tag `messaging`, auth
//! `D360-API-KEY`) and Meta's error object, merged into the Partner API's document so
//! `openapi.json` and `/docs` describe every endpoint the Hub serves to software. The handlers
//! live in `http::messaging`; these declarations only describe them.
#![allow(dead_code)]

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{OpenApi, ToSchema};

/// Meta's error object, as every Messaging API failure answers.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CloudError {
    pub error: CloudErrorBody,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CloudErrorBody {
    /// Meta's wording, e.g. `(#131047) Re-engagement message`.
    pub message: String,
    /// `OAuthException`, or `insufficient_balance` for a 402.
    #[serde(rename = "type")]
    pub kind: String,
    /// Meta's code: 100 invalid parameter, 131047 re-engagement, 131026 undeliverable, 132001
    /// template does not exist, 131042 payment, 133010 number not registered, 0 authentication.
    pub code: i64,
    pub error_data: CloudErrorData,
    /// The request id, to quote to support.
    pub fbtrace_id: String,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CloudErrorData {
    /// Always `whatsapp`.
    pub messaging_product: String,
    /// What was wrong, naming the parameter (`Param to is not a valid phone number…`). A 402
    /// also carries `balance`, `currency` and `topup_url`.
    pub details: String,
}

/// The answer to a message the Hub accepted.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Sent {
    /// Always `whatsapp`.
    pub messaging_product: String,
    pub contacts: Vec<SentContact>,
    pub messages: Vec<SentId>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SentContact {
    /// `to` as sent.
    pub input: String,
    /// The recipient's WhatsApp id (E.164 digits).
    pub wa_id: String,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SentId {
    /// `wamid.…`: the id status webhooks and the ledger name.
    pub id: String,
}

/// Send a WhatsApp message from the key's number (Cloud API body). A template's category and
/// the recipient's country set the price, debited from the paying balance when accepted; a
/// retry with the same `Idempotency-Key` and body within 24 h answers the first result and
/// charges nothing again.
#[utoipa::path(
    post,
    path = "/messages",
    tag = "messaging",
    operation_id = "send_message",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–255 printable characters; the same key with another body is a 409")),
    request_body(content = Object, description = "`messaging_product` (`whatsapp`), `recipient_type` (`individual`), `to`, `type` (`text`, `template`, `image`, `document`, `audio`, `video`, `sticker`, `interactive`, `location`, `contacts`, `reaction`) and that type's object", content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted (and charged, when billable)", body = Sent),
        (status = 400, description = "Invalid parameter (100), re-engagement outside a customer service window (131047), template not approved (132001), number not running (133010)", body = CloudError),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
        (status = 402, description = "The paying balance is at or below 0 (131042, `insufficient_balance`); `error_data` has `balance`, `currency`, `topup_url`", body = CloudError),
        (status = 404, description = "No such template in that language (132001)", body = CloudError),
        (status = 409, description = "The Idempotency-Key was used with another body", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn send_message() {}

/// The older path of `POST /messages`, same body and answers.
#[utoipa::path(
    post,
    path = "/v1/messages",
    tag = "messaging",
    operation_id = "send_message_v1",
    params(("Idempotency-Key" = Option<String>, Header, description = "As for `POST /messages`")),
    request_body(content = Object, description = "As for `POST /messages`", content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted", body = Sent),
        (status = 400, description = "As for `POST /messages`", body = CloudError),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
        (status = 402, description = "The paying balance is at or below 0 (131042)", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn send_message_v1() {}

/// Whether the number can send now (`AVAILABLE` or `BLOCKED`, with the reasons).
#[utoipa::path(
    get,
    path = "/health_status",
    tag = "messaging",
    operation_id = "health_status",
    responses(
        (status = 200, description = "`{\"health_status\": {\"can_send_message\", \"entities\": [{\"entity_type\": \"PHONE_NUMBER\", \"id\", \"can_send_message\", \"errors\"}]}}`", body = Object),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn health_status() {}

/// Submit a message template for the number's WhatsApp Business Account; the provider approves
/// or rejects it (a `template_status_changed` partner event follows).
#[utoipa::path(
    post,
    path = "/v1/configs/templates",
    tag = "messaging",
    operation_id = "create_template",
    request_body(content = Object, description = "`name` (lower-case letters, digits, `_`), `category` (`MARKETING`, `UTILITY`, `AUTHENTICATION`), `language` (`en`, `en_US`…), `components` (array, at least a BODY)", content_type = "application/json"),
    responses(
        (status = 201, description = "Submitted: the template with `status` `submitted`", body = Object),
        (status = 400, description = "Invalid parameter (100)", body = CloudError),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
        (status = 409, description = "A template of that name and language exists", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn create_template() {}

/// The templates of the number's WhatsApp Business Account, newest first.
#[utoipa::path(
    get,
    path = "/v1/configs/templates",
    tag = "messaging",
    operation_id = "list_templates",
    params(
        ("limit" = Option<i64>, Query, description = "1–1000, default 20"),
        ("offset" = Option<i64>, Query, description = "Default 0"),
        ("name" = Option<String>, Query, description = "Exact name"),
        ("status" = Option<String>, Query, description = "`submitted`, `approved` or `rejected`"),
        ("category" = Option<String>, Query, description = "`MARKETING`, `UTILITY` or `AUTHENTICATION`"),
    ),
    responses(
        (status = 200, description = "`{\"count\", \"total\", \"limit\", \"offset\", \"waba_templates\": [...]}`", body = Object),
        (status = 400, description = "Invalid parameter (100)", body = CloudError),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn list_templates() {}

/// Delete a template (every language of the name).
#[utoipa::path(
    delete,
    path = "/v1/configs/templates/{name}",
    tag = "messaging",
    operation_id = "delete_template",
    params(("name" = String, Path, description = "The template's name")),
    responses(
        (status = 200, description = "Deleted", body = Object),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
        (status = 404, description = "No template of that name", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn delete_template() {}

/// Set the number's messaging webhook: statuses (with pricing) and inbound messages are
/// delivered there in the Cloud API shape, signed with the number's own secret
/// (Standard Webhooks headers and `X-Hub-Signature-256`).
#[utoipa::path(
    post,
    path = "/v1/configs/webhook",
    tag = "messaging",
    operation_id = "set_messaging_webhook",
    request_body(content = Object, description = "`url` (https; the same rules as partner webhooks) and `headers` (an object of up to 10 extra headers)", content_type = "application/json"),
    responses(
        (status = 200, description = "`{\"url\", \"headers\"}`, and `secret` (`whsec_…`) the first time, shown once", body = Object),
        (status = 400, description = "Invalid parameter (100)", body = CloudError),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn set_webhook() {}

/// The number's messaging webhook (header values hidden).
#[utoipa::path(
    get,
    path = "/v1/configs/webhook",
    tag = "messaging",
    operation_id = "get_messaging_webhook",
    responses(
        (status = 200, description = "`{\"url\", \"headers\"}`", body = Object),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
        (status = 404, description = "No webhook set", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn get_webhook() {}

/// (ext) A new signing secret for the number's messaging webhook, shown once; the old one stops
/// signing at once.
#[utoipa::path(
    post,
    path = "/v1/configs/webhook/rotate_secret",
    tag = "messaging",
    operation_id = "rotate_messaging_webhook_secret",
    responses(
        (status = 200, description = "`{\"secret\": \"whsec_…\"}`", body = Object),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
        (status = 404, description = "No webhook set", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn rotate_webhook_secret() {}

/// (sandbox only) A customer writes to the number: opens their 24-hour customer service window
/// and reaches the messaging webhook.
#[utoipa::path(
    post,
    path = "/v1/sandbox/inbound",
    tag = "messaging",
    operation_id = "sandbox_inbound",
    request_body(content = Object, description = "`from` (the customer's number), `text`", content_type = "application/json"),
    responses(
        (status = 200, description = "`{\"from\", \"window_expires_at\"}`", body = Object),
        (status = 400, description = "Invalid parameter (100)", body = CloudError),
        (status = 401, description = "No or unknown D360-API-KEY", body = CloudError),
        (status = 404, description = "Not the sandbox provider", body = CloudError),
    ),
    security(("d360_api_key" = [])),
)]
fn sandbox_inbound() {}

#[derive(OpenApi)]
#[openapi(
    paths(
        send_message,
        send_message_v1,
        health_status,
        create_template,
        list_templates,
        delete_template,
        set_webhook,
        get_webhook,
        rotate_webhook_secret,
        sandbox_inbound,
    ),
    components(schemas(CloudError, CloudErrorBody, CloudErrorData, Sent, SentContact, SentId)),
    modifiers(&D360Key),
    tags((name = "messaging", description = "The Messaging API on the Hub's own host (paths without `/api/v2`), authenticated with a number's `D360-API-KEY`: WhatsApp Cloud API bodies, answers and error objects, so a Cloud API SDK works by changing its base URL and auth header.")),
)]
pub struct MessagingDoc;

struct D360Key;

impl utoipa::Modify for D360Key {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "d360_api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "D360-API-KEY",
                "A number's messaging key, made with POST /api/v2/partners/{partner_id}/channels/{channel_id}/api_keys (shown once).",
            ))),
        );
    }
}
