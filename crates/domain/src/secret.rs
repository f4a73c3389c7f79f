//! Bearer secrets (session ids, invitation and reset tokens): generated with 256 bits of
//! randomness, handed to the person once, and stored only as a SHA-256 digest so a leaked
//! database does not leak live credentials.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// A freshly generated secret; the plaintext leaves the process exactly once.
pub struct SecretToken(String);

impl SecretToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// The stored form of a secret: hex SHA-256. Lookups hash what the caller presents and compare
/// digests, so no plaintext secret is ever queried for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hash whatever a caller presented. Any string is accepted: a wrong one just matches nothing.
    pub fn of(presented: &str) -> Self {
        Self(hex::encode(Sha256::digest(presented.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A configured credential (an access token, a password): held for the one call that needs it,
/// and never shown by `Debug`, `Display` or `Serialize`, so a logged or printed configuration
/// cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that hands it to the other side.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("REDACTED")
    }
}

/// A URL that may carry credentials (`postgres://user:password@host/db`, `smtp://user:pass@host`).
/// `Debug`, `Display` and `Serialize` show it with the password replaced by `REDACTED` (the
/// rest helps an operator see which server is meant); `expose` gives the URL to connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password, and query parameters named like secrets, replaced.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("REDACTED"));
                }
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let key = k.to_ascii_lowercase();
                        let secret = ["pass", "secret", "token", "key"]
                            .iter()
                            .any(|word| key.contains(word));
                        let value = if secret {
                            "REDACTED".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), value)
                    })
                    .collect();
                if !pairs.is_empty() {
                    url.query_pairs_mut().clear().extend_pairs(pairs);
                }
                url.to_string()
            }
            // Not a URL we can take apart: show none of it.
            Err(_) => "REDACTED".to_owned(),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl serde::Serialize for SecretUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let a = SecretToken::generate();
        let b = SecretToken::generate();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.hash(), TokenHash::of(a.expose()));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.expose().len(), 43);
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn configured_secrets_never_print() {
        let token = Secret::new("EAAG-live-token");
        assert!(!format!("{token:?} {token}").contains("EAAG"));
        let url = SecretUrl::new("postgres://app:hunter2@db:5432/hub?password=other");
        let shown = format!("{url:?} {url}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("other"),
            "{shown}"
        );
        assert!(shown.contains("db:5432/hub"), "{shown}");
        assert_eq!(
            url.expose(),
            "postgres://app:hunter2@db:5432/hub?password=other"
        );
        assert_eq!(SecretUrl::new("not a url with pw").to_string(), "REDACTED");
        assert_eq!(
            SecretUrl::new("smtp://mail:25").to_string(),
            "smtp://mail:25"
        );
        assert_eq!(
            SecretUrl::new("sqlite:///data/partnerhub.db?mode=rwc").to_string(),
            "sqlite:///data/partnerhub.db?mode=rwc"
        );
    }
}
