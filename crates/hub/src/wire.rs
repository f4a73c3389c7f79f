//! The objects partners see on the wire (partner, client, channel), field for field as
//! `partner-api.md` documents them: the Partner API answers with them and webhook events carry
//! them, so both go through this one mapping. They describe themselves in the OpenAPI document.

use crate::clock::iso_ms;
use serde::Serialize;
use store::channels::{ChannelTexts, ChannelView};
use store::clients::Client as StoreClient;
use store::partners::{Partner as StorePartner, PartnerSettings};
use utoipa::ToSchema;

/// A partner: branding, payment model and defaults for new numbers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Partner<'a> {
    /// Eight characters ending in `PA`.
    #[schema(value_type = String, example = "a1B2c3PA")]
    pub id: &'a domain::PartnerId,
    pub name: &'a str,
    pub brand_name: Option<&'a str>,
    /// Absolute URL of the company logo (PNG, named by its content hash, cached for a year);
    /// `null` without a logo.
    pub logo_url: Option<String>,
    pub webhook_url: Option<&'a str>,
    pub partner_redirect_url: Option<&'a str>,
    pub country: Option<&'a str>,
    /// Lowercase currency code, e.g. `eur`.
    pub currency: &'a str,
    /// `partner_payment` or `direct_payment`.
    pub payment_model: &'a str,
    /// Whether existing clients may add numbers through Integrated Onboarding. Set by
    /// Partner-Payment partners; always `true` for Direct-Payment partners.
    pub allow_client_to_add_phone_no: bool,
    pub solution_id: Option<&'a str>,
    /// `cloud_api` or `on_premise`.
    pub default_hosting_type: &'a str,
    /// `null` is the US default, otherwise an ISO country code.
    pub default_data_storage_region: Option<&'a str>,
    pub settings: PartnerSettingsOut,
    /// ISO-8601 UTC.
    pub created_at: String,
}

/// Partner settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerSettingsOut {
    pub partner_change_request: AutoApprove,
}

/// Whether partner change requests are approved automatically.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutoApprove {
    pub auto_approve: bool,
}

/// The partner object; `logo_url` is the absolute URL of its stored logo, if any.
pub fn partner<'a>(
    p: &'a StorePartner,
    s: &'a PartnerSettings,
    logo_url: Option<String>,
) -> Partner<'a> {
    Partner {
        id: &p.id,
        name: &p.name,
        brand_name: s.brand_name.as_deref(),
        logo_url,
        webhook_url: s.webhook_url.as_deref(),
        partner_redirect_url: s.redirect_url.as_deref(),
        country: s.country.as_deref(),
        currency: p.currency.as_str(),
        payment_model: p.payment_model.as_str(),
        // Direct-Payment clients pay for their own numbers: nothing stops them adding one.
        allow_client_to_add_phone_no: p.payment_model == domain::PaymentModel::DirectPayment
            || s.allows_clients_to_add_numbers(),
        solution_id: s.solution_id.as_deref(),
        default_hosting_type: &s.default_hosting_type,
        default_data_storage_region: s.default_data_storage_region.as_deref(),
        settings: PartnerSettingsOut {
            partner_change_request: AutoApprove {
                auto_approve: s.auto_approves_partner_changes(),
            },
        },
        created_at: iso_ms(p.created_ms),
    }
}

/// A client's contact details.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ContactInfo {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub street_name: Option<String>,
    pub zip_code: Option<String>,
    pub webpage_url: Option<String>,
    pub language: Option<String>,
}

/// The person at the client who uses the account.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ContactUser {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// What the client's business does.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MetaInfo {
    pub business_vertical: Option<String>,
    pub timezone: Option<String>,
    pub about: Option<String>,
    pub business_description: Option<String>,
    pub use_case: Option<String>,
}

/// A client (the business that owns numbers).
#[derive(Debug, Serialize, ToSchema)]
pub struct Client<'a> {
    /// Eight characters ending in `CL`.
    #[schema(value_type = String, example = "a1B2c3CL")]
    pub id: &'a domain::ClientId,
    pub name: &'a str,
    /// `active` or `suspended`.
    pub status: &'a str,
    pub organisation: Option<&'a str>,
    pub max_channels: i64,
    pub partner_payload: Option<&'a str>,
    #[schema(value_type = ContactInfo)]
    pub contact_info: &'a store::clients::ContactInfo,
    #[schema(value_type = ContactUser)]
    pub contact_user: &'a store::clients::ContactUser,
    #[schema(value_type = MetaInfo)]
    pub meta_info: &'a store::clients::MetaInfo,
    pub created_at: String,
    pub modified_at: String,
}

pub fn client(c: &StoreClient) -> Client<'_> {
    Client {
        id: &c.id,
        name: &c.name,
        status: &c.status,
        organisation: c.organisation.as_deref(),
        max_channels: c.max_channels,
        partner_payload: c.partner_payload.as_deref(),
        contact_info: &c.contact_info,
        contact_user: &c.contact_user,
        meta_info: &c.meta_info,
        created_at: iso_ms(c.created_ms),
        modified_at: iso_ms(c.modified_ms),
    }
}

fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso_ms)
}

/// The client a channel belongs to, in brief.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelClient<'a> {
    #[schema(value_type = String)]
    pub id: &'a str,
    #[schema(value_type = String)]
    pub name: &'a str,
    #[schema(value_type = Option<String>)]
    pub partner_payload: Option<&'a str>,
    pub contact_info: ChannelClientContact<'a>,
}

/// The client's contact email.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelClientContact<'a> {
    #[schema(value_type = Option<String>)]
    pub email: Option<&'a str>,
}

/// How the number was registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupInfo<'a> {
    /// E.164.
    #[schema(value_type = String)]
    pub phone_number: &'a str,
    #[schema(value_type = String)]
    pub phone_name: &'a str,
    /// `sms` or `voice`.
    #[schema(value_type = String)]
    pub verification_method: &'a str,
    #[schema(value_type = Option<String>)]
    pub default_language: Option<&'a str>,
}

/// The WhatsApp Business Account the number lives in.
#[derive(Debug, Serialize, ToSchema)]
pub struct WabaAccount<'a> {
    /// Eight characters ending in `WA`.
    #[schema(value_type = String)]
    pub id: &'a str,
    #[schema(value_type = Option<String>)]
    pub external_id: Option<&'a str>,
    #[schema(value_type = String)]
    pub name: &'a str,
    #[schema(value_type = Option<String>)]
    pub namespace: Option<&'a str>,
    /// `verified`, `not_verified`, `pending`, `pending_submission`, `pending_need_more_info`,
    /// `rejected` or `failed`.
    #[schema(value_type = String)]
    pub fb_account_status: &'a str,
    pub on_behalf_of_business_info: BusinessInfo<'a>,
}

/// The Meta business the WABA belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessInfo<'a> {
    #[schema(value_type = Option<String>)]
    pub id: Option<&'a str>,
    #[schema(value_type = Option<String>)]
    pub name: Option<&'a str>,
    #[schema(value_type = Option<String>)]
    pub status: Option<&'a str>,
    #[serde(rename = "type")]
    #[schema(rename = "type", value_type = Option<String>)]
    pub kind: Option<&'a str>,
}

/// A channel: one phone number of a client.
#[derive(Debug, Serialize, ToSchema)]
pub struct Channel<'a> {
    /// Eight characters ending in `CH`.
    #[schema(value_type = String, example = "a1B2c3CH")]
    pub id: &'a str,
    #[schema(value_type = String)]
    pub client_id: &'a str,
    #[schema(value_type = String)]
    pub waba_account_id: &'a str,
    /// `created`, `pending_verification`, `verified`, `ready`, `running`, `error`,
    /// `migration_requested`, `waiting_for_code`, `pending_deletion` or `cancelled`.
    #[schema(value_type = String)]
    pub status: &'a str,
    /// `sandbox` or `live`.
    #[schema(value_type = String)]
    pub account_mode: &'a str,
    #[schema(value_type = String)]
    pub hosting_type: &'a str,
    #[schema(value_type = Option<String>)]
    pub data_storage_region: Option<&'a str>,
    /// `shared` or `missing`.
    #[schema(value_type = String)]
    pub partner_permission: &'a str,
    pub created_at: String,
    pub modified_at: String,
    pub billing_started_at: Option<String>,
    pub terminated_at: Option<String>,
    pub cancelled_at: Option<String>,
    /// `TIER_250`, `TIER_1K`, `TIER_10K`, `TIER_100K` or `TIER_UNLIMITED`.
    #[schema(value_type = Option<String>)]
    pub current_limit: Option<&'a str>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    #[schema(value_type = String)]
    pub current_quality_rating: &'a str,
    #[schema(value_type = Option<String>)]
    pub external_id: Option<&'a str>,
    pub is_migrated: bool,
    pub client: ChannelClient<'a>,
    pub setup_info: SetupInfo<'a>,
    pub waba_account: WabaAccount<'a>,
}

pub fn channel(c: &ChannelView) -> Channel<'_> {
    channel_from_texts(&c.texts())
}

/// A channel's object from its fields as texts (a PostgreSQL list page's rows lend them).
pub fn channel_from_texts<'a>(c: &ChannelTexts<'a>) -> Channel<'a> {
    Channel {
        id: c.id,
        client_id: c.client_id,
        waba_account_id: c.waba_id,
        status: c.status,
        account_mode: c.account_mode,
        hosting_type: c.hosting_type,
        data_storage_region: c.data_storage_region,
        partner_permission: c.partner_permission,
        created_at: iso_ms(c.created_ms),
        modified_at: iso_ms(c.modified_ms),
        billing_started_at: iso_opt(c.billing_started_ms),
        terminated_at: iso_opt(c.terminated_ms),
        cancelled_at: iso_opt(c.cancelled_ms),
        current_limit: c.current_limit,
        current_quality_rating: c.quality_rating,
        external_id: c.external_id,
        is_migrated: c.is_migrated,
        client: ChannelClient {
            id: c.client_id,
            name: c.client_name,
            partner_payload: c.client_partner_payload,
            contact_info: ChannelClientContact {
                email: c.client_email,
            },
        },
        setup_info: SetupInfo {
            phone_number: c.phone_number,
            phone_name: c.phone_name,
            verification_method: c.verification_method,
            default_language: c.default_language,
        },
        waba_account: WabaAccount {
            id: c.waba_id,
            external_id: c.waba_external_id,
            name: c.waba_name,
            namespace: c.waba_namespace,
            fb_account_status: c.waba_fb_account_status,
            on_behalf_of_business_info: BusinessInfo {
                id: c.waba_business_id,
                name: c.waba_business_name,
                status: c.waba_business_status,
                kind: c.waba_business_type,
            },
        },
    }
}
