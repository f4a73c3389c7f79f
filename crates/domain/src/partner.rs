//! What a partner is made of before it is stored: its display name, currency and payment model.

use crate::FieldError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerName(String);

impl PartnerName {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Currency {
    Eur,
    Usd,
}

impl Currency {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "eur" => Ok(Self::Eur),
            "usd" => Ok(Self::Usd),
            _ => Err(FieldError::new("currency", "must be eur or usd")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eur => "eur",
            Self::Usd => "usd",
        }
    }
}

/// Who pays for a partner's numbers: the partner from one prepaid balance, or each client itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentModel {
    PartnerPayment,
    DirectPayment,
}

impl PaymentModel {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "partner_payment" => Ok(Self::PartnerPayment),
            "direct_payment" => Ok(Self::DirectPayment),
            _ => Err(FieldError::new(
                "payment_model",
                "must be partner_payment or direct_payment",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PartnerPayment => "partner_payment",
            Self::DirectPayment => "direct_payment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::PartnerPayment => "Partner-Payment",
            Self::DirectPayment => "Direct-Payment",
        }
    }
}

/// The partner's Solution ID at Meta (shown to clients during onboarding): at most 100
/// printable characters. An empty input means "none".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SolutionId(String);

impl SolutionId {
    pub const MAX_CHARS: usize = crate::limits::SOLUTION_ID_CHARS;

    /// `Ok(None)` for an empty (or blank) input: the partner has no Solution ID.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, FieldError> {
        let value = input.trim();
        if value.chars().count() > Self::MAX_CHARS || value.chars().any(char::is_control) {
            return Err(FieldError::new(
                "solution_id",
                format!("must be at most {} printable characters", Self::MAX_CHARS),
            ));
        }
        Ok((!value.is_empty()).then(|| Self(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PartnerName::parse("  Acme ").map(|n| n.0),
            Ok("Acme".into())
        );
        assert!(PartnerName::parse("   ").is_err());
        assert!(PartnerName::parse(&"x".repeat(101)).is_err());
        assert!(PartnerName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn currency_and_model_parse_case_insensitively() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::Eur));
        assert!(Currency::parse("gbp").is_err());
        assert_eq!(
            PaymentModel::parse("Direct-Payment"),
            Ok(PaymentModel::DirectPayment)
        );
        assert!(PaymentModel::parse("free").is_err());
    }

    #[test]
    fn solution_ids_are_trimmed_bounded_and_printable() {
        assert_eq!(SolutionId::parse_optional("  ").unwrap(), None);
        assert_eq!(
            SolutionId::parse_optional(" 1234567890 ")
                .unwrap()
                .unwrap()
                .as_str(),
            "1234567890"
        );
        assert!(SolutionId::parse_optional(&"x".repeat(100)).is_ok());
        assert_eq!(
            SolutionId::parse_optional(&"x".repeat(101))
                .unwrap_err()
                .field,
            "solution_id"
        );
        assert!(SolutionId::parse_optional("a\nb").is_err());
    }
}
