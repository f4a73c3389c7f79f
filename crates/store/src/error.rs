//! The store's error: what went wrong in words the service layer can map to a status.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The disk (or the database's size limit) is full: nothing can be written until space
    /// is freed. Reads still work, and writes resume by themselves once there is room.
    #[error("the database's storage is full: {0}")]
    StorageFull(#[source] sqlx::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                constraint: db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned()),
            },
            sqlx::Error::Database(db) if is_storage_full(db.as_ref()) => {
                StoreError::StorageFull(err)
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err)
            }
            _ => StoreError::Database(err),
        }
    }
}

/// SQLite's `SQLITE_FULL` (13, "database or disk is full", also past `max_page_count`) and
/// PostgreSQL's `disk_full` (53100).
fn is_storage_full(db: &dyn sqlx::error::DatabaseError) -> bool {
    matches!(db.code().as_deref(), Some("13" | "53100"))
        || db.message().contains("database or disk is full")
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    pub fn is_storage_full(&self) -> bool {
        matches!(self, StoreError::StorageFull(_))
    }
}
