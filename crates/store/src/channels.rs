//! Channels (phone numbers): the row, the joined view the API and pages show (with client and
//! WABA), filtered lists, status transitions with their history, verification attempts, and
//! cancellation.

use crate::clients::filter_text;
use crate::select::{Bind, Select};
use crate::{Backend, StoreError, dialect, parse_column};
use domain::listing::{FilterValue, ListQuery};
use domain::{ChannelId, ChannelStatus, ClientId, PartnerId, WabaId};
use sqlx::Row as _;
use sqlx::postgres::PgRow;
use sqlx::{Any, Executor};

/// A channel as shown to its partner: the number with its client and WABA.
#[derive(Clone, Debug)]
pub struct ChannelView {
    pub id: ChannelId,
    pub partner_id: PartnerId,
    pub client_id: ClientId,
    pub waba_id: WabaId,
    pub phone_number: String,
    pub phone_name: String,
    pub verification_method: String,
    pub default_language: Option<String>,
    pub status: ChannelStatus,
    pub account_mode: String,
    pub hosting_type: String,
    pub data_storage_region: Option<String>,
    pub partner_permission: String,
    pub current_limit: Option<String>,
    pub quality_rating: String,
    pub external_id: Option<String>,
    pub is_migrated: bool,
    pub verification_attempts: i64,
    pub locked_until_ms: Option<i64>,
    pub billing_started_ms: Option<i64>,
    pub terminated_ms: Option<i64>,
    pub cancelled_ms: Option<i64>,
    pub cancellation_requested_ms: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub client_name: String,
    pub client_partner_payload: Option<String>,
    pub client_email: Option<String>,
    pub client_organisation: Option<String>,
    pub waba_external_id: Option<String>,
    pub waba_name: String,
    pub waba_namespace: Option<String>,
    pub waba_fb_account_status: String,
    pub waba_business_id: Option<String>,
    pub waba_business_name: Option<String>,
    pub waba_business_status: Option<String>,
    pub waba_business_type: Option<String>,
}

/// A channel's columns, [`COLUMNS`].
#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    partner_id: String,
    client_id: String,
    waba_id: String,
    phone_number: String,
    phone_name: String,
    verification_method: String,
    default_language: Option<String>,
    status: String,
    account_mode: String,
    hosting_type: String,
    data_storage_region: Option<String>,
    partner_permission: String,
    current_limit: Option<String>,
    quality_rating: String,
    external_id: Option<String>,
    is_migrated: i64,
    verification_attempts: i64,
    locked_until_ms: Option<i64>,
    billing_started_ms: Option<i64>,
    terminated_ms: Option<i64>,
    cancelled_ms: Option<i64>,
    cancellation_requested_ms: Option<i64>,
    created_ms: i64,
    modified_ms: i64,
    client_name: String,
    client_partner_payload: Option<String>,
    client_email: Option<String>,
    client_organisation: Option<String>,
    waba_external_id: Option<String>,
    waba_name: String,
    waba_namespace: Option<String>,
    waba_fb_account_status: String,
    waba_business_id: Option<String>,
    waba_business_name: Option<String>,
    waba_business_status: Option<String>,
    waba_business_type: Option<String>,
    /// `COUNT(*) OVER ()` or the counted total, when the query asks for it.
    #[sqlx(default)]
    total: i64,
}

/// A channel's fields for the Partner API as texts: borrowed from the native driver's row on a
/// PostgreSQL list page (`NativeRows`), so a page of 100 channels is not copied into owned
/// strings on its way to the response, or from a [`ChannelView`]. What the API does not show
/// is left out.
#[derive(Debug)]
pub struct ChannelTexts<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub waba_id: &'a str,
    pub phone_number: &'a str,
    pub phone_name: &'a str,
    pub verification_method: &'a str,
    pub default_language: Option<&'a str>,
    pub status: &'a str,
    pub account_mode: &'a str,
    pub hosting_type: &'a str,
    pub data_storage_region: Option<&'a str>,
    pub partner_permission: &'a str,
    pub current_limit: Option<&'a str>,
    pub quality_rating: &'a str,
    pub external_id: Option<&'a str>,
    pub is_migrated: bool,
    pub billing_started_ms: Option<i64>,
    pub terminated_ms: Option<i64>,
    pub cancelled_ms: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub client_name: &'a str,
    pub client_partner_payload: Option<&'a str>,
    pub client_email: Option<&'a str>,
    pub waba_external_id: Option<&'a str>,
    pub waba_name: &'a str,
    pub waba_namespace: Option<&'a str>,
    pub waba_fb_account_status: &'a str,
    pub waba_business_id: Option<&'a str>,
    pub waba_business_name: Option<&'a str>,
    pub waba_business_status: Option<&'a str>,
    pub waba_business_type: Option<&'a str>,
}

impl<'a> ChannelTexts<'a> {
    /// Reads a row of [`COLUMNS`] by position (the order of `Row`'s fields): by name, each of
    /// a page's 3,400 values would be a hash lookup.
    fn from_row(row: &'a PgRow) -> Result<Self, sqlx::Error> {
        Ok(ChannelTexts {
            id: row.try_get_unchecked(0)?,
            client_id: row.try_get_unchecked(2)?,
            waba_id: row.try_get_unchecked(3)?,
            phone_number: row.try_get_unchecked(4)?,
            phone_name: row.try_get_unchecked(5)?,
            verification_method: row.try_get_unchecked(6)?,
            default_language: row.try_get_unchecked(7)?,
            status: row.try_get_unchecked(8)?,
            account_mode: row.try_get_unchecked(9)?,
            hosting_type: row.try_get_unchecked(10)?,
            data_storage_region: row.try_get_unchecked(11)?,
            partner_permission: row.try_get_unchecked(12)?,
            current_limit: row.try_get_unchecked(13)?,
            quality_rating: row.try_get_unchecked(14)?,
            external_id: row.try_get_unchecked(15)?,
            is_migrated: row.try_get_unchecked::<i64, _>(16)? != 0,
            billing_started_ms: row.try_get_unchecked(19)?,
            terminated_ms: row.try_get_unchecked(20)?,
            cancelled_ms: row.try_get_unchecked(21)?,
            created_ms: row.try_get_unchecked(23)?,
            modified_ms: row.try_get_unchecked(24)?,
            client_name: row.try_get_unchecked(25)?,
            client_partner_payload: row.try_get_unchecked(26)?,
            client_email: row.try_get_unchecked(27)?,
            waba_external_id: row.try_get_unchecked(29)?,
            waba_name: row.try_get_unchecked(30)?,
            waba_namespace: row.try_get_unchecked(31)?,
            waba_fb_account_status: row.try_get_unchecked(32)?,
            waba_business_id: row.try_get_unchecked(33)?,
            waba_business_name: row.try_get_unchecked(34)?,
            waba_business_status: row.try_get_unchecked(35)?,
            waba_business_type: row.try_get_unchecked(36)?,
        })
    }
}

impl ChannelView {
    /// Its fields as [`ChannelTexts`], for writers that take either.
    pub fn texts(&self) -> ChannelTexts<'_> {
        ChannelTexts {
            id: self.id.as_str(),
            client_id: self.client_id.as_str(),
            waba_id: self.waba_id.as_str(),
            phone_number: &self.phone_number,
            phone_name: &self.phone_name,
            verification_method: &self.verification_method,
            default_language: self.default_language.as_deref(),
            status: self.status.as_str(),
            account_mode: &self.account_mode,
            hosting_type: &self.hosting_type,
            data_storage_region: self.data_storage_region.as_deref(),
            partner_permission: &self.partner_permission,
            current_limit: self.current_limit.as_deref(),
            quality_rating: &self.quality_rating,
            external_id: self.external_id.as_deref(),
            is_migrated: self.is_migrated,
            billing_started_ms: self.billing_started_ms,
            terminated_ms: self.terminated_ms,
            cancelled_ms: self.cancelled_ms,
            created_ms: self.created_ms,
            modified_ms: self.modified_ms,
            client_name: &self.client_name,
            client_partner_payload: self.client_partner_payload.as_deref(),
            client_email: self.client_email.as_deref(),
            waba_external_id: self.waba_external_id.as_deref(),
            waba_name: &self.waba_name,
            waba_namespace: self.waba_namespace.as_deref(),
            waba_fb_account_status: &self.waba_fb_account_status,
            waba_business_id: self.waba_business_id.as_deref(),
            waba_business_name: self.waba_business_name.as_deref(),
            waba_business_status: self.waba_business_status.as_deref(),
            waba_business_type: self.waba_business_type.as_deref(),
        }
    }
}

impl TryFrom<Row> for ChannelView {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(ChannelView {
            id: parse_column("channels.id", &r.id, ChannelId::parse)?,
            partner_id: parse_column("channels.partner_id", &r.partner_id, PartnerId::parse)?,
            client_id: parse_column("channels.client_id", &r.client_id, ClientId::parse)?,
            waba_id: parse_column("channels.waba_id", &r.waba_id, WabaId::parse)?,
            phone_number: r.phone_number,
            phone_name: r.phone_name,
            verification_method: r.verification_method,
            default_language: r.default_language,
            status: parse_column("channels.status", &r.status, ChannelStatus::parse)?,
            account_mode: r.account_mode,
            hosting_type: r.hosting_type,
            data_storage_region: r.data_storage_region,
            partner_permission: r.partner_permission,
            current_limit: r.current_limit,
            quality_rating: r.quality_rating,
            external_id: r.external_id,
            is_migrated: r.is_migrated != 0,
            verification_attempts: r.verification_attempts,
            locked_until_ms: r.locked_until_ms,
            billing_started_ms: r.billing_started_ms,
            terminated_ms: r.terminated_ms,
            cancelled_ms: r.cancelled_ms,
            cancellation_requested_ms: r.cancellation_requested_ms,
            created_ms: r.created_ms,
            modified_ms: r.modified_ms,
            client_name: r.client_name,
            client_partner_payload: r.client_partner_payload,
            client_email: r.client_email,
            client_organisation: r.client_organisation,
            waba_external_id: r.waba_external_id,
            waba_name: r.waba_name,
            waba_namespace: r.waba_namespace,
            waba_fb_account_status: r.waba_fb_account_status,
            waba_business_id: r.waba_business_id,
            waba_business_name: r.waba_business_name,
            waba_business_status: r.waba_business_status,
            waba_business_type: r.waba_business_type,
        })
    }
}

const COLUMNS: &str = "SELECT c.id, c.partner_id, c.client_id, c.waba_id, c.phone_number, c.phone_name,
        c.verification_method, c.default_language, c.status, c.account_mode, c.hosting_type,
        c.data_storage_region, c.partner_permission, c.current_limit, c.quality_rating, c.external_id,
        c.is_migrated, c.verification_attempts, c.locked_until_ms, c.billing_started_ms, c.terminated_ms,
        c.cancelled_ms, c.cancellation_requested_ms, c.created_ms, c.modified_ms,
        cl.name AS client_name, cl.partner_payload AS client_partner_payload,
        cl.contact_email AS client_email, cl.organisation AS client_organisation,
        w.external_id AS waba_external_id, w.name AS waba_name, w.namespace AS waba_namespace,
        w.fb_account_status AS waba_fb_account_status, w.business_id AS waba_business_id,
        w.business_name AS waba_business_name, w.business_status AS waba_business_status,
        w.business_type AS waba_business_type";

const FROM_CHANNELS: &str = " FROM channels c";

const JOINS: &str = " JOIN clients cl ON cl.id = c.client_id JOIN wabas w ON w.id = c.waba_id";

const COUNT: &str = "SELECT CAST(COUNT(*) AS BIGINT)";

fn needs_joins(query: &ListQuery) -> bool {
    query
        .filters
        .iter()
        .any(|(key, _)| key.starts_with("client.") || key.starts_with("waba_account.fb"))
}

/// The Partner API's channel filter keys and the comparison each one makes.
const FILTER_COLUMNS: &[(&str, &str)] = &[
    ("id", " AND c.id = "),
    ("status", " AND c.status = "),
    ("client_id", " AND c.client_id = "),
    ("account_mode", " AND c.account_mode = "),
    ("hosting_type", " AND c.hosting_type = "),
    ("data_storage_region", " AND c.data_storage_region = "),
    ("partner_permission", " AND c.partner_permission = "),
    ("external_id", " AND c.external_id = "),
    ("current_limit", " AND c.current_limit = "),
    ("current_quality_rating", " AND c.quality_rating = "),
    ("setup_info.phone_number", " AND c.phone_number = "),
    ("setup_info.phone_name", " AND c.phone_name = "),
    ("waba_account.id", " AND c.waba_id = "),
    (
        "waba_account.fb_account_status",
        " AND w.fb_account_status = ",
    ),
    ("client.contact_info.email", " AND cl.contact_email = "),
];

const NULL_COLUMNS: &[(&str, &str)] = &[
    ("data_storage_region", " AND c.data_storage_region IS NULL"),
    ("external_id", " AND c.external_id IS NULL"),
    ("current_limit", " AND c.current_limit IS NULL"),
    ("client.contact_info.email", " AND cl.contact_email IS NULL"),
];

/// Sort fields and their ORDER BY fragments (ascending, descending).
const SORT_COLUMNS: &[(&str, &str, &str)] = &[
    ("created_at", "c.created_ms ASC", "c.created_ms DESC"),
    ("modified_at", "c.modified_ms ASC", "c.modified_ms DESC"),
    ("status", "c.status ASC", "c.status DESC"),
    ("id", "c.id ASC", "c.id DESC"),
    ("client_id", "c.client_id ASC", "c.client_id DESC"),
    (
        "setup_info.phone_number",
        "c.phone_number ASC",
        "c.phone_number DESC",
    ),
    (
        "setup_info.phone_name",
        "c.phone_name ASC",
        "c.phone_name DESC",
    ),
];

/// Free text typed in a search box, as matched case-insensitively against number, display name,
/// client name and email: trimmed, lower-cased, without LIKE's wildcard and escape characters.
fn search_phrase(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect()
}

/// Phrases with at least this many characters can use SQLite's trigram index.
const INDEXED_PHRASE_MIN_CHARS: usize = 3;

/// A phrase found through SQLite's trigram index: the FTS5 expression that finds candidates,
/// and the phrase they must then contain when the expression alone does not say so.
#[derive(Debug)]
struct Indexed {
    expression: String,
    contains: Option<String>,
}

/// A phrase matched with `LIKE` on `c.search_text` (PostgreSQL's trigram index answers the
/// patterns), and on PostgreSQL the phrase the rows must then contain when the patterns are
/// only parts of it.
#[derive(Debug)]
struct Scanned {
    /// Conditions that narrow the candidates: `… LIKE ` and the pattern it binds.
    patterns: Vec<(&'static str, String)>,
    contains: Option<String>,
    /// The patterns are rare trigrams: the trigram index yields few candidates (at most
    /// `dialect::trigram_count_max`) whichever partner asks.
    rare: bool,
}

impl Scanned {
    fn whole(phrase: String) -> Scanned {
        Scanned {
            patterns: vec![(SEARCH_TEXT_LIKE, format!("%{phrase}%"))],
            contains: None,
            rare: false,
        }
    }
}

/// A condition on `c.search_text` as a `LIKE` pattern binds it.
const SEARCH_TEXT_LIKE: &str = " AND c.search_text LIKE ";

/// A trigram to find a phrase's candidates by.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Trigram {
    text: String,
    /// PostgreSQL: `pg_trgm` splits words at spaces, so three characters across one ("t 0" of
    /// "client 0") are in no index entry of `search_text`; with the spaces taken out ("nt0")
    /// they are in the index behind `dialect::POSTGRES_JOINED_SEARCH_TEXT_LIKE`. A phrase of
    /// common words may have no rare trigram but these.
    joined: bool,
}

impl Trigram {
    fn plain(text: String) -> Trigram {
        Trigram {
            text,
            joined: false,
        }
    }

    /// The condition that finds the rows holding it, and its pattern.
    fn pattern(&self) -> (&'static str, String) {
        let like = if self.joined {
            dialect::POSTGRES_JOINED_SEARCH_TEXT_LIKE
        } else {
            SEARCH_TEXT_LIKE
        };
        (like, format!("%{}%", self.text))
    }

    /// Its key among the counted trigrams: a joined one's count is not the plain one's.
    fn key(&self) -> String {
        if self.joined {
            format!("joined {}", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// How a list's free text (`q` filters and the search box) is matched.
#[derive(Debug, Default)]
struct Search {
    /// SQLite: the one phrase matched through `channel_search`, which then drives the query.
    indexed: Option<Indexed>,
    /// Phrases matched with `LIKE`.
    scanned: Vec<Scanned>,
}

/// The distinct trigrams of `phrase`, in order; for PostgreSQL only those `pg_trgm` takes from
/// a `LIKE` pattern (three letters or digits, or a space and two: a word's start), after the
/// [`Trigram::joined`] ones, which go first so that a tie goes to them: they hold two words.
fn trigrams(phrase: &str, backend: Backend) -> Vec<Trigram> {
    let chars: Vec<char> = phrase.chars().collect();
    let mut out: Vec<Trigram> = Vec::new();
    if backend == Backend::Postgres {
        // Each character without the spaces, and whether a space came right before it.
        let mut joined: Vec<(char, bool)> = Vec::with_capacity(chars.len());
        let mut after_space = false;
        for &c in &chars {
            if c == ' ' {
                after_space = true;
            } else {
                joined.push((c, after_space));
                after_space = false;
            }
        }
        for window in joined.windows(3) {
            let spans_words = window[1].1 || window[2].1;
            if spans_words && window.iter().all(|(c, _)| c.is_alphanumeric()) {
                let trigram = Trigram {
                    text: window.iter().map(|(c, _)| c).collect(),
                    joined: true,
                };
                if !out.contains(&trigram) {
                    out.push(trigram);
                }
            }
        }
    }
    for window in chars.windows(3) {
        // pg_trgm also indexes the start of every word: a space and two letters or digits
        // (" 97") in a pattern is a left-bounded word whose padded trigrams are far rarer than
        // its inner ones when words are short, as numbers in names are.
        let word_start = window[0] == ' ' && window[1..].iter().all(|c| c.is_alphanumeric());
        if backend == Backend::Postgres
            && !word_start
            && !window.iter().all(|c| c.is_alphanumeric())
        {
            continue;
        }
        let trigram = Trigram::plain(window.iter().collect());
        if !out.contains(&trigram) {
            out.push(trigram);
        }
    }
    out
}

/// The trigrams to find candidates by: the rarest, when it is rare enough, and the next rarest
/// too when that one is also rare enough. The index reads a common trigram's long list quickly
/// (it skips through it), but it is the candidates that cost: each is read and checked for the
/// whole phrase. Two rare trigrams leave few candidates ("300" and " 30" of "client 3007": a
/// few dozen of 2,687); a common second one would narrow nothing worth its reading.
fn rarest<'t>(counted: &mut [(i64, &'t Trigram)], backend: Backend) -> Option<Vec<&'t Trigram>> {
    let max = dialect::trigram_count_max(backend);
    counted.sort_by_key(|(n, _)| *n);
    let rare: Vec<&Trigram> = counted
        .iter()
        .take(2)
        .take_while(|(n, _)| *n <= max)
        .map(|(_, t)| *t)
        .collect();
    (!rare.is_empty()).then_some(rare)
}

impl Search {
    async fn plan(
        db: &crate::Db,
        query: &ListQuery,
        text: Option<&str>,
    ) -> Result<Search, StoreError> {
        let phrases = query
            .filters
            .iter()
            .filter(|(key, _)| *key == "q")
            .map(|(_, value)| search_phrase(&filter_text(value)))
            .chain(text.map(search_phrase))
            .filter(|phrase| !phrase.is_empty());
        let mut search = Search::default();
        for phrase in phrases {
            if phrase.chars().count() < INDEXED_PHRASE_MIN_CHARS {
                search.scanned.push(Scanned::whole(phrase));
                continue;
            }
            match db.backend() {
                Backend::Sqlite => {
                    if search.indexed.is_none()
                        && let Some(indexed) = Self::through_index(db, &phrase).await?
                    {
                        search.indexed = Some(indexed);
                    } else {
                        search.scanned.push(Scanned::whole(phrase));
                    }
                }
                Backend::Postgres => search.scanned.push(Self::through_gin(db, phrase).await?),
            }
        }
        Ok(search)
    }

    /// How many channels (of every partner) hold each trigram, counting no further than
    /// [`dialect::trigram_count_max`] + 1; from the minute-old counts where there are some.
    async fn count_trigrams<'t>(
        db: &crate::Db,
        trigrams: &'t [Trigram],
    ) -> Result<Vec<(i64, &'t Trigram)>, StoreError> {
        let stats = db.trigram_stats();
        let mut known: Vec<Option<i64>> = trigrams.iter().map(|t| stats.get(&t.key())).collect();
        let mut counts = Select::new("");
        let mut unknown = 0;
        for (i, trigram) in trigrams.iter().enumerate() {
            if known[i].is_some() {
                continue;
            }
            if unknown > 0 {
                counts.push(" UNION ALL ");
            }
            unknown += 1;
            let (count, probe) =
                dialect::trigram_count(db.backend(), &trigram.text, trigram.joined);
            counts
                .push("SELECT CAST(")
                .bind(Bind::Int(i64::try_from(i).unwrap_or(i64::MAX)))
                .push(count)
                .bind(Bind::Text(probe))
                .limit(dialect::trigram_count_max(db.backend()) + 1, None)
                .push(") AS t");
        }
        if unknown > 0 {
            for count in counts.fetch_all::<TrigramCount, _>(db.pool()).await? {
                if let Some(i) = usize::try_from(count.i)
                    .ok()
                    .filter(|i| *i < trigrams.len())
                {
                    stats.put(trigrams[i].key(), count.n);
                    known[i] = Some(count.n);
                }
            }
        }
        // In the phrase's order, which breaks ties (see `trigrams`).
        Ok(known
            .into_iter()
            .zip(trigrams)
            .filter_map(|(n, trigram)| Some((n?, trigram)))
            .collect())
    }

    /// How to find `phrase` through SQLite's trigram index, or `None` when it is so common that
    /// scanning the partner's channels costs less. FTS5 reads the whole position list of every
    /// trigram of a phrase, and a phrase of common words ("client 1067") pays for each; so the
    /// index is asked for the rows holding its two rarest trigrams, and those rows for the phrase.
    async fn through_index(db: &crate::Db, phrase: &str) -> Result<Option<Indexed>, StoreError> {
        let trigrams = trigrams(phrase, Backend::Sqlite);
        let mut counted = Self::count_trigrams(db, &trigrams).await?;
        // A phrase of exactly three characters is its own trigram; any longer one is checked.
        let contains =
            (phrase.chars().count() > INDEXED_PHRASE_MIN_CHARS).then(|| phrase.to_owned());
        if let Some(rarest) = rarest(&mut counted, db.backend()) {
            let expression = rarest
                .iter()
                .map(|t| dialect::fts5_phrase(&t.text))
                .collect::<Vec<_>>()
                .join(" AND ");
            return Ok(Some(Indexed {
                expression,
                contains,
            }));
        }
        // Every trigram is common: the whole phrase may still be rare.
        let expression = dialect::fts5_phrase(phrase);
        let matches = sqlx::query_scalar::<_, i64>(dialect::SQLITE_CHANNEL_SEARCH_PROBE)
            .bind(&expression)
            .fetch_one(db.pool())
            .await?;
        Ok(
            (matches <= dialect::SQLITE_CHANNEL_SEARCH_INDEXED_MAX).then_some(Indexed {
                expression,
                contains: None,
            }),
        )
    }

    /// PostgreSQL's GIN index intersects the posting lists of every trigram of a `LIKE`
    /// pattern, and common ones are long; the two rarest trigrams find the candidates instead,
    /// which must then contain the whole phrase.
    async fn through_gin(db: &crate::Db, phrase: String) -> Result<Scanned, StoreError> {
        let trigrams = trigrams(&phrase, Backend::Postgres);
        let mut counted = Self::count_trigrams(db, &trigrams).await?;
        Ok(match rarest(&mut counted, db.backend()) {
            Some(rarest)
                if !(rarest.len() == 1 && *rarest[0] == Trigram::plain(phrase.clone())) =>
            {
                Scanned {
                    patterns: rarest.iter().map(|t| t.pattern()).collect(),
                    contains: Some(phrase),
                    rare: true,
                }
            }
            Some(_) => Scanned {
                rare: true,
                ..Scanned::whole(phrase)
            },
            None => Scanned::whole(phrase),
        })
    }

    /// ` FROM …` of a list query: the trigram index first when it drives the query.
    fn from(&self) -> &'static str {
        if self.indexed.is_some() {
            dialect::SQLITE_CHANNEL_SEARCH_FROM
        } else {
            FROM_CHANNELS
        }
    }

    fn is_empty(&self) -> bool {
        self.indexed.is_none() && self.scanned.is_empty()
    }

    /// PostgreSQL: a phrase's rare trigrams find the candidates, so the partner is only a
    /// filter on them (see `dialect::POSTGRES_PARTNER_FILTER`) and no plan depends on values.
    fn finds_candidates(&self) -> bool {
        self.scanned.iter().any(|s| s.rare)
    }
}

fn where_clause(q: &mut Select, partner: &PartnerId, query: &ListQuery, search: &Search) {
    q.push(if search.finds_candidates() {
        dialect::POSTGRES_PARTNER_FILTER
    } else {
        " WHERE c.partner_id = "
    })
    .bind(Bind::Text(partner.to_string()));
    for (key, value) in &query.filters {
        match (*key, value) {
            // Free text is in `search`.
            ("q", _) => {}
            ("is_migrated", FilterValue::Bool(b)) => {
                q.push(" AND c.is_migrated = ")
                    .bind(Bind::Int(i64::from(*b)));
            }
            ("is_migrated", FilterValue::Int(n)) => {
                q.push(" AND c.is_migrated = ")
                    .bind(Bind::Int(i64::from(*n != 0)));
            }
            ("is_migrated", FilterValue::Text(t)) => {
                q.push(" AND c.is_migrated = ")
                    .bind(Bind::Int(i64::from(t.eq_ignore_ascii_case("true"))));
            }
            (key, FilterValue::Null) => match NULL_COLUMNS.iter().find(|(k, _)| *k == key) {
                Some((_, fragment)) => {
                    q.push(fragment);
                }
                None => {
                    q.push(" AND 1 = 0");
                }
            },
            (key, value) => {
                if let Some((_, fragment)) = FILTER_COLUMNS.iter().find(|(k, _)| *k == key) {
                    q.push(fragment).bind(Bind::Text(filter_text(value)));
                }
            }
        }
    }
    if let Some(indexed) = &search.indexed {
        q.push(dialect::SQLITE_CHANNEL_SEARCH_PARTNER)
            .bind(Bind::Text(partner.to_string()));
        q.push(dialect::SQLITE_CHANNEL_SEARCH_MATCH)
            .bind(Bind::Text(indexed.expression.clone()));
        if let Some(phrase) = &indexed.contains {
            q.push(dialect::SQLITE_CHANNEL_SEARCH_CONTAINS)
                .bind(Bind::Text(phrase.clone()))
                .push(") > 0");
        }
    }
    for scanned in &search.scanned {
        for (like, pattern) in &scanned.patterns {
            q.push(like).bind(Bind::Text(pattern.clone()));
        }
        if let Some(phrase) = &scanned.contains {
            q.push(dialect::POSTGRES_SEARCH_TEXT_CONTAINS)
                .bind(Bind::Text(phrase.clone()))
                .push(") > 0");
        }
    }
}

/// One page of the partner's channels matching the filters (and optional free text), and the
/// total that match.
pub async fn list(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(Vec<ChannelView>, i64), StoreError> {
    let (rows, total) = match db.native() {
        None => page::<Row>(db, partner, query, text, COLUMNS, None).await?,
        Some(native) => {
            let (rows, total) = native_page(db, native, partner, query, text).await?;
            let rows = rows
                .iter()
                .map(<Row as sqlx::FromRow<PgRow>>::from_row)
                .collect::<Result<Vec<_>, _>>()?;
            (rows, total)
        }
    };
    let channels = rows
        .into_iter()
        .map(ChannelView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((channels, total))
}

/// A page of channels as [`page_json`] returns it: in whichever form its backend makes cheaper
/// to turn into the Partner API's JSON array.
pub enum JsonPage {
    /// SQLite: the JSON array of the API's channel objects, written by the database
    /// ([`dialect::SQLITE_CHANNEL_JSON`]), and how many objects it holds. The page crosses
    /// sqlx's SQLite worker thread as one value instead of 100 rows of 37 columns.
    Written { array: String, count: usize },
    /// PostgreSQL: the rows, for the caller to read in place ([`NativeRows::channels`]) and
    /// write. `json_build_object` would look up the type of every argument of every row in the
    /// catalogue, which made objects written by PostgreSQL three times as dear as its rows.
    Rows(NativeRows),
}

/// A PostgreSQL page's rows as sqlx's own driver returns them (`Db::native`).
pub struct NativeRows(Vec<PgRow>);

impl NativeRows {
    /// Each channel's fields, borrowed from its row.
    pub fn channels(&self) -> Result<Vec<ChannelTexts<'_>>, StoreError> {
        self.0
            .iter()
            .map(|row| ChannelTexts::from_row(row).map_err(StoreError::from))
            .collect()
    }
}

/// [`list`]'s page for the Partner API, in the form its backend makes cheapest ([`JsonPage`]),
/// and the total.
pub async fn page_json(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(JsonPage, i64), StoreError> {
    match db.native() {
        None => {
            let select = dialect::SQLITE_CHANNEL_JSON;
            let (rows, total) =
                page::<ArrayRow>(db, partner, query, text, select, Some(SQLITE_ARRAY)).await?;
            let row = rows.into_iter().next();
            let count = row
                .as_ref()
                .map_or(0, |r| usize::try_from(r.n).unwrap_or(0));
            let array = row.map_or_else(|| "[]".to_owned(), |r| r.j);
            Ok((JsonPage::Written { array, count }, total))
        }
        Some(native) => {
            let (rows, total) = native_page(db, native, partner, query, text).await?;
            Ok((JsonPage::Rows(NativeRows(rows)), total))
        }
    }
}

/// Wraps a page of `j` objects (in list order: the inner query's `ORDER BY … LIMIT` makes it a
/// co-routine that yields its rows in order, and `group_concat` appends them as they come).
const SQLITE_ARRAY: &str = "SELECT '[' || COALESCE(group_concat(j, ','), '') || ']' AS j, COUNT(*) AS n, MAX(total) AS total FROM (";

#[derive(sqlx::FromRow)]
struct TrigramCount {
    i: i64,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct ArrayRow {
    j: String,
    n: i64,
    total: Option<i64>,
}

trait PageRow {
    /// Rows of the page this row stands for.
    fn rows(&self) -> i64 {
        1
    }
    fn total(&self) -> i64;
}

impl PageRow for Row {
    fn total(&self) -> i64 {
        self.total
    }
}

impl PageRow for ArrayRow {
    fn rows(&self) -> i64 {
        self.n
    }
    fn total(&self) -> i64 {
        self.total.unwrap_or(0)
    }
}

/// The page query of [`list`] with `select` as its columns; with `array`, that query becomes
/// the subquery of an aggregate that returns the whole page as one row.
async fn page<T>(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
    select: &'static str,
    array: Option<&'static str>,
) -> Result<(Vec<T>, i64), StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + PageRow + Send + Unpin,
{
    let statement = PageStatement::new(db, partner, query, text, select, array).await?;
    let rows = statement.select.fetch_all::<T, _>(db.pool()).await?;
    let total = match rows.first() {
        Some(first) if statement.counted && first.rows() > 0 => first.total(),
        _ => statement.count(db, partner, query).await?,
    };
    Ok((rows, total))
}

/// The page query of [`list`] through PostgreSQL's native pool, and the total.
async fn native_page(
    db: &crate::Db,
    native: &sqlx::PgPool,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(Vec<PgRow>, i64), StoreError> {
    let statement = PageStatement::new(db, partner, query, text, COLUMNS, None).await?;
    let rows = statement.select.fetch_native(native).await?;
    let total = match rows.first() {
        Some(first) if statement.counted => first.try_get::<i64, _>("total")?,
        _ => statement.count(db, partner, query).await?,
    };
    Ok((rows, total))
}

/// A list page's statement, and whether its rows carry the total (`total`).
struct PageStatement {
    select: Select,
    counted: bool,
    search: Search,
}

impl PageStatement {
    async fn new(
        db: &crate::Db,
        partner: &PartnerId,
        query: &ListQuery,
        text: Option<&str>,
        select: &'static str,
        array: Option<&'static str>,
    ) -> Result<PageStatement, StoreError> {
        let search = Search::plan(db, query, text).await?;
        // Through the trigram index every match is read anyway, so the page counts them too and
        // the phrase is looked up once; a scan would instead read every match's columns, so
        // there the page stops at its limit and `channel_counts` (read by the page's own
        // statement) or a narrow count gives the total.
        // PostgreSQL checks every candidate of a pattern before it sorts (its trigram index
        // yields them unordered), so there too the page counts the matches rather than a second
        // query reading them all again.
        let counted_by_page = search.indexed.is_some()
            || (db.backend() == Backend::Postgres && !search.scanned.is_empty());
        let mut page = Select::new(array.unwrap_or(""));
        // A common phrase's pattern does steer PostgreSQL's plan (the trigram index or the
        // partner's rows), so such a search keeps its per-value plans.
        if (search.is_empty() || search.finds_candidates())
            && dialect::hides_page_binds(db.backend())
        {
            page.opaque_binds();
        }
        page.push(select);
        let mut counted = counted_by_page;
        if counted_by_page {
            // The window needs every match, so it runs over ids alone; the page's columns (and
            // JSON objects) are then built for the rows of the page only.
            page.push(", p.total AS total FROM (SELECT c.id AS page_id, COUNT(*) OVER () AS total");
            page.push(search.from());
            if needs_joins(query) {
                page.push(JOINS);
            }
            where_clause(&mut page, partner, query, &search);
            page.order_by(&query.sort, SORT_COLUMNS, ("c.id ASC", "c.id DESC"));
            page.limit(query.limit, Some(query.offset));
            page.push(dialect::page_rows_join(db.backend())).push(JOINS);
            page.order_by(&query.sort, SORT_COLUMNS, ("c.id ASC", "c.id DESC"));
        } else {
            counted = push_counted_total(&mut page, partner, query, &search);
            if !counted && array.is_some() {
                page.push(", 0 AS total");
            }
            page.push(search.from()).push(JOINS);
            where_clause(&mut page, partner, query, &search);
            page.order_by(&query.sort, SORT_COLUMNS, ("c.id ASC", "c.id DESC"));
            page.limit(query.limit, Some(query.offset));
        }
        if array.is_some() {
            page.push(")");
        }
        Ok(PageStatement {
            select: page,
            counted,
            search,
        })
    }

    /// The total for pages whose rows do not carry it: filters `channel_counts` cannot
    /// answer, or a page past the last one.
    async fn count(
        &self,
        db: &crate::Db,
        partner: &PartnerId,
        query: &ListQuery,
    ) -> Result<i64, StoreError> {
        let mut count = Select::new(COUNT);
        count.push(self.search.from());
        if needs_joins(query) {
            count.push(JOINS);
        }
        where_clause(&mut count, partner, query, &self.search);
        Ok(count.fetch_count(db.pool()).await?)
    }
}

/// Where an export batch ends: the last row's creation time and id.
#[derive(Clone, Debug)]
pub struct Cursor {
    pub created_ms: i64,
    pub id: String,
}

/// How far an export has read: rows so far, and the last row (for newest-first exports).
#[derive(Clone, Debug, Default)]
pub struct ExportPosition {
    pub offset: i64,
    pub after: Option<Cursor>,
}

/// A channel as a line of the CSV export: only what the export shows, and where the row is.
#[derive(Clone, Debug)]
pub struct ExportRow {
    pub id: String,
    pub created_ms: i64,
    pub client_name: String,
    pub client_organisation: Option<String>,
    pub client_email: Option<String>,
    pub phone_number: String,
    pub phone_name: String,
    pub status: ChannelStatus,
    pub waba_business_status: Option<String>,
    pub waba_fb_account_status: String,
}

/// The export's columns: a third of [`COLUMNS`], which is what 100,000 rows cost to decode.
const EXPORT_COLUMNS: &str = "SELECT c.id, c.created_ms, cl.name AS client_name,
        cl.organisation AS client_organisation, cl.contact_email AS client_email,
        c.phone_number, c.phone_name, c.status, w.business_status AS waba_business_status,
        w.fb_account_status AS waba_fb_account_status";

#[derive(sqlx::FromRow)]
struct ExportRowColumns {
    id: String,
    created_ms: i64,
    client_name: String,
    client_organisation: Option<String>,
    client_email: Option<String>,
    phone_number: String,
    phone_name: String,
    status: String,
    waba_business_status: Option<String>,
    waba_fb_account_status: String,
}

impl TryFrom<ExportRowColumns> for ExportRow {
    type Error = StoreError;
    fn try_from(r: ExportRowColumns) -> Result<Self, StoreError> {
        Ok(ExportRow {
            status: parse_column("channels.status", &r.status, ChannelStatus::parse)?,
            id: r.id,
            created_ms: r.created_ms,
            client_name: r.client_name,
            client_organisation: r.client_organisation,
            client_email: r.client_email,
            phone_number: r.phone_number,
            phone_name: r.phone_name,
            waba_business_status: r.waba_business_status,
            waba_fb_account_status: r.waba_fb_account_status,
        })
    }
}

/// The next `limit` channels of an export, without a count. Newest-first exports (the default)
/// continue after the last row read, so every batch costs the same and a number added meanwhile
/// cannot shift rows between batches; other orders page by offset.
pub async fn export_batch(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
    position: &ExportPosition,
    limit: i64,
) -> Result<Vec<ExportRow>, StoreError> {
    let newest_first =
        matches!(query.sort.as_slice(), [key] if key.field == "created_at" && key.descending);
    let search = Search::plan(db, query, text).await?;
    let sqlite = db.backend() == Backend::Sqlite;
    let mut page = Select::new(if sqlite { SQLITE_EXPORT_ARRAY } else { "" });
    page.push(EXPORT_COLUMNS);
    page.push(search.from()).push(JOINS);
    where_clause(&mut page, partner, query, &search);
    if newest_first {
        if let Some(after) = &position.after {
            // `created_ms <=` bounds the index range, so each batch starts where the last
            // ended instead of reading past every row exported so far.
            page.push(" AND c.created_ms <= ")
                .bind(Bind::Int(after.created_ms));
            page.push(" AND (c.created_ms < ")
                .bind(Bind::Int(after.created_ms));
            page.push(" OR (c.created_ms = ")
                .bind(Bind::Int(after.created_ms));
            page.push(" AND c.id < ")
                .bind(Bind::Text(after.id.clone()))
                .push("))");
        }
        page.push(" ORDER BY c.created_ms DESC, c.id DESC")
            .limit(limit, None);
    } else {
        page.order_by(&query.sort, SORT_COLUMNS, ("c.id ASC", "c.id DESC"));
        page.limit(limit, Some(position.offset));
    }
    if sqlite {
        page.push(")");
        let Some(batch) = page.fetch_all::<ExportBatch, _>(db.pool()).await?.pop() else {
            return Ok(Vec::new());
        };
        let rows: Vec<ExportRowTuple> = serde_json::from_str(&batch.j)
            .map_err(|e| StoreError::Corrupt(format!("export batch: {e}")))?;
        return rows
            .into_iter()
            .map(|t| {
                ExportRow::try_from(ExportRowColumns {
                    id: t.0,
                    created_ms: t.1,
                    client_name: t.2,
                    client_organisation: t.3,
                    client_email: t.4,
                    phone_number: t.5,
                    phone_name: t.6,
                    status: t.7,
                    waba_business_status: t.8,
                    waba_fb_account_status: t.9,
                })
            })
            .collect();
    }
    let rows = page.fetch_all::<ExportRowColumns, _>(db.pool()).await?;
    rows.into_iter().map(ExportRow::try_from).collect()
}

/// On SQLite an export batch crosses sqlx's worker thread as one JSON array of row arrays, in
/// the batch's order (as [`SQLITE_ARRAY`] does for list pages): row by row, the hand-over cost
/// more than the query.
const SQLITE_EXPORT_ARRAY: &str = "SELECT COALESCE(json_group_array(json_array(id, created_ms,
    client_name, client_organisation, client_email, phone_number, phone_name, status,
    waba_business_status, waba_fb_account_status)), '[]') AS j FROM (";

#[derive(sqlx::FromRow)]
struct ExportBatch {
    j: String,
}

type ExportRowTuple = (
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
);

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<Option<ChannelView>, StoreError> {
    let mut q = Select::new(COLUMNS);
    q.push(FROM_CHANNELS).push(JOINS);
    q.push(" WHERE c.partner_id = ")
        .bind(Bind::Text(partner.to_string()));
    q.push(" AND c.id = ").bind(Bind::Text(id.to_string()));
    q.fetch_all::<Row, _>(ex)
        .await?
        .into_iter()
        .next()
        .map(ChannelView::try_from)
        .transpose()
}

pub struct NewChannel<'a> {
    pub id: &'a ChannelId,
    pub client_id: &'a ClientId,
    pub waba_id: &'a WabaId,
    pub phone_number: &'a str,
    pub phone_name: &'a str,
    pub verification_method: &'a str,
    pub status: ChannelStatus,
    pub account_mode: &'a str,
    pub hosting_type: &'a str,
    pub data_storage_region: Option<&'a str>,
    pub partner_permission: &'a str,
    pub quality_rating: &'a str,
    pub is_migrated: bool,
    /// Lower-cased number, display name, client name and email for free-text search.
    pub search_text: &'a str,
}

/// Insert a channel and its first history entry; `false` when its random id is already taken.
/// A live number elsewhere on the platform is a `Conflict` on `channels_live_phone`.
pub async fn create(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    channel: &NewChannel<'_>,
    reason: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO channels (id, partner_id, client_id, waba_id, phone_number, phone_name,
             verification_method, status, account_mode, hosting_type, data_storage_region,
             partner_permission, quality_rating, is_migrated, search_text, created_ms, modified_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(channel.id.as_str())
    .bind(partner.as_str())
    .bind(channel.client_id.as_str())
    .bind(channel.waba_id.as_str())
    .bind(channel.phone_number)
    .bind(channel.phone_name)
    .bind(channel.verification_method)
    .bind(channel.status.as_str())
    .bind(channel.account_mode)
    .bind(channel.hosting_type)
    .bind(channel.data_storage_region)
    .bind(channel.partner_permission)
    .bind(channel.quality_rating)
    .bind(i64::from(channel.is_migrated))
    .bind(channel.search_text)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    count_status(&mut *conn, partner, channel.status, 1).await?;
    record_history(
        &mut *conn,
        partner,
        channel.id,
        None,
        channel.status,
        reason,
        now_ms,
    )
    .await?;
    Ok(true)
}

/// Keep `channel_counts` in step with a channel entering (`delta` 1) or leaving (-1) a status.
pub(crate) async fn count_status(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    status: ChannelStatus,
    delta: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO channel_counts (partner_id, status, n) VALUES ($1, $2, $3)
         ON CONFLICT (partner_id, status) DO UPDATE SET n = channel_counts.n + $3",
    )
    .bind(partner.as_str())
    .bind(status.as_str())
    .bind(delta)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// When the query filters by nothing but the status, adds the total it would report to the
/// select list as a column `total` read from `channel_counts` (so the page and its total are
/// one statement) and returns true; returns false when a real count is needed.
fn push_counted_total(
    q: &mut Select,
    partner: &PartnerId,
    query: &ListQuery,
    search: &Search,
) -> bool {
    if !search.is_empty() {
        return false;
    }
    match query.filters.as_slice() {
        [] => {
            q.push(
                ", COALESCE((SELECT CAST(SUM(n) AS BIGINT) FROM channel_counts WHERE partner_id = ",
            )
            .bind(Bind::Text(partner.to_string()))
            .push("), 0) AS total");
        }
        [("status", FilterValue::Text(status))] => {
            q.push(", COALESCE((SELECT n FROM channel_counts WHERE partner_id = ")
                .bind(Bind::Text(partner.to_string()))
                .push(" AND status = ")
                .bind(Bind::Text(status.clone()))
                .push("), 0) AS total");
        }
        _ => return false,
    }
    true
}

/// History ids sort in the order the steps happened, even several within one millisecond.
fn history_id(now_ms: i64) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) % 1_000_000;
    format!("hist_{now_ms:013}{seq:06}_{}", domain::ids::row_id("x"))
}

async fn record_history<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
    from: Option<ChannelStatus>,
    to: ChannelStatus,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO channel_status_history (id, partner_id, channel_id, from_status, to_status, reason, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(history_id(now_ms))
    .bind(partner.as_str())
    .bind(id.as_str())
    .bind(from.map(ChannelStatus::as_str))
    .bind(to.as_str())
    .bind(reason)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Move a channel from `from` to `to` (only if it is still in `from`, so concurrent movers cannot
/// both win) and record the step. Running for the first time starts billing; cancelled stops it.
pub async fn transition(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    id: &ChannelId,
    from: ChannelStatus,
    to: ChannelStatus,
    reason: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE channels SET status = $1, modified_ms = $2,
                billing_started_ms = CASE WHEN $1 = 'running' AND billing_started_ms IS NULL THEN $2 ELSE billing_started_ms END,
                cancelled_ms = CASE WHEN $1 = 'cancelled' THEN $2 ELSE cancelled_ms END,
                terminated_ms = CASE WHEN $1 = 'cancelled' THEN $2 ELSE terminated_ms END,
                cancellation_requested_ms = CASE WHEN $1 = 'pending_deletion' THEN $2
                                                 WHEN $1 = 'running' THEN NULL
                                                 ELSE cancellation_requested_ms END
          WHERE partner_id = $3 AND id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    count_status(&mut *conn, partner, from, -1).await?;
    count_status(&mut *conn, partner, to, 1).await?;
    record_history(&mut *conn, partner, id, Some(from), to, reason, now_ms).await?;
    Ok(true)
}

/// One step of a channel's status timeline.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HistoryEntry {
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub created_ms: i64,
}

pub async fn history<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<Vec<HistoryEntry>, StoreError> {
    Ok(sqlx::query_as::<_, HistoryEntry>(
        "SELECT from_status, to_status, reason, created_ms FROM channel_status_history
          WHERE partner_id = $1 AND channel_id = $2 ORDER BY created_ms, id",
    )
    .bind(partner.as_str())
    .bind(id.as_str())
    .fetch_all(ex)
    .await?)
}

/// Count a wrong verification code; at `max_attempts` the channel is locked until `lock_until_ms`.
/// Returns the attempts so far.
pub async fn record_wrong_code(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    id: &ChannelId,
    max_attempts: i64,
    lock_until_ms: i64,
    now_ms: i64,
) -> Result<i64, StoreError> {
    sqlx::query(
        "UPDATE channels SET verification_attempts = verification_attempts + 1, modified_ms = $1,
                locked_until_ms = CASE WHEN verification_attempts + 1 >= $2 THEN $3 ELSE locked_until_ms END
          WHERE partner_id = $4 AND id = $5",
    )
    .bind(now_ms)
    .bind(max_attempts)
    .bind(lock_until_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT verification_attempts FROM channels WHERE partner_id = $1 AND id = $2",
    )
    .bind(partner.as_str())
    .bind(id.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

/// A lock has run out: start counting wrong codes afresh.
pub async fn reset_attempts<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE channels SET verification_attempts = 0, locked_until_ms = NULL WHERE partner_id = $1 AND id = $2")
        .bind(partner.as_str())
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// The provider's view of a number: its Meta id, quality rating and messaging limit.
pub async fn set_provider_facts<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
    external_id: Option<&str>,
    quality_rating: &str,
    current_limit: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE channels SET external_id = COALESCE($1, external_id), quality_rating = $2,
                current_limit = COALESCE($3, current_limit), modified_ms = $4
          WHERE partner_id = $5 AND id = $6",
    )
    .bind(external_id)
    .bind(quality_rating)
    .bind(current_limit)
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(())
}

/// How many channels (not cancelled) a client has, for `max_channels`.
pub async fn count_live_for_client<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM channels
          WHERE partner_id = $1 AND client_id = $2 AND status <> 'cancelled'",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .fetch_one(ex)
    .await?)
}

/// Is this number live (not cancelled) anywhere on the platform?
pub async fn phone_in_use<'e>(
    ex: impl Executor<'e, Database = Any>,
    phone: &str,
) -> Result<bool, StoreError> {
    let n = sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM channels WHERE phone_number = $1 AND status <> 'cancelled'",
    )
    .bind(phone)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// Set the partner's API-key permission on a channel of `client`; `false` when the channel is
/// not this client's (of this partner).
pub async fn set_permission<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
    id: &ChannelId,
    permission: domain::PartnerPermission,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE channels SET partner_permission = $1, modified_ms = $2
          WHERE partner_id = $3 AND client_id = $4 AND id = $5",
    )
    .bind(permission.as_str())
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(client.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(phrase: &str, backend: Backend) -> Vec<(String, bool)> {
        trigrams(phrase, backend)
            .into_iter()
            .map(|t| (t.text, t.joined))
            .collect()
    }

    fn plain(texts: &[&str]) -> Vec<(String, bool)> {
        texts.iter().map(|t| ((*t).to_owned(), false)).collect()
    }

    #[test]
    fn postgres_finds_a_phrase_across_words_by_its_joined_trigrams_first() {
        let mut expected = vec![("nt0".to_owned(), true)];
        expected.extend(plain(&["cli", "lie", "ien", "ent"]));
        assert_eq!(texts("client 0", Backend::Postgres), expected);
        // SQLite's trigram index holds the space itself.
        assert_eq!(
            texts("client 0", Backend::Sqlite),
            plain(&["cli", "lie", "ien", "ent", "nt ", "t 0"])
        );
        // Spaces in a row are one gap; a joined trigram is letters and digits only.
        let mut expected = vec![("abc".to_owned(), true), ("bcd".to_owned(), true)];
        expected.extend(plain(&[" cd"]));
        assert_eq!(texts("ab  cd", Backend::Postgres), expected);
        assert_eq!(texts("a.b c", Backend::Postgres), Vec::new());
        // A word's start (" 97") is pg_trgm's own.
        let mut expected = vec![("nt9".to_owned(), true), ("t97".to_owned(), true)];
        expected.extend(plain(&["cli", "lie", "ien", "ent", " 97"]));
        assert_eq!(texts("client 97", Backend::Postgres), expected);
    }
}
