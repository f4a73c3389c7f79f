//! Amounts of money as integer micro-units (a millionth of a euro or dollar): rates such as
//! 0.0618 USD per message and the sums of thousands of them stay exact. Parsing and printing go
//! through decimal text, never floats.

use crate::{Currency, FieldError};
use std::fmt;

/// Micro-units in one major unit (one euro, one dollar).
pub const MICROS_PER_UNIT: i64 = 1_000_000;
const DECIMALS: usize = 6;

/// A signed amount in micro-units, without its currency (the account or card it belongs to says
/// which). Arithmetic is checked: an overflow is an error, never a wrapped balance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the amount is too large")]
pub struct Overflow;

impl Micros {
    pub const ZERO: Micros = Micros(0);

    pub const fn new(micros: i64) -> Self {
        Self(micros)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Micros) -> Result<Micros, Overflow> {
        self.0.checked_add(other.0).map(Micros).ok_or(Overflow)
    }

    pub fn checked_sub(self, other: Micros) -> Result<Micros, Overflow> {
        self.0.checked_sub(other.0).map(Micros).ok_or(Overflow)
    }

    pub fn checked_neg(self) -> Result<Micros, Overflow> {
        self.0.checked_neg().map(Micros).ok_or(Overflow)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Multiplies by a rate given in parts per million (an exchange rate of 0.92 is 920 000),
    /// rounding half away from zero to the micro.
    pub fn scale_ppm(self, ppm: i64) -> Result<Micros, Overflow> {
        let product = i128::from(self.0) * i128::from(ppm);
        let half = i128::from(MICROS_PER_UNIT / 2);
        let rounded = if product >= 0 {
            (product + half) / i128::from(MICROS_PER_UNIT)
        } else {
            (product - half) / i128::from(MICROS_PER_UNIT)
        };
        i64::try_from(rounded).map(Micros).map_err(|_| Overflow)
    }

    /// Parses decimal text in major units (`25`, `25.00`, `-3.5`, `0.0618`): at most six
    /// decimals, no exponent, no thousands separators.
    pub fn parse_major(input: &str) -> Result<Micros, AmountError> {
        let text = input.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(AmountError::NotANumber);
        }
        if !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(AmountError::NotANumber);
        }
        if fraction.len() > DECIMALS {
            return Err(AmountError::TooPrecise);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::TooLarge)?
        };
        let mut frac: i64 = 0;
        for (i, b) in fraction.bytes().enumerate() {
            let place = 10_i64.pow(u32::try_from(DECIMALS - 1 - i).unwrap_or(0));
            frac += i64::from(b - b'0') * place;
        }
        let magnitude = whole
            .checked_mul(MICROS_PER_UNIT)
            .and_then(|w| w.checked_add(frac))
            .ok_or(AmountError::TooLarge)?;
        Ok(Micros(if negative { -magnitude } else { magnitude }))
    }

    /// Major units with at least two decimals and no trailing zeros beyond them:
    /// `512.37`, `-0.03`, `0.0618`.
    pub fn to_major_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let unit = MICROS_PER_UNIT.unsigned_abs();
        let whole = abs / unit;
        let mut frac = format!("{:06}", abs % unit);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        format!("{sign}{whole}.{frac}")
    }

    /// Rounded half away from zero to cents, for invoices and people: `0.0618` → `0.06`.
    pub fn to_cents_string(self) -> String {
        let cents = Micros(self.round_to_cents());
        let sign = if cents.0 < 0 { "-" } else { "" };
        let abs = cents.0.unsigned_abs();
        let unit = MICROS_PER_UNIT.unsigned_abs();
        format!("{sign}{}.{:02}", abs / unit, (abs % unit) / 10_000)
    }

    fn round_to_cents(self) -> i64 {
        let cent = 10_000;
        let rem = self.0 % cent;
        let base = self.0 - rem;
        if rem.abs() * 2 >= cent {
            base + rem.signum() * cent
        } else {
            base
        }
    }
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_major_string())
    }
}

/// Renders as a JSON number written from the decimal text (`512.37`), never through a float.
impl serde::Serialize for Micros {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_major_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a decimal amount like 25.00")]
    NotANumber,
    #[error("may have at most six decimals")]
    TooPrecise,
    #[error("is too large")]
    TooLarge,
}

impl AmountError {
    pub fn on(self, field: &'static str) -> FieldError {
        FieldError::new(field, self.to_string())
    }
}

/// An amount with its currency, as people and invoices read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub amount: Micros,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Micros, currency: Currency) -> Self {
        Self { amount, currency }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = match self.currency {
            Currency::Eur => "€",
            Currency::Usd => "$",
        };
        let text = self.amount.to_cents_string();
        match text.strip_prefix('-') {
            Some(rest) => write!(f, "-{symbol}{rest}"),
            None => write!(f, "{symbol}{text}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_decimal_text_exactly() {
        assert_eq!(Micros::parse_major("0.0618"), Ok(Micros::new(61_800)));
        assert_eq!(Micros::parse_major("25"), Ok(Micros::new(25_000_000)));
        assert_eq!(Micros::parse_major("-3.5"), Ok(Micros::new(-3_500_000)));
        assert_eq!(Micros::parse_major(".5"), Ok(Micros::new(500_000)));
        assert_eq!(
            Micros::parse_major("1.0000001"),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(Micros::parse_major("1e3"), Err(AmountError::NotANumber));
        assert_eq!(Micros::parse_major("-"), Err(AmountError::NotANumber));
        assert_eq!(
            Micros::parse_major("99999999999999999"),
            Err(AmountError::TooLarge)
        );
        assert_eq!(Micros::new(512_370_000).to_major_string(), "512.37");
        assert_eq!(Micros::new(-30_000).to_major_string(), "-0.03");
        assert_eq!(Micros::new(61_800).to_major_string(), "0.0618");
        assert_eq!(Micros::new(0).to_major_string(), "0.00");
    }

    #[test]
    fn cents_round_half_away_from_zero() {
        assert_eq!(Micros::new(61_800).to_cents_string(), "0.06");
        assert_eq!(Micros::new(5_000).to_cents_string(), "0.01");
        assert_eq!(Micros::new(-5_000).to_cents_string(), "-0.01");
        assert_eq!(Micros::new(-4_999).to_cents_string(), "0.00");
        assert_eq!(
            Money::new(Micros::new(-30_000), Currency::Eur).to_string(),
            "-€0.03"
        );
    }

    #[test]
    fn exchange_rates_round_to_the_micro() {
        assert_eq!(
            Micros::new(61_800).scale_ppm(920_000),
            Ok(Micros::new(56_856))
        );
        assert_eq!(Micros::new(1).scale_ppm(500_000), Ok(Micros::new(1)));
    }

    #[test]
    fn serialises_as_a_json_number_without_floats() {
        let json = serde_json::to_string(&serde_json::json!({"total": Micros::new(-30_000)}));
        assert_eq!(json.ok().as_deref(), Some(r#"{"total":-0.03}"#));
    }

    proptest::proptest! {
        #[test]
        fn printing_then_parsing_gives_the_same_amount(m in -1_000_000_000_000_i64..1_000_000_000_000) {
            proptest::prop_assert_eq!(Micros::parse_major(&Micros::new(m).to_major_string()), Ok(Micros::new(m)));
        }
    }
}
