//! `POST /messages`: validate, price, gate and debit in one transaction, then hand the message to
//! the provider. The debit comes first so a balance can never be spent twice; a message the
//! provider refuses at once is refunded in the same way a `failed` report refunds it.

use super::{MessagingError, Sender};
use crate::services::billing;
use crate::services::tasks::{self, MessageReports};
use crate::state::AppState;
use domain::ledger::EntryKind;
use domain::message::{Content, Outbound};
use domain::pricing::{self, Category, Sending};
use domain::{Currency, Micros};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use store::StoreError;
use store::billing::{Gate, Holder, NewEntry, Posted, Posting};
use store::jobs::Schedule;
use store::messages::{Fate, KeptAnswer, NewMessage, Pending};

/// What the API answers: a status and the exact JSON body (kept for a repeated key).
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Longest `Idempotency-Key` kept.
const MAX_KEY_CHARS: usize = 255;

fn message_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..40)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("wamid.{tail}")
}

/// The paying account's refusal when its balance is at or below zero (billing on only).
pub async fn balance_refusal(
    state: &AppState,
    sender: &Sender,
) -> Result<Option<MessagingError>, MessagingError> {
    let settings = store::billing::settings(state.db.pool(), &sender.partner.id).await?;
    if settings.enabled_ms.is_none() {
        return Ok(None);
    }
    let holder = billing::payer(&sender.partner, &sender.channel.client_id);
    let balance = store::billing::account(state.db.pool(), &sender.partner.id, &holder)
        .await?
        .map_or(Micros::ZERO, |a| a.balance);
    Ok((!balance.is_positive()).then(|| insufficient(state, sender, balance)))
}

fn insufficient(state: &AppState, sender: &Sender, balance: Micros) -> MessagingError {
    MessagingError::InsufficientBalance {
        balance,
        currency: sender.partner.currency,
        topup_url: billing::topup_url(state, &sender.partner.id),
    }
}

/// Send one message. With an `Idempotency-Key`, the same body within 24 h answers the first
/// result and sends and charges nothing again; another body is refused.
pub async fn send(
    state: &AppState,
    sender: &Sender,
    raw_body: &[u8],
    idempotency_key: Option<&str>,
) -> Result<Answer, MessagingError> {
    let key = match idempotency_key.map(str::trim) {
        None => None,
        Some(k)
            if k.is_empty()
                || k.chars().count() > MAX_KEY_CHARS
                || k.chars().any(char::is_control) =>
        {
            return Err(MessagingError::InvalidParameter(
                domain::message::ParamError {
                    field: "Idempotency-Key".into(),
                    message: "must be 1 to 255 printable characters".into(),
                },
            ));
        }
        Some(k) => Some(k),
    };
    let body_hash = hex::encode(Sha256::digest(raw_body));
    let now = state.now_ms();
    if let Some(key) = key
        && let Some(kept) = kept(state, sender, key, now).await?
    {
        return replay(kept, &body_hash);
    }
    let body: serde_json::Value = serde_json::from_slice(raw_body).map_err(|e| {
        MessagingError::InvalidParameter(domain::message::ParamError {
            field: "body".into(),
            message: format!("is not valid JSON: {e}"),
        })
    })?;
    let outbound = Outbound::parse(&body)?;
    sender.can_send()?;
    let (category, template_name) = match &outbound.content {
        Content::Service { .. } => (Category::Service, None),
        Content::Template { name, language } => {
            let template = store::templates::find(
                state.db.pool(),
                &sender.partner.id,
                &sender.channel.waba_id,
                name.as_str(),
                language.as_str(),
            )
            .await?
            .ok_or_else(|| MessagingError::TemplateMissing {
                name: name.as_str().into(),
                language: language.as_str().into(),
            })?;
            if template.status != "approved" {
                return Err(MessagingError::TemplateNotApproved {
                    name: template.name,
                    language: template.language,
                    status: template.status,
                });
            }
            (template.category, Some(template.name))
        }
    };
    let destination = pricing::destination(outbound.to.as_str()).ok_or_else(|| {
        MessagingError::InvalidParameter(domain::message::ParamError {
            field: "to".into(),
            message: "is not a valid phone number".into(),
        })
    })?;
    let partner = &sender.partner;
    let settings = sender.settings;
    let window_open = store::messages::window_open(
        state.db.pool(),
        &partner.id,
        &sender.channel.id,
        outbound.to.as_str(),
        now,
    )
    .await?;
    let cards = billing::rate_cards(state).await?;
    let Some((version, card)) = cards.in_force(partner.currency, now) else {
        return Err(MessagingError::NoRateCard(partner.currency));
    };
    let price = pricing::price(
        card,
        &Sending {
            category,
            destination: &destination,
            window_open,
            auth_international_eligible: settings.auth_international,
            sender_country: pricing::country_of(sender.digits()),
        },
    )
    .map_err(|_| MessagingError::WindowClosed)?;

    let id = message_id();
    let answer = Answer {
        status: 200,
        body: serde_json::json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": outbound.input, "wa_id": outbound.to.as_str()}],
            "messages": [{"id": id}],
        })
        .to_string(),
    };
    let charge = (settings.enabled_ms.is_some() && price.billable() && price.amount.is_positive())
        .then(|| {
            let description = format!(
                "{} message to {} ({})",
                category.as_str(),
                destination.market,
                sender.channel.phone_number
            );
            (price.amount, description)
        });
    let pending = Pending {
        partner_id: partner.id.clone(),
        message: NewMessage {
            id: id.clone(),
            client_id: sender.channel.client_id.clone(),
            channel_id: sender.channel.id.clone(),
            account_id: None,
            recipient: outbound.to.as_str().to_owned(),
            country: destination.iso2.to_owned(),
            market: destination.market.to_owned(),
            category,
            pricing_type: price.pricing_type.as_str().to_owned(),
            price: if price.billable() {
                price.amount
            } else {
                Micros::ZERO
            },
            currency: partner.currency,
            rate_card_id: Some(version.id.clone()),
            template_name,
        },
        payer: settings
            .enabled_ms
            .map(|_| billing::payer(partner, &sender.channel.client_id)),
        charge,
        key: key.map(|key| {
            (
                key.to_owned(),
                KeptAnswer {
                    body_hash: body_hash.clone(),
                    status_code: i64::from(answer.status),
                    response: answer.body.clone(),
                    created_ms: now,
                },
            )
        }),
        now_ms: now,
    };
    let batch_state = state.clone();
    let fate = state
        .sends
        .submit(pending, move |batch| write_batch(batch_state, batch))
        .await
        .map_err(|e| MessagingError::App(anyhow::Error::new(e).into()))??;
    match fate {
        Fate::Accepted => {}
        Fate::Refused { balance } => return Err(insufficient(state, sender, balance)),
        Fate::KeyTaken => {
            // A concurrent request with the same key was first: answer what it answered.
            let key = key.unwrap_or_default();
            return match self::kept(state, sender, key, now).await? {
                Some(first) => replay(first, &body_hash),
                None => Err(MessagingError::IdempotencyMismatch),
            };
        }
    }
    state.webhooks_wakeup.notify_one();
    state.jobs_wakeup.notify_one();

    let number_id = sender.channel.external_id.clone().unwrap_or_default();
    if let Err(err) = state.whatsapp.send_message(&number_id, &body).await {
        tracing::warn!(message = %id, error = %err, "the provider refused a message");
        super::reports::settle_failed(state, &partner.id, &id, 131_026, &err.to_string()).await?;
        if let Some(key) = key {
            let mut tx = state.db.begin_write().await?;
            store::messages::forget_answer(&mut *tx, &sender.channel.id, key).await?;
            tx.commit().await?;
        }
        return Err(MessagingError::Undeliverable(format!(
            "The message could not be handed to WhatsApp and was not charged: {err}"
        )));
    }
    Ok(answer)
}

async fn kept(
    state: &AppState,
    sender: &Sender,
    key: &str,
    now: i64,
) -> Result<Option<KeptAnswer>, MessagingError> {
    Ok(store::messages::kept_answer(
        state.db.pool(),
        &sender.channel.id,
        key,
        now - store::messages::KEEP_ANSWERS_MS,
    )
    .await?)
}

fn replay(kept: KeptAnswer, body_hash: &str) -> Result<Answer, MessagingError> {
    if kept.body_hash != body_hash {
        return Err(MessagingError::IdempotencyMismatch);
    }
    Ok(Answer {
        status: u16::try_from(kept.status_code).unwrap_or(200),
        body: kept.response,
    })
}

/// Write a batch of accepted messages in one transaction, their rows and ledger entries many a
/// statement. If it fails, each is written again on its own, row by row, so one message's error
/// is not every message's.
pub async fn write_batch(state: AppState, batch: Vec<Pending>) -> Vec<Result<Fate, StoreError>> {
    match write_together(&state, &batch, true).await {
        Ok(fates) => fates.into_iter().map(Ok).collect(),
        Err(err) if batch.len() == 1 => vec![Err(err)],
        Err(err) => {
            tracing::warn!(messages = batch.len(), error = %err, "a batch of sends failed; writing each alone");
            let mut fates = Vec::with_capacity(batch.len());
            for pending in &batch {
                fates.push(
                    write_together(&state, std::slice::from_ref(pending), false)
                        .await
                        .and_then(|mut one| {
                            one.pop()
                                .ok_or_else(|| StoreError::Corrupt("a send had no outcome".into()))
                        }),
                );
            }
            fates
        }
    }
}

/// One transaction for the whole batch: each paying account is held once, every message is
/// gated, charged (its own ledger entry) and written in turn, and each account is saved once.
async fn write_together(
    state: &AppState,
    batch: &[Pending],
    many_a_statement: bool,
) -> Result<Vec<Fate>, StoreError> {
    let mut tx = state.db.begin_write().await?;
    // Every paying account of the batch is held first, in one order (partner, holder), so two
    // instances' batches on PostgreSQL never lock the same accounts in opposite orders.
    let mut payers: Vec<(&domain::PartnerId, &Holder, Currency)> = batch
        .iter()
        .filter_map(|p| Some((&p.partner_id, p.payer.as_ref()?, p.message.currency)))
        .collect();
    payers.sort_by(|a, b| (a.0.as_str(), holder_key(a.1)).cmp(&(b.0.as_str(), holder_key(b.1))));
    payers.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let opened_ms = batch.first().map_or_else(|| state.now_ms(), |p| p.now_ms);
    let mut held: Vec<Posting> = Vec::with_capacity(payers.len());
    for (partner, holder, currency) in payers {
        let mut account =
            store::billing::hold(&mut tx, partner, holder, currency, opened_ms).await?;
        if many_a_statement {
            account.write_entries_at_save();
        }
        held.push(account);
    }
    let mut fates = Vec::with_capacity(batch.len());
    let mut rows = Vec::with_capacity(batch.len());
    for pending in batch {
        let (fate, row) = write_one(&mut tx, state, &mut held, pending).await?;
        fates.push(fate);
        rows.extend(row.map(|m| (&pending.partner_id, m, pending.now_ms)));
    }
    for account in &mut held {
        account.save(&mut tx).await?;
    }
    let rows: Vec<(&domain::PartnerId, &NewMessage, i64)> =
        rows.iter().map(|(p, m, now)| (*p, m, *now)).collect();
    store::messages::insert_many(&mut tx, &rows).await?;
    // One report run per second of sends, at the end of that second (plus the sandbox's
    // delay), so every message accepted within the second is due when it runs. This process
    // remembers the last second it queued one for, so most batches skip the insert.
    let now = batch.last().map_or_else(|| state.now_ms(), |p| p.now_ms);
    let second = now.div_euclid(1000);
    let queue_report = state.whatsapp.simulates()
        && fates.contains(&Fate::Accepted)
        && state.report_second.load(Ordering::Relaxed) != second;
    if queue_report {
        let run_at = (second + 1) * 1000 + state.config.whatsapp.sandbox_delay_ms;
        tasks::enqueue(
            &mut tx,
            &MessageReports {},
            &Schedule::once(run_at, format!("message_reports:{second}")),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    if queue_report {
        state.report_second.store(second, Ordering::Relaxed);
    }
    Ok(fates)
}

async fn write_one(
    tx: &mut sqlx::AnyConnection,
    state: &AppState,
    held: &mut [Posting],
    pending: &Pending,
) -> Result<(Fate, Option<NewMessage>), StoreError> {
    let account = match &pending.payer {
        None => None,
        Some(holder) => Some(
            held.iter()
                .position(|h| {
                    h.account.partner_id == pending.partner_id && h.account.holder == *holder
                })
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "the account paying for {} was not held",
                        pending.message.id
                    ))
                })?,
        ),
    };
    // Free messages too: at zero the number stops, as the Billing page says.
    if let Some(index) = account {
        let balance = held[index].account.balance;
        if !balance.is_positive() {
            return Ok((Fate::Refused { balance }, None));
        }
    }
    // The key before the charge: a key taken by a concurrent request must write nothing.
    if let Some((key, answer)) = &pending.key
        && !store::messages::keep_answer(tx, &pending.message.channel_id, key, answer).await?
    {
        return Ok((Fate::KeyTaken, None));
    }
    let mut message = pending.message.clone();
    if let Some(index) = account {
        let posting = &mut held[index];
        message.account_id = Some(posting.account.id.clone());
        if let Some((price, description)) = &pending.charge {
            let posted = billing::post_in(
                tx,
                state,
                posting,
                &NewEntry {
                    amount: price.checked_neg().map_err(|e| {
                        StoreError::Corrupt(format!("price of {} overflows: {e}", message.id))
                    })?,
                    kind: EntryKind::Usage,
                    reference: &message.id,
                    description,
                    idempotency_key: &format!("usage:{}", message.id),
                },
                Gate::WhilePositive,
            )
            .await?;
            if let Posted::Refused { .. } = posted {
                // The balance was checked above in this transaction; a refusal now is a bug.
                return Err(StoreError::Corrupt(format!(
                    "account {} refused a debit it had allowed",
                    posting.account.id
                )));
            }
        }
    }
    Ok((Fate::Accepted, Some(message)))
}

/// How holders sort: the partner's own account before its clients', clients by id.
fn holder_key(holder: &Holder) -> (u8, &str) {
    match holder {
        Holder::Partner => (0, ""),
        Holder::Client(client) => (1, client.as_str()),
    }
}
