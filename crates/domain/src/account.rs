//! People and their credentials as typed values: email addresses, display names, new passwords
//! and the two roles a partner's user can have.

use crate::FieldError;
use std::fmt;
use std::str::FromStr;

/// A normalised (trimmed, lower-cased) email address. Emails identify people across partners.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("email", "is required"));
        }
        if trimmed.len() > 254 {
            return Err(FieldError::new("email", "must be at most 254 characters"));
        }
        let lowered = trimmed.to_lowercase();
        match email_address::EmailAddress::from_str(&lowered) {
            Ok(_) if lowered.contains('@') && !lowered.contains(['<', '>', '"', ' ']) => {
                Ok(Self(lowered))
            }
            _ => Err(FieldError::new(
                "email",
                "must be an email address like name@example.com",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "is required"));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new("name", "must be at most 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password someone chose. Length rules follow NIST SP 800-63B: at least 10 characters, at most
/// 128 (argon2 cost does not depend on length, but an unbounded field is an invitation to abuse).
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(input: &str, confirmation: &str) -> Result<Self, FieldError> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldError::new(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if chars > 128 {
            return Err(FieldError::new(
                "password",
                "must be at most 128 characters",
            ));
        }
        if input.trim().is_empty() {
            return Err(FieldError::new("password", "must not be only spaces"));
        }
        if input != confirmation {
            return Err(FieldError::new(
                "password_confirm",
                "does not match the password",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// A user's role within one partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything: users, profile, integration settings, billing, API keys.
    Owner,
    /// WhatsApp accounts and channel API keys; reads settings.
    Member,
}

impl Role {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Self::Owner),
            "member" => Ok(Self::Member),
            _ => Err(FieldError::new("role", "must be Owner or Member")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Member => "Member",
        }
    }

    pub fn is_owner(self) -> bool {
        self == Self::Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Owner@Demo.Test ").map(|e| e.0),
            Ok("owner@demo.test".to_owned())
        );
    }

    #[test]
    fn bad_emails_are_refused_with_a_reason() {
        for bad in [
            "",
            "nobody",
            "a@",
            "@b.c",
            "a b@c.d",
            "x'; DROP TABLE users;--",
        ] {
            let err = Email::parse(bad).expect_err(bad);
            assert_eq!(err.field, "email");
        }
    }

    #[test]
    fn passwords_need_length_and_confirmation() {
        assert!(NewPassword::parse("short", "short").is_err());
        assert_eq!(
            NewPassword::parse("long enough pw", "long enough px")
                .expect_err("mismatch")
                .field,
            "password_confirm"
        );
        assert!(NewPassword::parse("long enough pw", "long enough pw").is_ok());
        assert!(NewPassword::parse(&"x".repeat(129), &"x".repeat(129)).is_err());
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::parse("Owner"), Ok(Role::Owner));
        assert_eq!(Role::parse("member"), Ok(Role::Member));
        assert!(Role::parse("admin").is_err());
    }
}
