//! `Db`: the connection pools and which backend they talk to, chosen by the database URL.

use crate::{StoreError, dialect};
use sqlx::any::AnyPoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Any, Connection, Transaction};
use sqlx::{AnyPool, PgPool};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// SQLite connections: two per core. Each connection is a thread of its own that copies every
/// row it reads through SQLite's allocator; more threads than cores only contend for its lock
/// and the cores (on two cores, eight connections cost twice the CPU per list request of two).
/// Two per core leave room for a writer and a long export next to the short reads.
fn sqlite_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    u32::try_from(cores * 2).unwrap_or(16).clamp(4, 16)
}

/// PostgreSQL connections of one Hub: the `Any` pool's, and the native pool's for list pages
/// (fewer: a page keeps PostgreSQL's cores busy, more at once only queue there).
const POSTGRES_CONNECTIONS: u32 = 16;
const POSTGRES_NATIVE_CONNECTIONS: u32 = 8;

/// Size of the readiness probe's row: more than one SQLite page, so it needs room.
const PROBE_BYTES: usize = 8 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Tests only: the most pages a SQLite database may have (`PRAGMA max_page_count`), applied to
/// every connection as it opens and at every checkout, so a test can make the database report
/// "database or disk is full" without a small filesystem, and then make room again. Unset (the
/// default) costs nothing.
#[derive(Clone, Debug, Default)]
pub struct PageLimit(Option<Arc<AtomicU64>>);

impl PageLimit {
    /// A limit that starts at `pages` (SQLite never applies one below the file's current size).
    pub fn new(pages: u64) -> Self {
        Self(Some(Arc::new(AtomicU64::new(pages))))
    }

    fn is_set(&self) -> bool {
        self.0.is_some()
    }

    pub fn set(&self, pages: u64) {
        if let Some(limit) = &self.0 {
            limit.store(pages, Ordering::SeqCst);
        }
    }

    async fn apply(&self, conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        if let Some(limit) = &self.0 {
            let pages = limit.load(Ordering::SeqCst);
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "PRAGMA max_page_count = {pages}"
            )))
            .execute(conn)
            .await?;
        }
        Ok(())
    }
}

/// A database URL we cannot use, said in words.
#[derive(Debug, thiserror::Error)]
pub enum DbConfigError {
    #[error("database URL must start with postgres:// or sqlite:// (got {0:?})")]
    UnsupportedScheme(String),
}

/// A schema older than the build: the newest migration applied (`None`: none at all) and the
/// newest this build needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaBehind {
    pub applied: Option<i64>,
    pub needed: i64,
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// PostgreSQL: a pool of sqlx's own PostgreSQL driver beside `pool`, for the channel list
    /// pages only. Through `Any` every column of every row is copied into an owned value with
    /// its name; the native driver's rows lend their texts, so a page of 100 channels comes as
    /// plain columns without PostgreSQL first packing each row into JSON (which cost it more
    /// than reading the rows). Its connections open on first use.
    native: Option<PgPool>,
    backend: Backend,
    /// SQLite has one writer at a time. Writers queue here, in order, instead of meeting at the
    /// file lock, where SQLite's busy handler would put them to sleep for up to 100 ms a try.
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// Background writers line up here before `write_turn` (see `begin_background_write`).
    background_turn: Arc<tokio::sync::Mutex<()>>,
    trigram_stats: Arc<crate::search_stats::TrigramStats>,
}

/// A write transaction; on SQLite it also holds this process's writer turn until it ends.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    _background: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.tx.rollback().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl Db {
    /// Which backend a URL selects, before connecting.
    pub fn backend_of(url: &str) -> Result<Backend, DbConfigError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            let scheme = url.split(':').next().unwrap_or_default().to_owned();
            Err(DbConfigError::UnsupportedScheme(scheme))
        }
    }

    /// The URL of the embedded SQLite file in `data_dir`.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("partnerhub.db").display()
        )
    }

    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, PageLimit::default()).await
    }

    /// `connect`, with a SQLite size limit that tests move to make the database "full".
    pub async fn connect_with(url: &str, page_limit: PageLimit) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Self::backend_of(url)
            .map_err(|e| StoreError::Unavailable(sqlx::Error::Configuration(Box::new(e))))?;
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    if !conn.is_in_transaction() {
                        return Ok(true);
                    }
                    // A dropped transaction's rollback is queued on the connection; run it, then
                    // keep the connection only if it really left the transaction. A rollback can
                    // fail (SQLite rolls back by itself on "disk full", so its ROLLBACK finds no
                    // transaction), and a connection still counted inside one would refuse every
                    // later `BEGIN`.
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            });
        let pool = match backend {
            Backend::Sqlite => {
                // Only a test's size limit needs a hook at every checkout.
                let options = match page_limit.is_set() {
                    true => {
                        let page_limit = page_limit.clone();
                        options.before_acquire(move |conn, _meta| {
                            let page_limit = page_limit.clone();
                            Box::pin(async move {
                                page_limit.apply(conn).await?;
                                Ok(true)
                            })
                        })
                    }
                    false => options,
                };
                options
                    // A local file cannot drop a connection the way a network can; pinging the
                    // worker thread before every checkout would double short queries' cost.
                    .test_before_acquire(false)
                    .max_connections(sqlite_connections())
                    .after_connect({
                        let page_limit = page_limit.clone();
                        move |conn, _meta| {
                            let page_limit = page_limit.clone();
                            Box::pin(async move {
                                for pragma in dialect::SQLITE_PRAGMAS {
                                    sqlx::query(*pragma).execute(&mut *conn).await?;
                                }
                                page_limit.apply(conn).await
                            })
                        }
                    })
                    .connect(url)
                    .await?
            }
            // No ping before every checkout either: it doubled the round trips of short reads.
            // A connection the server dropped fails its next query and is discarded then.
            Backend::Postgres => {
                options
                    .test_before_acquire(false)
                    .max_connections(POSTGRES_CONNECTIONS)
                    .connect(url)
                    .await?
            }
        };
        let native = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                PgPoolOptions::new()
                    .acquire_timeout(Duration::from_secs(10))
                    .test_before_acquire(false)
                    .max_connections(POSTGRES_NATIVE_CONNECTIONS)
                    .connect_lazy(url)?,
            ),
        };
        Ok(Self {
            pool,
            native,
            backend,
            write_turn: Arc::new(tokio::sync::Mutex::new(())),
            background_turn: Arc::new(tokio::sync::Mutex::new(())),
            trigram_stats: Arc::default(),
        })
    }

    /// How far the database's schema is behind this build's migrations; `None` when it is up
    /// to date. (SQLite always migrates at start; PostgreSQL only when asked, so this is how a
    /// `serve` without `--migrate` finds out it must not run.)
    pub async fn schema_behind(&self) -> Result<Option<SchemaBehind>, StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let needed = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let table = match self.backend {
            Backend::Sqlite => {
                "SELECT CAST(COUNT(*) AS BIGINT) FROM sqlite_master
                  WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables
                  WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query_scalar(table).fetch_one(&self.pool).await?;
        let applied: Option<i64> = if exists == 0 {
            None
        } else {
            sqlx::query_scalar(
                "SELECT CAST(MAX(version) AS BIGINT) FROM _sqlx_migrations WHERE success = TRUE",
            )
            .fetch_one(&self.pool)
            .await?
        };
        Ok((applied.unwrap_or(0) < needed).then_some(SchemaBehind { applied, needed }))
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// PostgreSQL's native pool (see the field); `None` on SQLite.
    pub(crate) fn native(&self) -> Option<&PgPool> {
        self.native.as_ref()
    }

    pub(crate) fn trigram_stats(&self) -> &crate::search_stats::TrigramStats {
        &self.trigram_stats
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that will write; on SQLite it holds the write lock from the start.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let turn = match self.backend {
            Backend::Sqlite => Some(self.write_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = self
            .pool
            .begin_with(dialect::begin_write(self.backend))
            .await?;
        Ok(WriteTx {
            tx,
            _turn: turn,
            _background: None,
        })
    }

    /// A write transaction for background work (jobs, webhook deliveries, reports). On SQLite
    /// background writers queue for the writer turn one at a time, so a request's write waits
    /// behind at most one of them (and whoever holds the turn), however many are due; they
    /// still take their turn in order, so none starves.
    pub async fn begin_background_write(&self) -> Result<WriteTx, StoreError> {
        let background = match self.backend {
            Backend::Sqlite => Some(self.background_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let mut tx = self.begin_write().await?;
        tx._background = background;
        Ok(tx)
    }

    /// Is the database answering? Used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Can the database take a write? A row of a few kilobytes is written and deleted in one
    /// committed transaction; a full disk (or size limit) answers `StorageFull`.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let id = domain::ids::row_id("probe");
        sqlx::query("INSERT INTO storage_probe (id, filler) VALUES ($1, $2)")
            .bind(&id)
            .bind("x".repeat(PROBE_BYTES))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM storage_probe WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(native) = &self.native {
            native.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's write goes before a second background writer that was waiting longer: the
    /// background writers line up behind one another, not in front of requests.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_writes_before_a_queued_background_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&Db::sqlite_url(dir.path())).await.unwrap();
        let first = db.begin_background_write().await.unwrap();
        let (order, mut seen) = tokio::sync::mpsc::unbounded_channel();
        let background = {
            let (db, order) = (db.clone(), order.clone());
            tokio::spawn(async move {
                let tx = db.begin_background_write().await.unwrap();
                order.send("background").unwrap();
                tx.rollback().await.unwrap();
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let request = {
            let db = db.clone();
            tokio::spawn(async move {
                let tx = db.begin_write().await.unwrap();
                order.send("request").unwrap();
                tx.rollback().await.unwrap();
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        first.rollback().await.unwrap();
        background.await.unwrap();
        request.await.unwrap();
        assert_eq!(seen.recv().await, Some("request"));
        assert_eq!(seen.recv().await, Some("background"));
    }

    #[test]
    fn migration_folders_list_the_same_versions() {
        let versions = |m: &sqlx::migrate::Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(&SQLITE_MIGRATIONS), versions(&POSTGRES_MIGRATIONS));
        assert!(SQLITE_MIGRATIONS.iter().count() > 0);
    }

    #[test]
    fn backend_is_chosen_by_scheme() {
        assert_eq!(
            Db::backend_of("postgres://x/y").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(Db::backend_of("sqlite://a.db").ok(), Some(Backend::Sqlite));
        assert!(Db::backend_of("mysql://x").is_err());
    }
}
