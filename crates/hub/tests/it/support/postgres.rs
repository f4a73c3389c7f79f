//! Throw-away PostgreSQL databases for tests, created on the server named by `PARTNERHUB_TEST_POSTGRES_URL`.

use rand::Rng;
use sqlx::{AnyConnection, AssertSqlSafe, Connection};

/// Name of the environment variable holding the admin URL of the test PostgreSQL server.
pub const POSTGRES_URL_ENV: &str = "PARTNERHUB_TEST_POSTGRES_URL";

/// Prefix of every database created here; `scripts/test` drops leftovers with this prefix.
pub const DATABASE_PREFIX: &str = "ph_test_";

/// The admin URL from `PARTNERHUB_TEST_POSTGRES_URL`, or `None` when PostgreSQL tests should be
/// skipped (unset or empty).
pub fn test_postgres_url() -> Option<String> {
    std::env::var(POSTGRES_URL_ENV)
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
}

/// A freshly created, empty database; call [`TestDatabase::remove`] when done (or let it drop).
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL of the new database (the admin URL with its path replaced).
    pub url: String,
    name: String,
    admin_url: String,
    /// Set once `remove` dropped it, so the drop guard has nothing left to do.
    removed: bool,
}

/// Creates an empty database `ph_test_<12 random lowercase alphanumerics>` through `admin_url`.
pub async fn create(admin_url: &str) -> TestDatabase {
    sqlx::any::install_default_drivers();
    let name = random_name();
    let mut url = url::Url::parse(admin_url)
        .unwrap_or_else(|err| panic!("invalid PostgreSQL admin URL {admin_url:?}: {err}"));
    url.set_path(&format!("/{name}"));
    let mut admin = connect(admin_url).await;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|err| panic!("cannot create test database {name}: {err}"));
    let _ = admin.close().await;
    TestDatabase {
        url: url.to_string(),
        name,
        admin_url: admin_url.to_owned(),
        removed: false,
    }
}

impl TestDatabase {
    /// The database name (`ph_test_…`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, terminating any connections still open to it.
    pub async fn remove(mut self) {
        drop_database(&self.admin_url, &self.name)
            .await
            .unwrap_or_else(|err| panic!("cannot drop test database {}: {err}", self.name));
        self.removed = true;
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut admin = AnyConnection::connect(admin_url).await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    let _ = admin.close().await;
    Ok(())
}

/// The drop guard: a test that panics (or forgets `remove`) still leaves no database behind.
/// Dropping happens on a thread of its own, since a panicking test's runtime may be gone.
impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(drop_database(&admin_url, &name))
                .map_err(|e| e.to_string())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {} ({dropped:?})", self.name);
        }
    }
}

async fn connect(admin_url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(admin_url)
        .await
        .unwrap_or_else(|err| panic!("cannot connect to PostgreSQL at {admin_url}: {err}"))
}

fn random_name() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{DATABASE_PREFIX}{suffix}")
}
