//! Bulk data for the API benchmark: one partner with 100,000 channels across 5,000 clients and
//! 99 other partners with 1,000 channels each, written straight through the store in large
//! transactions (the services' one-number-at-a-time path would take far longer than the run).

use anyhow::Context;
use domain::{ChannelId, ChannelStatus, ClientId, Currency, PartnerId, PaymentModel, WabaId};
use hub::state::AppState;
use store::channels::NewChannel;
use store::clients::{ContactInfo, ContactUser, MetaInfo, NewClient};
use store::wabas::NewWaba;

pub struct Seeded {
    pub partner: PartnerId,
    pub api_key: String,
    /// One of the partners with 1,000 channels, and its API key: the small list of the
    /// deep-page scenarios.
    pub small_partner: PartnerId,
    pub small_api_key: String,
    pub clients: Vec<ClientId>,
    pub channels: usize,
    pub other_channels: usize,
}

const STATUSES: &[ChannelStatus] = &[
    ChannelStatus::Running,
    ChannelStatus::Running,
    ChannelStatus::Running,
    ChannelStatus::PendingVerification,
    ChannelStatus::Running,
    ChannelStatus::PendingDeletion,
    ChannelStatus::Running,
    ChannelStatus::Cancelled,
    ChannelStatus::Running,
    ChannelStatus::Error,
];

/// Insert `clients` clients with `per_client` channels each for `partner`, numbering phones
/// from `first_phone`.
/// `clients` clients with `per_client` numbers each, their statuses taken in turn from
/// `statuses`.
pub async fn fill(
    state: &AppState,
    partner: &PartnerId,
    clients: usize,
    per_client: usize,
    first_phone: u64,
    base_ms: i64,
    statuses: &[ChannelStatus],
) -> anyhow::Result<Vec<ClientId>> {
    let mut ids = Vec::with_capacity(clients);
    let mut phone = first_phone;
    let mut tx = state.db.begin_write().await?;
    let mut pending = 0;
    for c in 0..clients {
        let client = ClientId::generate();
        let name = format!("Client {c}");
        let contact = ContactInfo {
            email: Some(format!("owner{c}@client{c}.example")),
            ..ContactInfo::default()
        };
        store::clients::create(
            &mut *tx,
            partner,
            &NewClient {
                id: &client,
                name: &name,
                organisation: Some(&name),
                max_channels: 1000,
                partner_payload: None,
                contact_info: &contact,
                contact_user: &ContactUser::default(),
                meta_info: &MetaInfo::default(),
            },
            base_ms,
        )
        .await?;
        let waba = WabaId::generate();
        store::wabas::create(
            &mut *tx,
            partner,
            &NewWaba {
                id: &waba,
                client_id: &client,
                name: &name,
                external_id: Some("100000000000001"),
                namespace: Some("bench"),
                fb_account_status: "verified",
                business_name: Some(&name),
            },
            base_ms,
        )
        .await?;
        for n in 0..per_client {
            phone += 1;
            let number = format!("+{phone}");
            let display = format!("Line {n} of client {c}");
            let status = statuses[(phone as usize) % statuses.len()];
            let search = format!(
                "{number} {} {display} {name} owner{c}@client{c}.example",
                &number[1..]
            )
            .to_lowercase();
            let created = base_ms + (phone - first_phone) as i64 * 1000;
            loop {
                let id = ChannelId::generate();
                let new = NewChannel {
                    id: &id,
                    client_id: &client,
                    waba_id: &waba,
                    phone_number: &number,
                    phone_name: &display,
                    verification_method: "sms",
                    status,
                    account_mode: "live",
                    hosting_type: "cloud_api",
                    data_storage_region: None,
                    partner_permission: "shared",
                    quality_rating: "GREEN",
                    is_migrated: false,
                    search_text: &search,
                };
                if store::channels::create(&mut tx, partner, &new, "bench", created).await? {
                    break;
                }
            }
            pending += 1;
            if pending >= 2000 {
                tx.commit().await?;
                tx = state.db.begin_write().await?;
                pending = 0;
            }
        }
        ids.push(client);
    }
    tx.commit().await?;
    Ok(ids)
}

pub async fn partner(state: &AppState, name: &str) -> anyhow::Result<PartnerId> {
    let id = PartnerId::generate();
    {
        let mut tx = state.db.begin_write().await?;
        store::partners::create(
            &mut *tx,
            &store::partners::NewPartner {
                id: &id,
                name,
                currency: Currency::Eur,
                payment_model: PaymentModel::PartnerPayment,
            },
            state.now_ms(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(id)
}

pub async fn api_data(state: &AppState) -> anyhow::Result<Seeded> {
    let base = state.now_ms() - 400 * 24 * 3_600_000;
    let main = partner(state, "Bench Partner").await?;
    let clients = fill(state, &main, 5000, 20, 4_915_100_000_000, base, STATUSES).await?;
    let mut small = None;
    for p in 0..99 {
        let other = partner(state, &format!("Other {p}")).await?;
        fill(
            state,
            &other,
            50,
            20,
            4_917_000_000_000 + p * 10_000,
            base,
            STATUSES,
        )
        .await?;
        small.get_or_insert(other);
    }
    let small = small.context("no small partner")?;
    // PostgreSQL's autovacuum would vacuum and gather statistics after a bulk load like this
    // one, in the middle of the measurements; done here, the figures are those of a settled
    // database (visibility map set, plans from statistics). SQLite plans without statistics.
    if state.db.backend() == store::Backend::Postgres {
        sqlx::query("VACUUM ANALYZE")
            .execute(state.db.pool())
            .await?;
    }
    let hash = hub::passwords::hash("bench password").await?;
    let mut conn = state.db.pool().acquire().await?;
    let email =
        domain::Email::parse("owner@bench.test").map_err(|e| anyhow::anyhow!(e.to_string()))?;
    let user = store::users::ensure(&mut conn, &email, "Bench Owner", state.now_ms()).await?;
    store::users::set_password(&mut *conn, &user.id, &hash).await?;
    store::partners::add_member(
        &mut *conn,
        &main,
        &user.id,
        domain::Role::Owner,
        state.now_ms(),
    )
    .await?;
    drop(conn);
    let key = hub::services::api_keys::create_partner_key(
        state,
        &main,
        "bench",
        &hub::services::audit::Actor::System,
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    let small_key = hub::services::api_keys::create_partner_key(
        state,
        &small,
        "bench",
        &hub::services::audit::Actor::System,
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.public_message()))?;
    Ok(Seeded {
        partner: main,
        api_key: key.secret,
        small_partner: small,
        small_api_key: small_key.secret,
        clients,
        channels: 100_000,
        other_channels: 99_000,
    })
}

const SEED_FILE: &str = "bench-seed.txt";

/// What an earlier run with `--keep DIR` seeded: the partner, its API key and its clients.
pub fn load(dir: &std::path::Path) -> Option<Seeded> {
    let text = std::fs::read_to_string(dir.join(SEED_FILE)).ok()?;
    let mut lines = text.lines();
    let partner = PartnerId::parse(lines.next()?).ok()?;
    let api_key = lines.next()?.to_owned();
    let small_partner = PartnerId::parse(lines.next()?).ok()?;
    let small_api_key = lines.next()?.to_owned();
    let clients = lines
        .map(ClientId::parse)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(Seeded {
        partner,
        api_key,
        small_partner,
        small_api_key,
        clients,
        channels: 100_000,
        other_channels: 99_000,
    })
}

pub fn save(dir: &std::path::Path, seeded: &Seeded) -> anyhow::Result<()> {
    let mut text = format!(
        "{}\n{}\n{}\n{}\n",
        seeded.partner, seeded.api_key, seeded.small_partner, seeded.small_api_key
    );
    for client in &seeded.clients {
        text.push_str(client.as_str());
        text.push('\n');
    }
    std::fs::write(dir.join(SEED_FILE), text)?;
    Ok(())
}
