//! The free-text search planner: which trigram index (or none) finds the candidates of a phrase, per backend.

use super::*;

/// Free text typed in a search box, as matched case-insensitively against number, display name,
/// client name and email: trimmed and lower-cased. `%` and `_` are searched for as themselves
/// (see [`like_contains`]).
pub(super) fn search_phrase(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A `LIKE` pattern matching text that contains `text` literally: its wildcards and the escape
/// character are escaped with a backslash (PostgreSQL's default escape; SQLite is told with
/// [`Search::like_escape`]).
pub(super) fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Phrases with at least this many characters can use SQLite's trigram index.
pub(super) const INDEXED_PHRASE_MIN_CHARS: usize = 3;

/// A phrase found through SQLite's trigram index: the FTS5 expression that finds candidates,
/// and the phrase they must then contain when the expression alone does not say so.
#[derive(Debug)]
pub(super) struct Indexed {
    pub(super) expression: String,
    pub(super) contains: Option<String>,
}

/// A phrase matched with `LIKE` on `c.search_text` (PostgreSQL's trigram index answers the
/// patterns), and on PostgreSQL the phrase the rows must then contain when the patterns are
/// only parts of it.
#[derive(Debug)]
pub(super) struct Scanned {
    /// Conditions that narrow the candidates: `… LIKE ` and the pattern it binds.
    pub(super) patterns: Vec<(&'static str, String)>,
    pub(super) contains: Option<String>,
    /// The patterns are rare trigrams: the trigram index yields few candidates (at most
    /// `dialect::trigram_count_max`) whichever partner asks.
    pub(super) rare: bool,
}

impl Scanned {
    pub(super) fn whole(phrase: String) -> Scanned {
        Scanned {
            patterns: vec![(SEARCH_TEXT_LIKE, like_contains(&phrase))],
            contains: None,
            rare: false,
        }
    }
}

/// A condition on `c.search_text` as a `LIKE` pattern binds it.
pub(super) const SEARCH_TEXT_LIKE: &str = " AND c.search_text LIKE ";

/// A trigram to find a phrase's candidates by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Trigram {
    pub(super) text: String,
    /// PostgreSQL: `pg_trgm` splits words at spaces, so three characters across one ("t 0" of
    /// "client 0") are in no index entry of `search_text`; with the spaces taken out ("nt0")
    /// they are in the index behind `dialect::POSTGRES_JOINED_SEARCH_TEXT_LIKE`. A phrase of
    /// common words may have no rare trigram but these.
    pub(super) joined: bool,
}

impl Trigram {
    pub(super) fn plain(text: String) -> Trigram {
        Trigram {
            text,
            joined: false,
        }
    }

    /// The condition that finds the rows holding it, and its pattern.
    pub(super) fn pattern(&self) -> (&'static str, String) {
        let like = if self.joined {
            dialect::POSTGRES_JOINED_SEARCH_TEXT_LIKE
        } else {
            SEARCH_TEXT_LIKE
        };
        (like, like_contains(&self.text))
    }

    /// Its key among the counted trigrams: a joined one's count is not the plain one's.
    pub(super) fn key(&self) -> String {
        if self.joined {
            format!("joined {}", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// How a list's free text (`q` filters and the search box) is matched.
#[derive(Debug, Default)]
pub(super) struct Search {
    /// SQLite: the one phrase matched through `channel_search`, which then drives the query.
    pub(super) indexed: Option<Indexed>,
    /// Phrases matched with `LIKE`.
    pub(super) scanned: Vec<Scanned>,
    /// What follows each `LIKE` pattern: SQLite has no escape character unless told.
    pub(super) like_escape: &'static str,
}

/// The distinct trigrams of `phrase`, in order; for PostgreSQL only those `pg_trgm` takes from
/// a `LIKE` pattern (three letters or digits, or a space and two: a word's start), after the
/// [`Trigram::joined`] ones, which go first so that a tie goes to them: they hold two words.
pub(super) fn trigrams(phrase: &str, backend: Backend) -> Vec<Trigram> {
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
pub(super) fn rarest<'t>(
    counted: &mut [(i64, &'t Trigram)],
    backend: Backend,
) -> Option<Vec<&'t Trigram>> {
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
    pub(super) async fn plan(
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
        let mut search = Search {
            like_escape: dialect::like_escape(db.backend()),
            ..Search::default()
        };
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
    pub(super) async fn count_trigrams<'t>(
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
    pub(super) async fn through_index(
        db: &crate::Db,
        phrase: &str,
    ) -> Result<Option<Indexed>, StoreError> {
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
    pub(super) async fn through_gin(db: &crate::Db, phrase: String) -> Result<Scanned, StoreError> {
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
    pub(super) fn from(&self) -> &'static str {
        if self.indexed.is_some() {
            dialect::SQLITE_CHANNEL_SEARCH_FROM
        } else {
            FROM_CHANNELS
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.indexed.is_none() && self.scanned.is_empty()
    }

    /// PostgreSQL: a phrase's rare trigrams find the candidates, so the partner is only a
    /// filter on them (see `dialect::POSTGRES_PARTNER_FILTER`) and no plan depends on values.
    pub(super) fn finds_candidates(&self) -> bool {
        self.scanned.iter().any(|s| s.rare)
    }
}

pub(super) fn where_clause(
    q: &mut Select,
    partner: &PartnerId,
    query: &ListQuery,
    search: &Search,
) {
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
            q.push(like)
                .bind(Bind::Text(pattern.clone()))
                .push(search.like_escape);
        }
        if let Some(phrase) = &scanned.contains {
            q.push(dialect::POSTGRES_SEARCH_TEXT_CONTAINS)
                .bind(Bind::Text(phrase.clone()))
                .push(") > 0");
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct TrigramCount {
    pub(super) i: i64,
    pub(super) n: i64,
}
