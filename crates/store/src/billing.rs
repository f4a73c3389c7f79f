//! Billing accounts and their ledger. The ledger is append-only: an entry is written with the
//! account's new balance in the same transaction, and carries the hash of the account's previous
//! entry and its own, so `check` can prove every balance is the sum of its entries and that no
//! entry was edited, removed or reordered.

use crate::select::{Bind, Page, Select};
use crate::{StoreError, parse_column};
use domain::ids::row_id;
use domain::ledger::{Chained, EntryKind, GENESIS, entry_hash};
use domain::listing::After;
use domain::{ClientId, Currency, Micros, PartnerId};
use sqlx::{Any, AnyConnection, Executor};

/// Who an account belongs to: the partner itself, or one of its Direct-Payment clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    Partner,
    Client(ClientId),
}

impl Holder {
    fn as_str(&self) -> &str {
        match self {
            Holder::Partner => "partner",
            Holder::Client(id) => id.as_str(),
        }
    }

    fn parse(value: &str) -> Result<Self, StoreError> {
        if value == "partner" {
            return Ok(Holder::Partner);
        }
        parse_column("billing_accounts.holder", value, ClientId::parse).map(Holder::Client)
    }
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub partner_id: PartnerId,
    pub holder: Holder,
    pub currency: Currency,
    pub balance: Micros,
    pub paused: bool,
    pub warning: Micros,
    pub low_warned: bool,
    pub entries: i64,
    /// Staff have enabled billing for the partner: the account gates messaging.
    pub billing_on: bool,
    /// The client's name, for a client's account.
    pub client_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    partner_id: String,
    holder: String,
    currency: String,
    balance_micros: i64,
    messaging_state: String,
    warning_micros: i64,
    low_warned: i64,
    entries: i64,
    billing_enabled_ms: Option<i64>,
    client_name: Option<String>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            partner_id: parse_column(
                "billing_accounts.partner_id",
                &r.partner_id,
                PartnerId::parse,
            )?,
            holder: Holder::parse(&r.holder)?,
            currency: parse_column("billing_accounts.currency", &r.currency, Currency::parse)?,
            balance: Micros::new(r.balance_micros),
            paused: r.messaging_state == "paused",
            warning: Micros::new(r.warning_micros),
            low_warned: r.low_warned != 0,
            entries: r.entries,
            billing_on: r.billing_enabled_ms.is_some(),
            client_name: r.client_name,
            id: r.id,
        })
    }
}

/// An account with its partner's billing switch (`b` is the account, `p` its partner).
const ACCOUNT_SELECT: &str = "b.id, b.partner_id, b.holder, b.currency, b.balance_micros, b.messaging_state, b.warning_micros, b.low_warned, b.entries, p.billing_enabled_ms, c.name AS client_name FROM billing_accounts b JOIN partners p ON p.id = b.partner_id LEFT JOIN clients c ON c.id = b.holder AND c.partner_id = b.partner_id";

/// What staff set for a partner's billing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settings {
    /// When staff enabled billing; `None`: billing is off and nothing is gated.
    pub enabled_ms: Option<i64>,
    pub auth_international: bool,
}

pub async fn settings<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Settings, StoreError> {
    let row: Option<(Option<i64>, i64)> =
        sqlx::query_as("SELECT billing_enabled_ms, auth_international FROM partners WHERE id = $1")
            .bind(partner.as_str())
            .fetch_optional(ex)
            .await?;
    Ok(
        row.map_or_else(Settings::default, |(enabled_ms, intl)| Settings {
            enabled_ms,
            auth_international: intl != 0,
        }),
    )
}

/// Turn billing on (keeps the first date if it was on already); false when no such partner.
pub async fn enable<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE partners SET billing_enabled_ms = COALESCE(billing_enabled_ms, $2) WHERE id = $1",
    )
    .bind(partner.as_str())
    .bind(now_ms)
    .execute(ex)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_auth_international<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    eligible: bool,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("UPDATE partners SET auth_international = $2 WHERE id = $1")
            .bind(partner.as_str())
            .bind(i64::from(eligible))
            .execute(ex)
            .await?
            .rows_affected()
            == 1,
    )
}

pub async fn account<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    holder: &Holder,
) -> Result<Option<Account>, StoreError> {
    sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_SELECT} WHERE b.partner_id = $1 AND b.holder = $2"
    )))
    .bind(partner.as_str())
    .bind(holder.as_str())
    .fetch_optional(ex)
    .await?
    .map(Account::try_from)
    .transpose()
}

/// How many of the partner's accounts have messaging paused, counted only while billing is on.
pub async fn paused_count<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM billing_accounts b JOIN partners p ON p.id = b.partner_id
          WHERE b.partner_id = $1 AND b.messaging_state = 'paused' AND p.billing_enabled_ms IS NOT NULL",
    )
    .bind(partner.as_str())
    .fetch_one(ex)
    .await?)
}

/// One account of the partner by its id.
pub async fn account_by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &str,
) -> Result<Option<Account>, StoreError> {
    sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_SELECT} WHERE b.partner_id = $1 AND b.id = $2"
    )))
    .bind(partner.as_str())
    .bind(id)
    .fetch_optional(ex)
    .await?
    .map(Account::try_from)
    .transpose()
}

/// Every account of a partner: its own first, then its clients'.
pub async fn accounts_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Vec<Account>, StoreError> {
    sqlx::query_as::<_, AccountRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_SELECT} WHERE b.partner_id = $1
          ORDER BY CASE WHEN b.holder = 'partner' THEN 0 ELSE 1 END, b.created_ms, b.id"
    )))
    .bind(partner.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(Account::try_from)
    .collect()
}

/// An entry about to be written.
#[derive(Clone, Copy, Debug)]
pub struct NewEntry<'a> {
    pub amount: Micros,
    pub kind: EntryKind,
    /// What the entry is about: a message id, a staff adjustment's audit id, an invoice.
    pub reference: &'a str,
    pub description: &'a str,
    /// Unique per account: the same key twice posts once.
    pub idempotency_key: &'a str,
}

/// Whether a debit may proceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Post whatever the balance (credits, refunds, staff adjustments).
    Always,
    /// Post only while the balance is above zero (a send may take it slightly below).
    WhilePositive,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Posted {
    Applied {
        entry_id: String,
        balance_before: Micros,
        balance_after: Micros,
        /// The account's low-balance warning level as the entry found it.
        warning: Micros,
    },
    /// The idempotency key was used before: nothing changed.
    Duplicate { entry_id: String },
    /// The gate refused: the balance is at or below zero.
    Refused { balance: Micros },
}

/// An account held for posting, in the caller's write transaction: its row is locked (on
/// PostgreSQL `FOR UPDATE`; SQLite's write transaction is exclusive already), so its balance,
/// entry count and chain head can be carried in memory across any number of entries and written
/// back once by [`Posting::save`]. Many messages' debits then cost one read and one update of
/// the hot account row between them (`../shared/billing-lessons.md` #5), each still its own
/// entry.
#[derive(Debug)]
pub struct Posting {
    pub account: Account,
    last_hash: String,
    /// Entries posted since the account was read: the row needs writing back.
    changed: bool,
    /// Write entries at `save`, many a statement (see [`Posting::write_entries_at_save`]).
    deferred: Option<Vec<Deferred>>,
}

/// An entry whose row is written at `save`.
#[derive(Debug)]
struct Deferred {
    id: String,
    seq: i64,
    amount: Micros,
    kind: EntryKind,
    reference: String,
    description: String,
    idempotency_key: String,
    balance_after: Micros,
    prev_hash: String,
    hash: String,
    created_ms: i64,
}

#[derive(sqlx::FromRow)]
struct HeldRow {
    #[sqlx(flatten)]
    account: AccountRow,
    last_hash: String,
}

/// Hold the account of `holder`, opened empty if it does not exist yet.
pub async fn hold(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    holder: &Holder,
    currency: Currency,
    now_ms: i64,
) -> Result<Posting, StoreError> {
    if let Some(held) = hold_where(
        conn,
        "b.partner_id = $1 AND b.holder = $2",
        partner,
        holder.as_str(),
    )
    .await?
    {
        return Ok(held);
    }
    sqlx::query(
        "INSERT INTO billing_accounts (id, partner_id, holder, currency, last_hash, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (partner_id, holder) DO NOTHING",
    )
    .bind(row_id("bac"))
    .bind(partner.as_str())
    .bind(holder.as_str())
    .bind(currency.as_str())
    .bind(GENESIS)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    hold_where(
        conn,
        "b.partner_id = $1 AND b.holder = $2",
        partner,
        holder.as_str(),
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt(format!("billing account of {partner} vanished")))
}

/// Hold one account of the partner by its id; `None` when the partner has no such account.
pub async fn hold_by_id(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    id: &str,
) -> Result<Option<Posting>, StoreError> {
    hold_where(conn, "b.partner_id = $1 AND b.id = $2", partner, id).await
}

async fn hold_where(
    conn: &mut AnyConnection,
    condition: &'static str,
    partner: &PartnerId,
    value: &str,
) -> Result<Option<Posting>, StoreError> {
    let lock = crate::dialect::lock_account_row(conn.backend_name());
    sqlx::query_as::<_, HeldRow>(sqlx::AssertSqlSafe(format!(
        "SELECT b.last_hash, {ACCOUNT_SELECT} WHERE {condition}{lock}"
    )))
    .bind(partner.as_str())
    .bind(value)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| {
        Ok(Posting {
            account: Account::try_from(row.account)?,
            last_hash: row.last_hash,
            changed: false,
            deferred: None,
        })
    })
    .transpose()
}

impl Posting {
    /// From now on keep entries in memory and write them at [`Posting::save`], fifty a
    /// statement: for a batch of sends, whose keys (`usage:{new message id}`) are new by
    /// construction. A key used before is then not answered `Duplicate` but fails the save
    /// (and with it the transaction), so a caller must be ready to write its batch again one
    /// by one without deferring.
    pub fn write_entries_at_save(&mut self) {
        self.deferred.get_or_insert_with(Vec::new);
    }

    /// Post one entry: the balance moves in memory and the entry is written, chained to the one
    /// before. `WhilePositive` refuses at a balance of zero or below before anything else, so a
    /// refused debit writes nothing; a key used before posts nothing.
    pub async fn post(
        &mut self,
        conn: &mut AnyConnection,
        entry: &NewEntry<'_>,
        gate: Gate,
        now_ms: i64,
    ) -> Result<Posted, StoreError> {
        let before = self.account.balance;
        if gate == Gate::WhilePositive && !before.is_positive() {
            return Ok(Posted::Refused { balance: before });
        }
        let after = before.checked_add(entry.amount).map_err(|e| {
            StoreError::Corrupt(format!("balance of {} overflows: {e}", self.account.id))
        })?;
        let seq = self.account.entries + 1;
        let account_id = self.account.id.as_str();
        let hash = entry_hash(
            &self.last_hash,
            &Chained {
                account: account_id,
                amount: entry.amount,
                kind: entry.kind,
                reference: entry.reference,
                idempotency_key: entry.idempotency_key,
                balance_after: after,
                created_ms: now_ms,
            },
        );
        // Ids of one account sort by `seq`, so entries written in the same millisecond still
        // list in the order they were posted (lists break ties on the id).
        let entry_id = row_id(&format!("led_{seq:012}"));
        if let Some(deferred) = &mut self.deferred {
            deferred.push(Deferred {
                id: entry_id.clone(),
                seq,
                amount: entry.amount,
                kind: entry.kind,
                reference: entry.reference.to_owned(),
                description: entry.description.to_owned(),
                idempotency_key: entry.idempotency_key.to_owned(),
                balance_after: after,
                prev_hash: std::mem::replace(&mut self.last_hash, hash),
                hash: self.last_hash.clone(),
                created_ms: now_ms,
            });
            self.account.balance = after;
            self.account.entries = seq;
            self.changed = true;
            return Ok(Posted::Applied {
                entry_id,
                balance_before: before,
                balance_after: after,
                warning: self.account.warning,
            });
        }
        let written = sqlx::query(
            "INSERT INTO ledger_entries (id, account_id, partner_id, seq, amount_micros, kind, reference,
                                         description, idempotency_key, balance_after_micros, prev_hash, hash, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (account_id, idempotency_key) DO NOTHING",
        )
        .bind(&entry_id)
        .bind(account_id)
        .bind(self.account.partner_id.as_str())
        .bind(seq)
        .bind(entry.amount.get())
        .bind(entry.kind.as_str())
        .bind(entry.reference)
        .bind(entry.description)
        .bind(entry.idempotency_key)
        .bind(after.get())
        .bind(&self.last_hash)
        .bind(&hash)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if written == 0 {
            let entry_id: String = sqlx::query_scalar(
                "SELECT id FROM ledger_entries WHERE account_id = $1 AND idempotency_key = $2",
            )
            .bind(account_id)
            .bind(entry.idempotency_key)
            .fetch_one(&mut *conn)
            .await?;
            return Ok(Posted::Duplicate { entry_id });
        }
        self.account.balance = after;
        self.account.entries = seq;
        self.last_hash = hash;
        self.changed = true;
        Ok(Posted::Applied {
            entry_id,
            balance_before: before,
            balance_after: after,
            warning: self.account.warning,
        })
    }

    async fn insert_entries(
        conn: &mut AnyConnection,
        account: &Account,
        entries: &[Deferred],
    ) -> Result<(), StoreError> {
        let mut q = Select::new(
        "INSERT INTO ledger_entries (id, account_id, partner_id, seq, amount_micros, kind, reference,
                                     description, idempotency_key, balance_after_micros, prev_hash, hash, created_ms) VALUES ",
    );
        for (i, e) in entries.iter().enumerate() {
            q.values_row(
                i == 0,
                [
                    Bind::Text(e.id.clone()),
                    Bind::Text(account.id.clone()),
                    Bind::Text(account.partner_id.as_str().to_owned()),
                    Bind::Int(e.seq),
                    Bind::Int(e.amount.get()),
                    Bind::Text(e.kind.as_str().to_owned()),
                    Bind::Text(e.reference.clone()),
                    Bind::Text(e.description.clone()),
                    Bind::Text(e.idempotency_key.clone()),
                    Bind::Int(e.balance_after.get()),
                    Bind::Text(e.prev_hash.clone()),
                    Bind::Text(e.hash.clone()),
                    Bind::Int(e.created_ms),
                ],
            );
        }
        q.execute(&mut *conn).await?;
        Ok(())
    }

    /// Mark messaging paused or active; true when the state changed.
    pub async fn set_paused(
        &mut self,
        conn: &mut AnyConnection,
        paused: bool,
    ) -> Result<bool, StoreError> {
        if self.account.paused == paused {
            return Ok(false);
        }
        let changed = set_paused(conn, &self.account.id, paused).await?;
        self.account.paused = paused;
        Ok(changed)
    }

    /// Record that the low-balance warning went out; true when this call is the one that did.
    pub async fn mark_low_warned(&mut self, conn: &mut AnyConnection) -> Result<bool, StoreError> {
        if self.account.low_warned {
            return Ok(false);
        }
        let marked = mark_low_warned(conn, &self.account.id).await?;
        self.account.low_warned = true;
        Ok(marked)
    }

    /// After a credit: the warning level becomes `warning`, and may be sent again.
    pub async fn rearm_warning(
        &mut self,
        conn: &mut AnyConnection,
        warning: Micros,
    ) -> Result<(), StoreError> {
        rearm_warning(conn, &self.account.id, warning).await?;
        self.account.warning = warning;
        self.account.low_warned = false;
        Ok(())
    }

    /// Write the deferred entries, then the balance, entry count and chain head, if anything
    /// was posted.
    pub async fn save(&mut self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        if !self.changed {
            return Ok(());
        }
        if let Some(deferred) = &mut self.deferred {
            let entries = std::mem::take(deferred);
            for chunk in entries.chunks(crate::select::MAX_LIST / 2) {
                Self::insert_entries(conn, &self.account, chunk).await?;
            }
        }
        sqlx::query(
            "UPDATE billing_accounts SET balance_micros = $3, entries = $4, last_hash = $5
              WHERE id = $1 AND partner_id = $2",
        )
        .bind(&self.account.id)
        .bind(self.account.partner_id.as_str())
        .bind(self.account.balance.get())
        .bind(self.account.entries)
        .bind(&self.last_hash)
        .execute(&mut *conn)
        .await?;
        self.changed = false;
        Ok(())
    }
}

/// Mark messaging paused or active; true when the state changed (exactly one caller sees it).
async fn set_paused(
    conn: &mut AnyConnection,
    account_id: &str,
    paused: bool,
) -> Result<bool, StoreError> {
    let (to, from) = if paused {
        ("paused", "active")
    } else {
        ("active", "paused")
    };
    Ok(sqlx::query(
        "UPDATE billing_accounts SET messaging_state = $2 WHERE id = $1 AND messaging_state = $3",
    )
    .bind(account_id)
    .bind(to)
    .bind(from)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Record that the low-balance warning went out (true when this call is the one that did).
async fn mark_low_warned(conn: &mut AnyConnection, account_id: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("UPDATE billing_accounts SET low_warned = 1 WHERE id = $1 AND low_warned = 0")
            .bind(account_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// After a credit: the warning level becomes 10 % of it, and may be sent again.
async fn rearm_warning(
    conn: &mut AnyConnection,
    account_id: &str,
    warning: Micros,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE billing_accounts SET warning_micros = $2, low_warned = 0 WHERE id = $1")
        .bind(account_id)
        .bind(warning.get())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub id: String,
    pub account_id: String,
    pub holder: Holder,
    pub amount: Micros,
    pub kind: EntryKind,
    pub reference: String,
    pub description: String,
    pub balance_after: Micros,
    pub created_ms: i64,
    /// The client's name, for an entry of a client's account.
    pub client_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    account_id: String,
    holder: String,
    amount_micros: i64,
    kind: String,
    reference: String,
    description: String,
    balance_after_micros: i64,
    created_ms: i64,
    client_name: Option<String>,
}

impl TryFrom<EntryRow> for Entry {
    type Error = StoreError;
    fn try_from(r: EntryRow) -> Result<Self, StoreError> {
        Ok(Entry {
            holder: Holder::parse(&r.holder)?,
            amount: Micros::new(r.amount_micros),
            kind: parse_column("ledger_entries.kind", &r.kind, |k| {
                EntryKind::parse(k).ok_or(())
            })?,
            balance_after: Micros::new(r.balance_after_micros),
            id: r.id,
            account_id: r.account_id,
            reference: r.reference,
            description: r.description,
            created_ms: r.created_ms,
            client_name: r.client_name,
        })
    }
}

/// Which entries a listing wants.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub kind: Option<EntryKind>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Only this account's entries (`None`: every account of the partner).
    pub holder: Option<Holder>,
}

/// A page of a partner's entries, newest first (or oldest), how many match in all, and where
/// the next page starts when there is one: after the last entry's `(created_ms, id)`.
pub async fn entries(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    filter: &EntryFilter,
    page: &Page<'_>,
) -> Result<(Vec<Entry>, i64, Option<After>), StoreError> {
    let mut listed = filtered(
        "SELECT e.id, e.account_id, a.holder, e.amount_micros, e.kind, e.reference, e.description,
                e.balance_after_micros, e.created_ms, c.name AS client_name
           FROM ledger_entries e JOIN billing_accounts a ON a.id = e.account_id
           LEFT JOIN clients c ON c.id = a.holder AND c.partner_id = a.partner_id",
        partner,
        filter,
    );
    listed.created_page(page, "e.created_ms", "e.id");
    let mut rows = listed
        .fetch_all::<EntryRow, _>(&mut *conn)
        .await?
        .into_iter()
        .map(Entry::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next = crate::select::next_after(&mut rows, page.limit, |e| (e.created_ms, e.id.clone()));
    let total = filtered(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries e JOIN billing_accounts a ON a.id = e.account_id",
        partner,
        filter,
    )
    .fetch_count(&mut *conn)
    .await?;
    Ok((rows, total, next))
}

/// The newest top-up of an account: when, and how much.
pub async fn last_top_up<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> Result<Option<(i64, Micros)>, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT created_ms, amount_micros FROM ledger_entries
          WHERE account_id = $1 AND kind = 'top_up' ORDER BY seq DESC LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|(at, amount)| (at, Micros::new(amount))))
}

fn filtered(base: &'static str, partner: &PartnerId, filter: &EntryFilter) -> Select {
    let mut q = Select::new(base);
    q.push(" WHERE e.partner_id = ")
        .bind(Bind::Text(partner.as_str().to_owned()));
    if let Some(kind) = filter.kind {
        q.push(" AND e.kind = ")
            .bind(Bind::Text(kind.as_str().to_owned()));
    }
    if let Some(from) = filter.from_ms {
        q.push(" AND e.created_ms >= ").bind(Bind::Int(from));
    }
    if let Some(until) = filter.until_ms {
        q.push(" AND e.created_ms < ").bind(Bind::Int(until));
    }
    if let Some(holder) = &filter.holder {
        q.push(" AND a.holder = ")
            .bind(Bind::Text(holder.as_str().to_owned()));
    }
    q
}

/// Where an account's ledger does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discrepancy {
    pub account_id: String,
    pub partner_id: String,
    pub problem: String,
}

#[derive(sqlx::FromRow)]
struct ChainRow {
    seq: i64,
    amount_micros: i64,
    kind: String,
    reference: String,
    idempotency_key: String,
    balance_after_micros: i64,
    prev_hash: String,
    hash: String,
    created_ms: i64,
}

/// Recompute every account's balance and hash chain from its entries. An empty list means the
/// ledger holds.
pub async fn check(pool: &crate::AnyPool) -> Result<Vec<Discrepancy>, StoreError> {
    let accounts: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
        "SELECT id, partner_id, balance_micros, last_hash, entries FROM billing_accounts ORDER BY partner_id, id",
    )
    .fetch_all(pool)
    .await?;
    let mut found = Vec::new();
    for (account_id, partner_id, balance, last_hash, count) in accounts {
        let rows = sqlx::query_as::<_, ChainRow>(
            "SELECT seq, amount_micros, kind, reference, idempotency_key, balance_after_micros,
                    prev_hash, hash, created_ms
               FROM ledger_entries WHERE account_id = $1 ORDER BY seq",
        )
        .bind(&account_id)
        .fetch_all(pool)
        .await?;
        if let Some(problem) = chain_problem(&account_id, balance, &last_hash, count, &rows) {
            found.push(Discrepancy {
                account_id,
                partner_id,
                problem,
            });
        }
    }
    Ok(found)
}

fn chain_problem(
    account_id: &str,
    balance: i64,
    last_hash: &str,
    count: i64,
    rows: &[ChainRow],
) -> Option<String> {
    let mut sum: i64 = 0;
    let mut previous = GENESIS.to_owned();
    for (index, row) in rows.iter().enumerate() {
        let expected_seq = i64::try_from(index).unwrap_or(i64::MAX) + 1;
        if row.seq != expected_seq {
            return Some(format!("entry {expected_seq} is missing"));
        }
        if row.prev_hash != previous {
            return Some(format!(
                "entry {} does not follow entry {}: an entry before it was changed or removed",
                row.seq,
                row.seq - 1
            ));
        }
        let Some(kind) = EntryKind::parse(&row.kind) else {
            return Some(format!(
                "entry {} has an unknown kind {:?}",
                row.seq, row.kind
            ));
        };
        sum = match sum.checked_add(row.amount_micros) {
            Some(s) => s,
            None => return Some(format!("entry {} overflows the balance", row.seq)),
        };
        if row.balance_after_micros != sum {
            return Some(format!(
                "entry {} says the balance was {} after it, but its entries add up to {}",
                row.seq,
                Micros::new(row.balance_after_micros),
                Micros::new(sum)
            ));
        }
        let hash = entry_hash(
            &previous,
            &Chained {
                account: account_id,
                amount: Micros::new(row.amount_micros),
                kind,
                reference: &row.reference,
                idempotency_key: &row.idempotency_key,
                balance_after: Micros::new(row.balance_after_micros),
                created_ms: row.created_ms,
            },
        );
        if hash != row.hash {
            return Some(format!(
                "entry {} was changed after it was written",
                row.seq
            ));
        }
        previous = hash;
    }
    if i64::try_from(rows.len()).ok() != Some(count) {
        return Some(format!(
            "the account counts {count} entries but {} exist",
            rows.len()
        ));
    }
    if previous != last_hash {
        return Some("the newest entry is not the one the account points to".into());
    }
    if sum != balance {
        return Some(format!(
            "the balance is {} but its entries add up to {}",
            Micros::new(balance),
            Micros::new(sum)
        ));
    }
    None
}
