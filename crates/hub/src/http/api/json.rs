//! The Partner API's objects, field for field as `partner-api.md` documents them.

use crate::clock::iso_ms;
use domain::listing::ListQuery;
use serde_json::{Value, json};
use store::channels::ChannelView;
use store::clients::Client;
use store::partners::{Partner, PartnerSettings};

pub fn partner(p: &Partner, s: &PartnerSettings) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "brand_name": s.brand_name,
        "logo_url": Value::Null,
        "webhook_url": Value::Null,
        "partner_redirect_url": Value::Null,
        "country": s.country,
        "currency": p.currency.as_str(),
        "payment_model": p.payment_model.as_str(),
        "allow_client_to_add_phone_no": true,
        "solution_id": s.solution_id,
        "default_hosting_type": s.default_hosting_type,
        "default_data_storage_region": s.default_data_storage_region,
        "settings": { "partner_change_request": { "auto_approve": false } },
        "created_at": iso_ms(p.created_ms),
    })
}

pub fn client(c: &Client) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "status": c.status,
        "organisation": c.organisation,
        "max_channels": c.max_channels,
        "partner_payload": c.partner_payload,
        "contact_info": c.contact_info,
        "contact_user": c.contact_user,
        "meta_info": c.meta_info,
        "created_at": iso_ms(c.created_ms),
        "modified_at": iso_ms(c.modified_ms),
    })
}

fn iso_opt(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(iso_ms(ms)))
}

pub fn channel(c: &ChannelView) -> Value {
    json!({
        "id": c.id,
        "client_id": c.client_id,
        "waba_account_id": c.waba_id,
        "status": c.status.as_str(),
        "account_mode": c.account_mode,
        "hosting_type": c.hosting_type,
        "data_storage_region": c.data_storage_region,
        "partner_permission": c.partner_permission,
        "created_at": iso_ms(c.created_ms),
        "modified_at": iso_ms(c.modified_ms),
        "billing_started_at": iso_opt(c.billing_started_ms),
        "terminated_at": iso_opt(c.terminated_ms),
        "cancelled_at": iso_opt(c.cancelled_ms),
        "current_limit": c.current_limit,
        "current_quality_rating": c.quality_rating,
        "external_id": c.external_id,
        "is_migrated": c.is_migrated,
        "client": {
            "id": c.client_id,
            "name": c.client_name,
            "partner_payload": c.client_partner_payload,
            "contact_info": { "email": c.client_email },
        },
        "setup_info": {
            "phone_number": c.phone_number,
            "phone_name": c.phone_name,
            "verification_method": c.verification_method,
            "default_language": c.default_language,
        },
        "waba_account": {
            "id": c.waba_id,
            "external_id": c.waba_external_id,
            "name": c.waba_name,
            "namespace": c.waba_namespace,
            "fb_account_status": c.waba_fb_account_status,
            "on_behalf_of_business_info": {
                "id": c.waba_business_id,
                "name": c.waba_business_name,
                "status": c.waba_business_status,
                "type": c.waba_business_type,
            },
        },
    })
}

/// The list envelope, echoing how the list was asked for.
pub fn list(key: &str, items: Vec<Value>, total: i64, query: &ListQuery) -> Value {
    let mut body = json!({
        "count": items.len(),
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
        "filters": query.filters_json(),
        "sort": query.sort_strings(),
    });
    if let Some(map) = body.as_object_mut() {
        map.insert(key.to_owned(), Value::Array(items));
    }
    body
}
