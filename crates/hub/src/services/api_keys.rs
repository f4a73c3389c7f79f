//! API keys. Channel keys (Messaging API) need the partner's permission on the number and a
//! running number, at most one new key per 30 s per channel, and a new key revokes the old ones.
//! Partner keys (Partner API) are named by Owners. Bearer tokens come from email + password.
//! Every secret is shown once and stored as a digest.

use crate::error::AppError;
use crate::services::audit::ClientMeta;
use crate::services::audit::{self, Actor};
use crate::services::auth::{self, LoginError};
use crate::state::AppState;
use crate::state::key_cache::{CachedKey, TOUCH_EVERY_MS};
use domain::{
    ApiKeyId, ChannelId, ChannelStatus, ClientId, FieldError, PartnerId, PartnerPermission,
    PaymentModel, SecretToken, TokenHash, UserId,
};
use store::api_keys::{ChannelKey, PartnerKey};
use store::channels::ChannelView;
use store::partners::Partner;

const CHANNEL_KEY_INTERVAL_MS: i64 = 30_000;
pub const TOKEN_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// A secret just made: the plaintext goes to the caller once.
#[derive(Debug)]
pub struct NewSecret<K> {
    pub key: K,
    pub secret: String,
}

fn prefix_of(secret: &str) -> String {
    secret.chars().take(8).collect()
}

pub async fn create_channel_key(
    state: &AppState,
    partner: &Partner,
    channel_id: &ChannelId,
    actor: &Actor,
) -> Result<NewSecret<ChannelKey>, AppError> {
    let channel = store::channels::get(state.db.pool(), &partner.id, channel_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if channel.partner_permission != PartnerPermission::Shared.as_str() {
        return Err(AppError::Forbidden(
            "The client has not shared this number with you, so you cannot create its API key. The client can grant permission in the onboarding flow or the Client Hub.".into(),
        ));
    }
    issue_channel_key(state, partner, &channel, actor, "channel_api_key.create").await
}

/// A client's own messaging key (Client Hub), for a Direct-Payment number its partner has no
/// permission on: the client pays the BSP itself and runs its own software. Once the partner has
/// permission, the partner manages the keys, so the client is refused.
pub async fn create_client_channel_key(
    state: &AppState,
    partner: &Partner,
    client: &ClientId,
    channel_id: &ChannelId,
    actor: &Actor,
) -> Result<NewSecret<ChannelKey>, AppError> {
    let channel = store::channels::get(state.db.pool(), &partner.id, channel_id)
        .await?
        .filter(|c| &c.client_id == client)
        .ok_or(AppError::NotFound)?;
    if partner.payment_model != PaymentModel::DirectPayment {
        return Err(AppError::Forbidden(format!(
            "{} pays for this number (Partner-Payment), so it manages the number's API keys.",
            partner.name
        )));
    }
    if channel.partner_permission == PartnerPermission::Shared.as_str() {
        return Err(AppError::Forbidden(format!(
            "{} has permission on this number, so it manages the number's API keys. Revoke the permission to manage them yourself.",
            partner.name
        )));
    }
    issue_channel_key(
        state,
        partner,
        &channel,
        actor,
        "channel_api_key.create_by_client",
    )
    .await
}

/// Make a channel's new key (revoking the older ones) once the caller's permission rule passed:
/// the number must be running, and at most one key per 30 s per channel.
async fn issue_channel_key(
    state: &AppState,
    partner: &Partner,
    channel: &ChannelView,
    actor: &Actor,
    action: &'static str,
) -> Result<NewSecret<ChannelKey>, AppError> {
    let channel_id = &channel.id;
    if channel.status != ChannelStatus::Running {
        return Err(AppError::Unprocessable(format!(
            "API keys can be created only for running numbers; this one is {}.",
            channel.status.as_str()
        )));
    }
    let now = state.now_ms();
    if let Some(last) =
        store::api_keys::last_channel_key_ms(state.db.pool(), &partner.id, channel_id).await?
    {
        let wait = last + CHANNEL_KEY_INTERVAL_MS - now;
        if wait > 0 {
            return Err(AppError::RateLimited {
                retry_after_secs: u64::try_from((wait + 999) / 1000).unwrap_or(30),
            });
        }
    }
    let secret = SecretToken::generate();
    let id = ApiKeyId::generate();
    let app_id = ApiKeyId::generate().to_string();
    let mut tx = state.db.begin_write().await?;
    let prefix = prefix_of(secret.expose());
    let new_key = store::api_keys::NewKey {
        id: &id,
        key_hash: &secret.hash(),
        prefix: &prefix,
    };
    store::api_keys::replace_channel_key(&mut tx, &partner.id, channel_id, &new_key, &app_id, now)
        .await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        action,
        channel_id.as_str(),
        id.as_str(),
    )
    .await?;
    tx.commit().await?;
    state.messaging_keys.forget_channel(channel_id);
    let key = ChannelKey {
        id,
        channel_id: channel_id.clone(),
        prefix: prefix_of(secret.expose()),
        app_id,
        created_ms: now,
    };
    Ok(NewSecret {
        key,
        secret: secret.expose().to_owned(),
    })
}

pub async fn channel_keys(
    state: &AppState,
    partner: &Partner,
    channel_id: &ChannelId,
) -> Result<Vec<ChannelKey>, AppError> {
    store::channels::get(state.db.pool(), &partner.id, channel_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(store::api_keys::channel_keys(state.db.pool(), &partner.id, channel_id).await?)
}

pub async fn revoke_channel_keys(
    state: &AppState,
    partner: &Partner,
    channel_id: &ChannelId,
    actor: &Actor,
) -> Result<u64, AppError> {
    store::channels::get(state.db.pool(), &partner.id, channel_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin_write().await?;
    let n = store::api_keys::revoke_channel_keys(&mut *tx, &partner.id, channel_id, state.now_ms())
        .await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "channel_api_key.revoke",
        channel_id.as_str(),
        &n.to_string(),
    )
    .await?;
    tx.commit().await?;
    state.messaging_keys.forget_channel(channel_id);
    Ok(n)
}

/// A partner API key's name: what it is for, so Owners can tell keys apart.
pub fn parse_key_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new(
            "name",
            "is required (say what the key is for, e.g. \"CRM sync\")",
        ));
    }
    if name.chars().count() > domain::limits::API_KEY_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(FieldError::new(
            "name",
            format!(
                "must be at most {} printable characters",
                domain::limits::API_KEY_NAME_CHARS
            ),
        ));
    }
    Ok(name.to_owned())
}

pub async fn create_partner_key(
    state: &AppState,
    partner: &PartnerId,
    name: &str,
    actor: &Actor,
) -> Result<NewSecret<PartnerKey>, AppError> {
    let name = parse_key_name(name)?;
    let secret = SecretToken::generate();
    let id = ApiKeyId::generate();
    let now = state.now_ms();
    let created_by = actor.id().unwrap_or("system").to_owned();
    let mut tx = state.db.begin_write().await?;
    let prefix = prefix_of(secret.expose());
    let new_key = store::api_keys::NewKey {
        id: &id,
        key_hash: &secret.hash(),
        prefix: &prefix,
    };
    store::api_keys::create_partner_key(&mut *tx, partner, &new_key, &name, &created_by, now)
        .await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner_api_key.create",
        id.as_str(),
        &name,
    )
    .await?;
    tx.commit().await?;
    let key = PartnerKey {
        id,
        partner_id: partner.clone(),
        name,
        prefix: prefix_of(secret.expose()),
        created_by,
        created_ms: now,
        last_used_ms: None,
    };
    Ok(NewSecret {
        key,
        secret: secret.expose().to_owned(),
    })
}

pub async fn partner_keys(
    state: &AppState,
    partner: &PartnerId,
) -> Result<Vec<PartnerKey>, AppError> {
    Ok(store::api_keys::partner_keys(state.db.pool(), partner).await?)
}

pub async fn revoke_partner_key(
    state: &AppState,
    partner: &PartnerId,
    id: &ApiKeyId,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    if !store::api_keys::revoke_partner_key(&mut *tx, partner, id, state.now_ms()).await? {
        return Err(AppError::NotFound);
    }
    state.key_cache.forget(id);
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner_api_key.revoke",
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A presented `X-API-Key` and the partner it belongs to.
pub async fn partner_key(
    state: &AppState,
    presented: &str,
) -> Result<Option<(PartnerKey, Partner)>, AppError> {
    let hash = TokenHash::of(presented);
    let now = state.now_ms();
    let mut entry = match state.key_cache.get(hash.as_str(), now) {
        Some(entry) => entry,
        None => {
            let key = match store::api_keys::partner_key_by_hash(state.db.pool(), &hash).await? {
                Some(key) => store::partners::get(state.db.pool(), &key.partner_id)
                    .await?
                    .map(|partner| (key, partner)),
                None => None,
            };
            CachedKey {
                key,
                fetched_ms: now,
                touched_ms: 0,
            }
        }
    };
    if let Some((key, _)) = &entry.key
        && now - entry.touched_ms >= TOUCH_EVERY_MS
    {
        {
            let mut tx = state.db.begin_write().await?;
            store::api_keys::touch_partner_key(&mut *tx, &key.id, now).await?;
            tx.commit().await?;
        }
        entry.touched_ms = now;
    }
    let key = entry.key.clone();
    state.key_cache.put(hash.as_str().to_owned(), entry);
    Ok(key)
}

pub async fn token_user(state: &AppState, presented: &str) -> Result<Option<UserId>, AppError> {
    Ok(
        store::api_keys::token_user(state.db.pool(), &TokenHash::of(presented), state.now_ms())
            .await?,
    )
}

/// Email + password → a bearer token for 24 h, with the same throttles as the login form.
pub async fn issue_token(
    state: &AppState,
    email: &str,
    password: &str,
    meta: &ClientMeta,
) -> Result<String, LoginError> {
    let user = auth::check_user(state, email, password, meta).await?;
    let token = SecretToken::generate();
    let now = state.now_ms();
    {
        let mut tx = state.db.begin_write().await?;
        store::api_keys::create_token(&mut *tx, &token.hash(), &user.id, now, now + TOKEN_TTL_MS)
            .await?;
        // An integration that signs in from here is known here, as a person's browser is:
        // strangers' guesses never slow its token requests down.
        store::sessions::remember_address(
            &mut *tx,
            store::sessions::SessionKind::User,
            user.id.as_str(),
            &meta.ip,
            now,
        )
        .await?;
        tx.commit().await?;
    }
    Ok(token.expose().to_owned())
}
