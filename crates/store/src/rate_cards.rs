//! Rate card versions: each has a currency, a version number per currency and the moment it takes
//! effect. Versions are never changed; a new one replaces an old one from its effective date.

use crate::{StoreError, parse_column};
use domain::ids::row_id;
use domain::pricing::{MarketRates, RateCard};
use domain::{Currency, Micros};
use sqlx::{Any, AnyConnection, Executor};

#[derive(Clone, Debug)]
pub struct Version {
    pub id: String,
    pub currency: Currency,
    pub version: i64,
    pub effective_from_ms: i64,
    pub source: String,
    pub created_ms: i64,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: String,
    currency: String,
    version: i64,
    effective_from_ms: i64,
    source: String,
    created_ms: i64,
}

impl TryFrom<VersionRow> for Version {
    type Error = StoreError;
    fn try_from(r: VersionRow) -> Result<Self, StoreError> {
        Ok(Version {
            currency: parse_column("rate_cards.currency", &r.currency, Currency::parse)?,
            id: r.id,
            version: r.version,
            effective_from_ms: r.effective_from_ms,
            source: r.source,
            created_ms: r.created_ms,
        })
    }
}

/// Store a card as the next version of its currency.
pub async fn insert(
    conn: &mut AnyConnection,
    card: &RateCard,
    effective_from_ms: i64,
    source: &str,
    now_ms: i64,
) -> Result<Version, StoreError> {
    let next: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM rate_cards WHERE currency = $1",
    )
    .bind(card.currency.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let id = row_id("rc");
    sqlx::query(
        "INSERT INTO rate_cards (id, currency, version, effective_from_ms, source, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(card.currency.as_str())
    .bind(next)
    .bind(effective_from_ms)
    .bind(source)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    for m in card.markets() {
        sqlx::query(
            "INSERT INTO rate_card_markets (card_id, market, marketing_micros, utility_micros,
                                            authentication_micros, authentication_international_micros)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&m.market)
        .bind(m.marketing.get())
        .bind(m.utility.get())
        .bind(m.authentication.get())
        .bind(m.authentication_international.map(Micros::get))
        .execute(&mut *conn)
        .await?;
    }
    Ok(Version {
        id,
        currency: card.currency,
        version: next,
        effective_from_ms,
        source: source.to_owned(),
        created_ms: now_ms,
    })
}

/// Every version, oldest effective date first.
pub async fn versions<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> Result<Vec<Version>, StoreError> {
    sqlx::query_as::<_, VersionRow>(
        "SELECT id, currency, version, effective_from_ms, source, created_ms FROM rate_cards
          ORDER BY currency, effective_from_ms, version",
    )
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(Version::try_from)
    .collect()
}

#[derive(sqlx::FromRow)]
struct MarketRow {
    market: String,
    marketing_micros: i64,
    utility_micros: i64,
    authentication_micros: i64,
    authentication_international_micros: Option<i64>,
}

/// The rates of one version.
pub async fn card<'e>(
    ex: impl Executor<'e, Database = Any>,
    version: &Version,
) -> Result<RateCard, StoreError> {
    let rows = sqlx::query_as::<_, MarketRow>(
        "SELECT market, marketing_micros, utility_micros, authentication_micros,
                authentication_international_micros
           FROM rate_card_markets WHERE card_id = $1 ORDER BY market",
    )
    .bind(&version.id)
    .fetch_all(ex)
    .await?;
    Ok(RateCard::from_markets(
        version.currency,
        rows.into_iter()
            .map(|r| MarketRates {
                market: r.market,
                marketing: Micros::new(r.marketing_micros),
                utility: Micros::new(r.utility_micros),
                authentication: Micros::new(r.authentication_micros),
                authentication_international: r
                    .authentication_international_micros
                    .map(Micros::new),
            })
            .collect(),
    ))
}
