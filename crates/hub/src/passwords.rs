//! Password hashing with Argon2id at the OWASP parameters (19 MiB, 2 passes, 1 lane — the
//! argon2 crate's defaults). Hashing is slow on purpose, so it runs on the blocking pool.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::LazyLock;

/// A real hash of a random password, verified against when an email is unknown so a login for a
/// missing account costs the same time as one for an existing account.
static DECOY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let secret = domain::SecretToken::generate();
    Argon2::default()
        .hash_password(secret.expose().as_bytes())
        .ok()
        .map(|h| h.to_string())
});

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// How many hashes run at once. Each takes 19 MiB and a core for a moment; a burst of sign-ins
/// queues here instead of taking the blocking pool's hundreds of threads and gigabytes.
static HASHERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

pub async fn hash(password: &str) -> Result<String, HashError> {
    let _turn = HASHERS
        .acquire()
        .await
        .map_err(|e| HashError(e.to_string()))?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Does `password` match `stored`? With no stored hash (unknown account, or an invited user who
/// has not set a password yet) the decoy is checked and the answer is always no.
pub async fn verify(password: &str, stored: Option<&str>) -> bool {
    // The semaphore is never closed; without a turn the answer is no.
    let Ok(_turn) = HASHERS.acquire().await else {
        return false;
    };
    let password = password.to_owned();
    let stored = stored.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => (DECOY_HASH.clone().unwrap_or_default(), false),
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        matches && real
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let stored = hash("correct horse battery").await.unwrap_or_default();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery", Some(&stored)).await);
        assert!(!verify("wrong horse battery", Some(&stored)).await);
        assert!(!verify("anything", None).await);
    }
}
