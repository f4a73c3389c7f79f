//! Demo data for `partnerhub demo`: two partners, an Owner and a Member, someone in both partners
//! (so the account switcher shows), a Client Hub user of a demo client, and a staff login. Safe
//! to run again: rows are created when missing and the demo passwords are set to the one printed.

mod accounts;
mod billing;

use crate::error::AppError;
use crate::passwords;
use crate::services::audit::{self, Actor};
use crate::services::users::{self, NewUser};
use crate::state::AppState;
use domain::{Currency, Email, PartnerId, PaymentModel, PersonName, Role};
use store::partners::NewPartner;

pub const DEMO_PARTNER: &str = "Demo Partner";
pub const OTHER_PARTNER: &str = "Other Partner";

/// One login printed at start-up.
#[derive(Debug)]
pub struct DemoLogin {
    pub email: &'static str,
    pub what: &'static str,
}

#[derive(Debug)]
pub struct DemoSeed {
    pub demo_partner: PartnerId,
    pub other_partner: PartnerId,
    pub logins: Vec<DemoLogin>,
    /// A fresh partner API key of Demo Partner for trying the API with curl.
    pub api_key: String,
    /// A running number of Demo Partner with a fresh messaging key, for trying the Messaging API.
    pub messaging: Option<billing::DemoMessaging>,
}

const DEMO_KEY_NAME: &str = "Demo key (printed at start-up)";

/// A new demo API key each run; the previous run's demo key is revoked.
async fn fresh_api_key(state: &AppState, demo: &PartnerId) -> Result<String, AppError> {
    for key in crate::services::api_keys::partner_keys(state, demo).await? {
        if key.name == DEMO_KEY_NAME {
            crate::services::api_keys::revoke_partner_key(state, demo, &key.id, &Actor::System)
                .await?;
        }
    }
    Ok(
        crate::services::api_keys::create_partner_key(state, demo, DEMO_KEY_NAME, &Actor::System)
            .await?
            .secret,
    )
}

async fn ensure_partner(
    state: &AppState,
    name: &str,
    currency: Currency,
    payment_model: PaymentModel,
) -> Result<PartnerId, AppError> {
    if let Some(existing) = store::partners::by_name(state.db.pool(), name).await? {
        return Ok(existing.id);
    }
    let id = PartnerId::generate();
    {
        let mut tx = state.db.begin_write().await?;
        store::partners::create(
            &mut *tx,
            &NewPartner {
                id: &id,
                name,
                currency,
                payment_model,
            },
            // Older than its seeded history, as a partner with five weeks of numbers is.
            state.now_ms() - accounts::HISTORY_MS - 2 * 3_600_000,
        )
        .await?;
        tx.commit().await?;
    }
    audit::record(
        state.db.pool(),
        state,
        &Actor::System,
        Some(&id),
        "partner.create",
        id.as_str(),
        name,
    )
    .await?;
    Ok(id)
}

async fn ensure_user(
    state: &AppState,
    email: &str,
    name: &str,
    hash: &str,
    memberships: &[(&PartnerId, Role)],
) -> Result<(), AppError> {
    let email = Email::parse(email)?;
    // The people joined before the seeded history starts, so its notifications reach them.
    let now = state.now_ms() - accounts::HISTORY_MS - 3_600_000;
    let mut tx = state.db.begin_write().await?;
    let user = store::users::ensure(&mut tx, &email, name, now).await?;
    store::users::set_password(&mut *tx, &user.id, hash).await?;
    for (partner, role) in memberships {
        store::partners::add_member(&mut *tx, partner, &user.id, *role, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A pending invitation, so the Users tab and the staff outbox have something to show.
async fn ensure_pending_invitation(state: &AppState, demo: &PartnerId) -> Result<(), AppError> {
    let invitee = NewUser {
        name: PersonName::parse("Nora New")?,
        email: Email::parse("new.hire@demo.test")?,
        role: Role::Member,
    };
    let pending = store::invitations::pending(state.db.pool(), demo).await?;
    let joined = store::partners::has_member_email(state.db.pool(), demo, &invitee.email).await?;
    if !joined && !pending.iter().any(|i| i.email == invitee.email) {
        users::invite(state, demo, DEMO_PARTNER, &invitee, &Actor::System).await?;
    }
    Ok(())
}

/// Point Demo Partner's webhook URL at the development sink (unless someone set another), so
/// a newcomer sees signed deliveries arrive without running a server.
async fn ensure_demo_webhook(state: &AppState, demo: &PartnerId) -> Result<(), AppError> {
    if !state.config.dev {
        return Ok(());
    }
    let path = format!("/dev/webhook-sink/{demo}");
    let sink = state.config.link(&path);
    let endpoints = crate::services::webhooks::endpoints(state, demo).await?;
    // An earlier demo on another port pointed at its own sink: follow the Hub to this port.
    let keep = endpoints
        .webhook_url
        .as_deref()
        .is_some_and(|u| u == sink || !u.ends_with(&path));
    if keep {
        return Ok(());
    }
    let url = crate::services::webhooks::parse_url(
        state,
        crate::services::webhooks::UrlKind::Webhook,
        Some(&sink),
    )?;
    crate::services::webhooks::save_url(
        state,
        demo,
        crate::services::webhooks::UrlKind::Webhook,
        url.as_ref(),
        &Actor::System,
    )
    .await?;
    Ok(())
}

/// A logo drawn in code: a blue-to-green disc with a white ring, as a PNG.
fn demo_logo_png() -> Result<Vec<u8>, AppError> {
    const SIDE: u32 = 256;
    let centre = f64::from(SIDE) / 2.0;
    let picture = image::RgbaImage::from_fn(SIDE, SIDE, |x, y| {
        let (dx, dy) = (f64::from(x) - centre, f64::from(y) - centre);
        let r = (dx * dx + dy * dy).sqrt();
        let t = f64::from(x + y) / f64::from(2 * SIDE);
        // Channels stay within 0..=255 by construction; `as u8` only drops the fraction.
        let mix = |a: f64, b: f64| (a + (b - a) * t) as u8;
        if r > 120.0 {
            image::Rgba([0, 0, 0, 0])
        } else if (78.0..92.0).contains(&r) {
            image::Rgba([255, 255, 255, 255])
        } else {
            image::Rgba([mix(37.0, 16.0), mix(99.0, 185.0), mix(235.0, 129.0), 255])
        }
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgba8(picture)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(bytes)
}

/// Give Demo Partner a brand name and a logo, so the Profile tab and its preview look alive;
/// what someone set on the Profile tab is kept.
async fn ensure_demo_profile(state: &AppState, demo: &PartnerId) -> Result<(), AppError> {
    let Some(partner) = store::partners::get(state.db.pool(), demo).await? else {
        return Ok(());
    };
    let stored = crate::services::profile::profile(state, demo).await?;
    let brand_name = match stored.brand_name {
        Some(_) => None,
        None => Some(Some(domain::BrandName::parse("Demo Cloud Messaging")?)),
    };
    let logo = match stored.logo {
        Some(_) => None,
        None => Some(
            crate::services::profile::check_logo(demo_logo_png()?)
                .await
                .map_err(|e| AppError::Internal(e.into()))?,
        ),
    };
    if brand_name.is_none() && logo.is_none() {
        return Ok(());
    }
    let change = crate::services::profile::ProfileChange {
        brand_name,
        logo,
        allow_client_to_add_phone_no: None,
    };
    crate::services::profile::save(state, &partner, &change, &Actor::System).await
}

/// The demo client with a Client Hub login.
const CLIENT_HUB_CLIENT: &str = "Acme Shoes";
const CLIENT_HUB_LOGIN: &str = "client@demo.test";

/// A Client Hub login for one demo client of Demo Partner and, the first time, a partner change
/// request of that client towards Other Partner, so the Client Hub and Other Partner's Partner
/// Change page both have something to show. A client someone already moved away is left alone.
async fn ensure_client_hub(
    state: &AppState,
    demo: &PartnerId,
    other: &PartnerId,
    hash: &str,
) -> Result<(), AppError> {
    let pool = state.db.pool();
    let Some((client_id, _)) = store::clients::names(pool, demo, 1000)
        .await?
        .into_iter()
        .find(|(_, name)| name == CLIENT_HUB_CLIENT)
    else {
        return Ok(());
    };
    ensure_user(state, CLIENT_HUB_LOGIN, "Clara Client", hash, &[]).await?;
    let Some(user) = store::users::by_email(pool, &Email::parse(CLIENT_HUB_LOGIN)?).await? else {
        return Ok(());
    };
    {
        let mut tx = state.db.begin_write().await?;
        let written =
            store::client_users::add(&mut *tx, demo, &client_id, &user.id, state.now_ms()).await?;
        tx.commit().await?;
        written
    };
    let (Some(partner), Some(client), Some(waba)) = (
        store::partners::get(pool, demo).await?,
        store::clients::get(pool, demo, &client_id).await?,
        store::wabas::first_of_client(pool, demo, &client_id).await?,
    ) else {
        return Ok(());
    };
    if crate::services::partner_change::of_client(state, demo, &client_id)
        .await?
        .is_empty()
    {
        crate::services::partner_change::request(
            state,
            &partner,
            &client,
            waba.id.as_str(),
            other.as_str(),
            &user.id,
            &Actor::System,
        )
        .await?;
    }
    Ok(())
}

pub async fn seed(state: &AppState, password: &str) -> Result<DemoSeed, AppError> {
    let hash = passwords::hash(password).await?;
    let demo = ensure_partner(
        state,
        DEMO_PARTNER,
        Currency::Eur,
        PaymentModel::PartnerPayment,
    )
    .await?;
    let other = ensure_partner(
        state,
        OTHER_PARTNER,
        Currency::Usd,
        PaymentModel::DirectPayment,
    )
    .await?;
    ensure_user(
        state,
        "owner@demo.test",
        "Olivia Owner",
        &hash,
        &[(&demo, Role::Owner)],
    )
    .await?;
    ensure_user(
        state,
        "member@demo.test",
        "Max Member",
        &hash,
        &[(&demo, Role::Member)],
    )
    .await?;
    ensure_user(
        state,
        "owner@other.test",
        "Oscar Other",
        &hash,
        &[(&other, Role::Owner)],
    )
    .await?;
    ensure_user(
        state,
        "agency@demo.test",
        "Ada Agency",
        &hash,
        &[(&demo, Role::Owner), (&other, Role::Member)],
    )
    .await?;
    {
        let mut tx = state.db.begin_write().await?;
        store::staff::upsert(
            &mut *tx,
            &Email::parse("staff@demo.test")?,
            "Sam Staff",
            &hash,
            state.now_ms(),
        )
        .await?;
        tx.commit().await?;
    }
    ensure_pending_invitation(state, &demo).await?;
    ensure_demo_webhook(state, &demo).await?;
    ensure_demo_redirect(state, &demo).await?;
    ensure_demo_profile(state, &demo).await?;
    accounts::seed(state, &demo, &other).await?;
    ensure_client_hub(state, &demo, &other, &hash).await?;
    let messaging = billing::seed(state, &demo, &other).await?;
    history_already_read(state, &[&demo, &other]).await?;
    let api_key = fresh_api_key(state, &demo).await?;
    Ok(DemoSeed {
        api_key,
        messaging,
        demo_partner: demo,
        other_partner: other,
        logins: vec![
            DemoLogin {
                email: "owner@demo.test",
                what: "Owner of Demo Partner",
            },
            DemoLogin {
                email: "member@demo.test",
                what: "Member of Demo Partner",
            },
            DemoLogin {
                email: "owner@other.test",
                what: "Owner of Other Partner",
            },
            DemoLogin {
                email: "agency@demo.test",
                what: "Owner of Demo Partner and Member of Other Partner (account switcher)",
            },
            DemoLogin {
                email: CLIENT_HUB_LOGIN,
                what: "Client Hub user of Acme Shoes (a client of Demo Partner), at /client",
            },
            DemoLogin {
                email: "staff@demo.test",
                what: "BSP staff, at /staff/login",
            },
        ],
    })
}

/// A real partner has read its older notifications: only those of the history's last day
/// stay unread.
async fn history_already_read(state: &AppState, partners: &[&PartnerId]) -> Result<(), AppError> {
    const DAY_MS: i64 = 24 * 3_600_000;
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    for partner in partners {
        if let Some(newest) = store::notifications::newest_ms(&mut *tx, partner).await? {
            store::notifications::mark_read_before(&mut *tx, partner, newest - DAY_MS, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Demo Partner's Redirect URL is the development partner site's redirect page, so the printed
/// onboarding link ends on a page that shows the returned ids (development mode only). A URL
/// set by hand is kept; one pointing at an earlier demo's port follows the Hub.
async fn ensure_demo_redirect(state: &AppState, demo: &PartnerId) -> Result<(), AppError> {
    use crate::services::webhooks::{self, UrlKind};
    if !state.config.dev {
        return Ok(());
    }
    let path = format!("/dev/partner-site/{demo}/callback");
    let target = state.config.link(&path);
    let endpoints = webhooks::endpoints(state, demo).await?;
    let keep = endpoints
        .redirect_url
        .as_deref()
        .is_some_and(|u| u == target || !u.ends_with(&path));
    if keep {
        return Ok(());
    }
    let url = webhooks::parse_url(state, UrlKind::Redirect, Some(&target))?;
    webhooks::save_url(state, demo, UrlKind::Redirect, url.as_ref(), &Actor::System).await?;
    Ok(())
}
