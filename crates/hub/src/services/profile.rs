//! The partner profile: company logo, brand name and Allow clients to add phone number.
//!
//! Logos are checked here rather than in `domain` because checking one means decoding it with an
//! image codec (on a blocking thread): the rules it obeys — 1 MB, PNG/JPEG/WebP told by their
//! bytes, at most 4096 × 4096 pixels (read from the header, before any pixel is decoded) and 64 MB
//! of decoder memory, two decodes at a time per process, stored within 512 × 512 —
//! live in `domain::logo`. Every accepted logo is decoded and re-encoded as PNG, so whatever
//! else the uploaded file carried (metadata, a payload appended after the image) is dropped.

use crate::error::AppError;
use crate::services::audit::{self, Actor};
use crate::state::AppState;
use domain::logo::{self, LogoError, LogoFormat};
use domain::{BrandName, PartnerId, PaymentModel};
use sha2::{Digest, Sha256};
use std::io::Cursor;
use store::partners::Partner;

/// The message for a Direct-Payment partner that tries to set the toggle.
pub const TOGGLE_NOT_FOR_DIRECT_PAYMENT: &str = "Allow clients to add phone number applies to Partner-Payment partners only: with Direct-Payment each client pays for its own numbers and may always add them.";

/// A logo that passed every check, re-encoded and ready to store (or to preview).
#[derive(Clone, Debug)]
pub struct CheckedLogo {
    /// What the upload was, by its bytes.
    pub source: LogoFormat,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 prefix of `bytes`; names the logo in its public URL.
    pub hash: String,
}

impl CheckedLogo {
    /// The logo inlined as a `data:` URL, for previews of logos that are not stored.
    pub fn data_url(&self) -> String {
        use base64::Engine as _;
        format!(
            "data:{};base64,{}",
            self.content_type,
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }
}

/// How many logos are decoded at once in this process. One decode may take 64 MB and a core for
/// a moment, so eight uploads at once must queue rather than take half a gigabyte.
const DECODES_AT_ONCE: usize = 2;
static DECODERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODES_AT_ONCE);

/// Check an uploaded logo by its content and re-encode it. Nothing is stored.
pub async fn check_logo(upload: Vec<u8>) -> Result<CheckedLogo, LogoError> {
    if upload.len() > logo::MAX_UPLOAD_BYTES {
        return Err(LogoError::TooLarge);
    }
    let source = LogoFormat::sniff(&upload)?;
    // The semaphore is never closed, so acquiring only waits.
    let _turn = DECODERS
        .acquire()
        .await
        .map_err(|_| LogoError::Corrupt(source.label()))?;
    // Decoding and resizing take real CPU time: keep them off the async workers.
    tokio::task::spawn_blocking(move || reencode(&upload, source))
        .await
        .unwrap_or(Err(LogoError::Corrupt(source.label())))
}

fn reencode(upload: &[u8], source: LogoFormat) -> Result<CheckedLogo, LogoError> {
    let format = match source {
        LogoFormat::Png => image::ImageFormat::Png,
        LogoFormat::Jpeg => image::ImageFormat::Jpeg,
        LogoFormat::WebP => image::ImageFormat::WebP,
    };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(logo::MAX_DECODED_SIDE);
    limits.max_image_height = Some(logo::MAX_DECODED_SIDE);
    limits.max_alloc = Some(logo::MAX_DECODE_ALLOC_BYTES);
    let mut reader = image::ImageReader::with_format(Cursor::new(upload), format);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => LogoError::DimensionsTooLarge,
        _ => LogoError::Corrupt(source.label()),
    })?;
    let (width, height) = logo::stored_size(decoded.width(), decoded.height());
    let resized = if (width, height) == (decoded.width(), decoded.height()) {
        decoded
    } else {
        decoded.resize_exact(width, height, image::imageops::FilterType::Triangle)
    };
    // Eight bits per channel, alpha only where the source had it: what browsers show anyway.
    let normalised = if resized.color().has_alpha() {
        image::DynamicImage::ImageRgba8(resized.into_rgba8())
    } else {
        image::DynamicImage::ImageRgb8(resized.into_rgb8())
    };
    let mut bytes = Vec::new();
    normalised
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|_| LogoError::Corrupt(source.label()))?;
    let hash = hex::encode(Sha256::digest(&bytes))[..32].to_owned();
    Ok(CheckedLogo {
        source,
        content_type: logo::STORED_CONTENT_TYPE,
        width,
        height,
        bytes,
        hash,
    })
}

/// The public path of a stored logo: the hash changes with the logo, so the URL is immutable.
pub fn logo_path(partner: &PartnerId, hash: &str) -> String {
    format!("/logos/{partner}/{hash}.{}", logo::STORED_EXTENSION)
}

/// The absolute URL of a stored logo (for the Partner API).
pub fn logo_url(state: &AppState, partner: &PartnerId, hash: &str) -> String {
    state.config.link(&logo_path(partner, hash))
}

/// Does this partner see (and may it set) Allow clients to add phone number?
pub fn has_number_toggle(partner: &Partner) -> bool {
    partner.payment_model == PaymentModel::PartnerPayment
}

/// One save of the profile form (or a PATCH): `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChange {
    /// `Some(None)` clears the brand name (the API's `null`).
    pub brand_name: Option<Option<BrandName>>,
    pub logo: Option<CheckedLogo>,
    pub allow_client_to_add_phone_no: Option<bool>,
}

/// Refuse what this partner cannot have before anything is written.
pub fn check_change(partner: &Partner, change: &ProfileChange) -> Result<(), AppError> {
    if change.allow_client_to_add_phone_no.is_some() && !has_number_toggle(partner) {
        return Err(AppError::Unprocessable(
            TOGGLE_NOT_FOR_DIRECT_PAYMENT.into(),
        ));
    }
    Ok(())
}

/// Apply a profile change in one transaction, each changed field audited.
pub async fn save(
    state: &AppState,
    partner: &Partner,
    change: &ProfileChange,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    save_in(&mut tx, state, partner, change, actor).await?;
    tx.commit().await?;
    Ok(())
}

/// `save` inside the caller's transaction.
pub async fn save_in(
    tx: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &Partner,
    change: &ProfileChange,
    actor: &Actor,
) -> Result<(), AppError> {
    check_change(partner, change)?;
    let id = &partner.id;
    if let Some(brand) = &change.brand_name {
        let value = brand.as_ref().map(BrandName::as_str);
        store::partners::update_settings(&mut *tx, id, Some(value), None).await?;
        audit::record(
            &mut *tx,
            state,
            actor,
            Some(id),
            "partner.brand_name",
            id.as_str(),
            value.unwrap_or("(cleared)"),
        )
        .await?;
    }
    if let Some(logo) = &change.logo {
        store::logos::set(
            &mut *tx,
            id,
            &store::logos::NewLogo {
                content_type: logo.content_type,
                content_hash: &logo.hash,
                width: logo.width,
                height: logo.height,
                bytes: &logo.bytes,
            },
            state.now_ms(),
        )
        .await?;
        audit::record(
            &mut *tx,
            state,
            actor,
            Some(id),
            "partner.logo",
            id.as_str(),
            &format!(
                "{} upload stored as {}×{} PNG ({})",
                logo.source.label(),
                logo.width,
                logo.height,
                logo.hash
            ),
        )
        .await?;
    }
    if let Some(allow) = change.allow_client_to_add_phone_no {
        store::partners::set_allow_client_to_add_phone_no(&mut *tx, id, allow).await?;
        audit::record(
            &mut *tx,
            state,
            actor,
            Some(id),
            "partner.allow_client_to_add_phone_no",
            id.as_str(),
            if allow { "on" } else { "off" },
        )
        .await?;
    }
    Ok(())
}

/// Remove the logo; `false` when there was none.
pub async fn remove_logo(
    state: &AppState,
    partner: &PartnerId,
    actor: &Actor,
) -> Result<bool, AppError> {
    let mut tx = state.db.begin_write().await?;
    let removed = store::logos::remove(&mut *tx, partner).await?;
    if removed {
        audit::record(
            &mut *tx,
            state,
            actor,
            Some(partner),
            "partner.logo.remove",
            partner.as_str(),
            "",
        )
        .await?;
    }
    tx.commit().await?;
    Ok(removed)
}

/// The profile as it is stored, for the Profile tab and the saved-values preview.
#[derive(Clone, Debug)]
pub struct Profile {
    pub brand_name: Option<String>,
    pub logo: Option<store::logos::LogoMeta>,
    pub allow_client_to_add_phone_no: bool,
}

pub async fn profile(state: &AppState, partner: &PartnerId) -> Result<Profile, AppError> {
    let settings = store::partners::settings(state.db.pool(), partner)
        .await?
        .ok_or(AppError::NotFound)?;
    let logo = store::logos::meta(state.db.pool(), partner).await?;
    Ok(Profile {
        allow_client_to_add_phone_no: settings.allows_clients_to_add_numbers(),
        brand_name: settings.brand_name,
        logo,
    })
}
