//! Phone numbers of channels, parsed once into E.164: duplicate detection across the platform,
//! filters and the Meta provider all compare numbers, and they only agree on one canonical form.

use crate::FieldError;
use phonenumber::Mode;
use std::fmt;

const FIELD: &str = "phone_number";
const NEEDS_COUNTRY_CODE: &str =
    "must be an international number starting with + and the country code, like +4915123456789";
const INVALID: &str = "is not a valid phone number";
/// E.164 allows at most 15 digits including the country code.
const MAX_DIGITS: usize = 15;
/// Bounds the work done on pasted text before any parsing: a formatted E.164 number with
/// generous separators is far below this.
const MAX_INPUT_CHARS: usize = 64;

/// A valid international phone number, kept in E.164 (`+4915123456789`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    e164: String,
    country_code: u16,
    international: String,
}

impl PhoneNumber {
    /// Accepts `+` or `00` followed by the country code and number, with spaces, dashes, dots,
    /// slashes and parentheses as people type them. National numbers are refused rather than
    /// guessed: a channel's country must be what the person meant, not what we assume.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(FIELD, "is required"));
        }
        if trimmed.chars().count() > MAX_INPUT_CHARS {
            return Err(FieldError::new(FIELD, INVALID));
        }
        let (international, rest) = if let Some(rest) = trimmed.strip_prefix('+') {
            (true, rest)
        } else if let Some(rest) = trimmed.strip_prefix("00") {
            (true, rest)
        } else {
            (false, trimmed)
        };
        if !international {
            return Err(FieldError::new(FIELD, NEEDS_COUNTRY_CODE));
        }
        let mut digits = String::with_capacity(MAX_DIGITS);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '/' | '(' | ')' => {}
                _ => {
                    return Err(FieldError::new(
                        FIELD,
                        "may only contain digits, spaces, dashes and parentheses after the +",
                    ));
                }
            }
        }
        // Only `+digits` reaches the library, so its parser never sees letters, extensions or
        // RFC 3966 syntax that would be accepted here but not by Meta.
        if digits.is_empty() || digits.starts_with('0') || digits.len() > MAX_DIGITS {
            return Err(FieldError::new(FIELD, INVALID));
        }
        let parsed = phonenumber::parse(None, format!("+{digits}"))
            .map_err(|_| FieldError::new(FIELD, INVALID))?;
        if !parsed.is_valid() || parsed.extension().is_some() {
            return Err(FieldError::new(FIELD, INVALID));
        }
        let e164 = parsed.format().mode(Mode::E164).to_string();
        // Guards the invariant every other method relies on, whatever the library's formatter does.
        let well_formed = e164.strip_prefix('+').is_some_and(|d| {
            (2..=MAX_DIGITS).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
        });
        if !well_formed {
            return Err(FieldError::new(FIELD, INVALID));
        }
        // The library drops a trunk prefix written after the country code ("+7 8 …", "+44 0 …").
        // What comes out must itself be a valid number, or the stored E.164 would be refused
        // the next time it is read (seen with Russian numbers).
        if e164[1..] != digits {
            let again =
                phonenumber::parse(None, &e164).map_err(|_| FieldError::new(FIELD, INVALID))?;
            if !again.is_valid() || again.format().mode(Mode::E164).to_string() != e164 {
                return Err(FieldError::new(FIELD, INVALID));
            }
        }
        Ok(Self {
            e164,
            country_code: parsed.code().value(),
            international: parsed.format().mode(Mode::International).to_string(),
        })
    }

    /// E.164, e.g. `+4915123456789`.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// E.164 without the `+`, the shape Meta's Graph API and `wa_id`s use.
    pub fn digits(&self) -> &str {
        self.e164.strip_prefix('+').unwrap_or(&self.e164)
    }

    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// International format with the country's grouping, e.g. `+49 1512 3456789`, for pages.
    pub fn display(&self) -> String {
        self.international.clone()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl serde::Serialize for PhoneNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.e164)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Numbers the libphonenumber metadata holds valid (mostly its own example numbers).
    const VALID: &[(&str, &str, u16, &str)] = &[
        ("+4915123456789", "+4915123456789", 49, "+49 1512 3456789"),
        ("+49 30 123456", "+4930123456", 49, "+49 30 123456"),
        ("+1 201-555-0123", "+12015550123", 1, "+1 201-555-0123"),
        ("+91 81234 56789", "+918123456789", 91, "+91 81234 56789"),
        (
            "+55 11 96123-4567",
            "+5511961234567",
            55,
            "+55 11 96123-4567",
        ),
        ("+44 7400 123456", "+447400123456", 44, "+44 7400 123456"),
        ("+44 20 7946 0958", "+442079460958", 44, "+44 20 7946 0958"),
        ("+33 6 12 34 56 78", "+33612345678", 33, "+33 6 12 34 56 78"),
        ("+971 50 123 4567", "+971501234567", 971, "+971 50 123 4567"),
    ];

    #[test]
    fn valid_numbers_from_several_countries_become_e164() {
        for &(input, e164, code, display) in VALID {
            let number = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(number.as_str(), e164, "{input}");
            assert_eq!(number.digits(), &e164[1..], "{input}");
            assert_eq!(number.country_code(), code, "{input}");
            assert_eq!(number.display(), display, "{input}");
            assert_eq!(number.to_string(), e164, "{input}");
        }
    }

    #[test]
    fn the_same_number_typed_differently_is_one_number() {
        let canonical = PhoneNumber::parse("+4915123456789").unwrap();
        for variant in [
            "+49 1512 3456789",
            "+49 151 23456789",
            "  +49-151-234-567-89  ",
            "+49 (151) 23456789",
            "+49.151.23456789",
            "+49/151/23456789",
            "004915123456789",
            "0049 151 23456789",
            // Germans often write the trunk prefix in parentheses; it is not part of E.164.
            "+49 (0) 151 23456789",
        ] {
            assert_eq!(
                PhoneNumber::parse(variant),
                Ok(canonical.clone()),
                "{variant}"
            );
        }
    }

    #[test]
    fn a_trunk_prefix_after_the_country_code_never_yields_a_number_that_fails_to_parse_again() {
        // Found by the proptest below: the library used to turn this into +78650000000, which
        // it then refused, so a stored number could not be read back.
        for input in ["+7888650000000", "+7 8 865 000 00 00"] {
            if let Ok(number) = PhoneNumber::parse(input) {
                assert_eq!(
                    PhoneNumber::parse(number.as_str()),
                    Ok(number.clone()),
                    "{input}"
                );
            }
        }
        // The helpful case still works: "+44 (0) 20 …" is the London number without the 0.
        assert_eq!(
            PhoneNumber::parse("+44 (0)20 7946 0958").map(|n| n.as_str().to_owned()),
            Ok("+442079460958".to_owned())
        );
    }

    #[test]
    fn displayed_numbers_parse_back_to_themselves() {
        for &(input, ..) in VALID {
            let number = PhoneNumber::parse(input).unwrap();
            assert_eq!(PhoneNumber::parse(&number.display()), Ok(number.clone()));
            assert_eq!(PhoneNumber::parse(number.as_str()), Ok(number));
        }
    }

    #[test]
    fn numbers_without_country_code_are_refused_with_an_example() {
        for national in [
            "015123456789",
            "0151 23456789",
            "2015550123",
            "(201) 555-0123",
        ] {
            let err = PhoneNumber::parse(national).unwrap_err();
            assert_eq!(err.field, "phone_number");
            assert_eq!(err.message, NEEDS_COUNTRY_CODE, "{national}");
        }
    }

    #[test]
    fn invalid_numbers_are_refused() {
        for bad in [
            "+",
            "00",
            "+0",
            "+49",
            "+49 123",
            "+4900000000000",
            "+1 000 000 0000",
            "+999 123456789",
            "+1234567890123456",
            "+49151234567890123",
            "+++4915123456789",
            "+ +4915123456789",
        ] {
            let err = PhoneNumber::parse(bad).unwrap_err();
            assert_eq!(err.field, "phone_number", "{bad}");
            assert!(
                err.message == INVALID || err.message.starts_with("may only contain"),
                "{bad}: {}",
                err.message
            );
        }
    }

    #[test]
    fn letters_extensions_and_uris_are_refused() {
        for bad in [
            "+49 151 FOR PIZZA",
            "+4915123456789 ext. 12",
            "+4915123456789;ext=12",
            "tel:+4915123456789",
            "+49\u{0}15123456789",
            "+４９１５１２３４５６７８９",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_and_overlong_input_is_refused() {
        assert_eq!(
            PhoneNumber::parse("   ").unwrap_err().message,
            "is required".to_owned()
        );
        let long = format!("+49{}", " ".repeat(100));
        assert_eq!(PhoneNumber::parse(&long).unwrap_err().message, INVALID);
    }

    #[test]
    fn serializes_as_e164() {
        let number = PhoneNumber::parse("+44 7400 123456").unwrap();
        assert_eq!(
            serde_json::to_value(&number).unwrap(),
            serde_json::json!("+447400123456")
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = PhoneNumber::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_digit_soup(s in "(\\+|00)?[0-9 ()./-]{0,24}") {
            let _ = PhoneNumber::parse(&s);
        }

        #[test]
        fn accepted_numbers_are_canonical(s in "\\+[1-9][0-9]{6,14}") {
            if let Ok(number) = PhoneNumber::parse(&s) {
                let digits = number.digits();
                prop_assert!(number.as_str().starts_with('+'));
                prop_assert!(digits.len() <= MAX_DIGITS);
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(digits.starts_with(&number.country_code().to_string()));
                prop_assert_eq!(PhoneNumber::parse(number.as_str()), Ok(number.clone()));
                prop_assert_eq!(PhoneNumber::parse(&number.display()), Ok(number));
            }
        }
    }
}
