//! What a WhatsApp message costs: the recipient's pricing market (from its number, by the rules in
//! `data/README.md`), the rate card in force, the message's category, and whether a customer
//! service window is open. The shipped card and the country table are Meta's July 2025 data,
//! embedded from `data/`.

use crate::money::{AmountError, Micros};
use crate::{Currency, FieldError};
use std::collections::BTreeMap;
use std::sync::LazyLock;

const COUNTRY_TABLE: &str = include_str!("../data/whatsapp-market-by-country.csv");
/// The rate card the Hub ships with: Meta's USD list rates from 2025-07-01.
pub const SHIPPED_USD_CARD: &str = include_str!("../data/whatsapp-rates-usd-2025-07.csv");
pub const SHIPPED_USD_CARD_EFFECTIVE_FROM: &str = "2025-07-01";
/// Meta's name for the market of every country it does not list.
pub const OTHER: &str = "Other";

/// The category a message is billed as: its template's, or `Service` for anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Marketing,
    Utility,
    Authentication,
    Service,
}

impl Category {
    pub const TEMPLATE_CATEGORIES: [Category; 3] =
        [Self::Marketing, Self::Utility, Self::Authentication];

    /// A template's category as Meta spells it (`MARKETING`), any case.
    pub fn parse_template(input: &str) -> Result<Self, FieldError> {
        match input.trim().to_ascii_uppercase().as_str() {
            "MARKETING" => Ok(Self::Marketing),
            "UTILITY" => Ok(Self::Utility),
            "AUTHENTICATION" => Ok(Self::Authentication),
            _ => Err(FieldError::new(
                "category",
                "must be MARKETING, UTILITY or AUTHENTICATION",
            )),
        }
    }

    pub fn parse_stored(input: &str) -> Option<Self> {
        match input {
            "marketing" => Some(Self::Marketing),
            "utility" => Some(Self::Utility),
            "authentication" => Some(Self::Authentication),
            "service" => Some(Self::Service),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "marketing",
            Self::Utility => "utility",
            Self::Authentication => "authentication",
            Self::Service => "service",
        }
    }

    /// Meta's upper-case spelling, used by the template API.
    pub fn meta_name(self) -> &'static str {
        match self {
            Self::Marketing => "MARKETING",
            Self::Utility => "UTILITY",
            Self::Authentication => "AUTHENTICATION",
            Self::Service => "SERVICE",
        }
    }
}

/// Where a recipient's number is, for pricing: its country and Meta's market for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub iso2: &'static str,
    pub market: &'static str,
}

struct Country {
    iso2: &'static str,
    calling_code: &'static str,
    market: &'static str,
}

static COUNTRIES: LazyLock<Vec<Country>> = LazyLock::new(|| {
    COUNTRY_TABLE
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            let iso2 = cols.next()?;
            let _name = cols.next()?;
            let calling_code = cols.next()?;
            let market = cols.next()?;
            Some(Country {
                iso2,
                calling_code,
                market,
            })
        })
        .collect()
});

/// NANP area codes of the `+1` countries other than the US and Canada (libphonenumber), per
/// `data/README.md`; any other `+1` area code is North America.
const NANP_AREA_CODES: &[(&str, &[&str])] = &[
    ("DO", &["809", "829", "849"]),
    ("JM", &["658", "876"]),
    ("PR", &["787", "939"]),
    ("AG", &["268"]),
    ("AI", &["264"]),
    ("AS", &["684"]),
    ("BB", &["246"]),
    ("BM", &["441"]),
    ("BS", &["242"]),
    ("DM", &["767"]),
    ("GD", &["473"]),
    ("GU", &["671"]),
    ("KN", &["869"]),
    ("KY", &["345"]),
    ("LC", &["758"]),
    ("MP", &["670"]),
    ("MS", &["664"]),
    ("SX", &["721"]),
    ("TC", &["649"]),
    ("TT", &["868"]),
    ("VC", &["784"]),
    ("VG", &["284"]),
    ("VI", &["340"]),
];

fn country(iso2: &str) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.iso2 == iso2)
}

/// The country and market of a number given as E.164 digits (no `+`). `None` when no country
/// uses its calling code.
pub fn destination(digits: &str) -> Option<Destination> {
    let code_len = (1..=3).rev().find(|len| {
        digits
            .get(..*len)
            .is_some_and(|code| COUNTRIES.iter().any(|c| c.calling_code == code))
    })?;
    let (code, rest) = digits.split_at(code_len);
    let iso2 = match code {
        "1" => {
            let area = rest.get(..3).unwrap_or("");
            NANP_AREA_CODES
                .iter()
                .find(|(_, areas)| areas.contains(&area))
                .map_or("US", |(iso2, _)| *iso2)
        }
        // Kazakhstan's numbers are +7 6… and +7 7…; the rest of +7 is Russia.
        "7" if rest.starts_with('6') || rest.starts_with('7') => "KZ",
        _ => {
            // Other shared codes resolve to the main country: the one Meta prices, if any.
            let sharing: Vec<&Country> = COUNTRIES
                .iter()
                .filter(|c| c.calling_code == code)
                .collect();
            sharing
                .iter()
                .find(|c| c.market != OTHER)
                .or_else(|| sharing.first())
                .map(|c| c.iso2)?
        }
    };
    let found = country(iso2)?;
    Some(Destination {
        iso2: found.iso2,
        market: found.market,
    })
}

/// Meta's market for a country given by its ISO 3166-1 code (`DE`, any case).
pub fn market_of_country(iso2: &str) -> Option<&'static str> {
    let iso2 = iso2.trim().to_ascii_uppercase();
    COUNTRIES.iter().find(|c| c.iso2 == iso2).map(|c| c.market)
}

/// The calling-code country of a sender's own number, for the authentication-international
/// rule (`None` for a number no country uses).
pub fn country_of(digits: &str) -> Option<&'static str> {
    destination(digits).map(|d| d.iso2)
}

/// One market's rates, per delivered template message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MarketRates {
    pub market: String,
    pub marketing: Micros,
    pub utility: Micros,
    pub authentication: Micros,
    pub authentication_international: Option<Micros>,
}

/// A rate card's rows, checked: every market of the country table once, no negative rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateCard {
    pub currency: Currency,
    markets: BTreeMap<String, MarketRates>,
}

/// Why a rate card file was refused, naming its row (1 is the header).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", row.map(|r| format!("row {r}: ")).unwrap_or_default())]
pub struct RateCardError {
    pub row: Option<usize>,
    pub message: String,
}

fn row_error(row: usize, message: impl Into<String>) -> RateCardError {
    RateCardError {
        row: Some(row),
        message: message.into(),
    }
}

const HEADER: [&str; 5] = [
    "market",
    "marketing",
    "utility",
    "authentication",
    "authentication_international",
];

impl RateCard {
    /// Every market Meta prices (the markets of the country table, `Other` included).
    pub fn required_markets() -> Vec<&'static str> {
        let mut markets: Vec<&'static str> = COUNTRIES.iter().map(|c| c.market).collect();
        markets.sort_unstable();
        markets.dedup();
        markets
    }

    /// Parses a CSV with the header `market,marketing,utility,authentication,
    /// authentication_international`, rates in major units.
    pub fn parse_csv(text: &str, currency: Currency) -> Result<Self, RateCardError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| row_error(1, e.to_string()))?;
        let names: Vec<String> = header.iter().map(str::to_ascii_lowercase).collect();
        if names != HEADER {
            return Err(row_error(
                1,
                format!("the header must be {}", HEADER.join(",")),
            ));
        }
        let known = Self::required_markets();
        let mut markets = BTreeMap::new();
        for (index, record) in reader.records().enumerate() {
            let row = index + 2;
            let record = record.map_err(|e| row_error(row, e.to_string()))?;
            let field = |i: usize| record.get(i).unwrap_or("");
            let market = field(0).to_owned();
            if !known.contains(&market.as_str()) {
                return Err(row_error(
                    row,
                    format!("{market:?} is not a WhatsApp pricing market"),
                ));
            }
            let rate = |i: usize| -> Result<Micros, RateCardError> {
                let value = Micros::parse_major(field(i))
                    .map_err(|e: AmountError| row_error(row, format!("{} {e}", HEADER[i])))?;
                if value < Micros::ZERO {
                    return Err(row_error(
                        row,
                        format!("{} must not be negative", HEADER[i]),
                    ));
                }
                Ok(value)
            };
            let rates = MarketRates {
                market: market.clone(),
                marketing: rate(1)?,
                utility: rate(2)?,
                authentication: rate(3)?,
                authentication_international: if field(4).is_empty() {
                    None
                } else {
                    Some(rate(4)?)
                },
            };
            if markets.insert(market.clone(), rates).is_some() {
                return Err(row_error(row, format!("{market} appears more than once")));
            }
        }
        if let Some(missing) = known.iter().find(|m| !markets.contains_key(**m)) {
            return Err(RateCardError {
                row: None,
                message: format!("the market {missing} is missing"),
            });
        }
        Ok(Self { currency, markets })
    }

    pub fn from_markets(currency: Currency, rows: Vec<MarketRates>) -> Self {
        Self {
            currency,
            markets: rows.into_iter().map(|r| (r.market.clone(), r)).collect(),
        }
    }

    /// The shipped USD card.
    pub fn shipped() -> Result<Self, RateCardError> {
        Self::parse_csv(SHIPPED_USD_CARD, Currency::Usd)
    }

    /// This card in another currency: every rate times `fx_ppm` (parts per million).
    pub fn derive(&self, currency: Currency, fx_ppm: i64) -> Result<Self, RateCardError> {
        let scale = |m: Micros| {
            m.scale_ppm(fx_ppm).map_err(|_| RateCardError {
                row: None,
                message: "the conversion rate is too large".into(),
            })
        };
        let mut markets = BTreeMap::new();
        for (name, r) in &self.markets {
            markets.insert(
                name.clone(),
                MarketRates {
                    market: name.clone(),
                    marketing: scale(r.marketing)?,
                    utility: scale(r.utility)?,
                    authentication: scale(r.authentication)?,
                    authentication_international: r
                        .authentication_international
                        .map(scale)
                        .transpose()?,
                },
            );
        }
        Ok(Self { currency, markets })
    }

    pub fn markets(&self) -> impl Iterator<Item = &MarketRates> {
        self.markets.values()
    }

    pub fn market(&self, name: &str) -> Option<&MarketRates> {
        self.markets.get(name)
    }
}

/// Everything a price depends on besides the card.
#[derive(Clone, Copy, Debug)]
pub struct Sending<'a> {
    pub category: Category,
    pub destination: &'a Destination,
    /// A customer service window with this recipient is open on the sending number.
    pub window_open: bool,
    /// Staff marked the paying partner eligible for authentication-international rates.
    pub auth_international_eligible: bool,
    /// The sending number's country.
    pub sender_country: Option<&'static str>,
}

/// Meta's `pricing.type` of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PricingType {
    Regular,
    FreeCustomerService,
}

impl PricingType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regular => "regular",
            Self::FreeCustomerService => "free_customer_service",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
    pub amount: Micros,
    pub pricing_type: PricingType,
    /// The authentication-international rate was applied.
    pub international: bool,
}

impl Price {
    pub fn billable(&self) -> bool {
        self.pricing_type == PricingType::Regular
    }
}

/// Why a message cannot be sent as asked, before any price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A non-template message outside a customer service window (Meta's 131047).
    WindowClosed,
}

/// Prices one message as Meta bills today: service messages and utility templates are free
/// inside a window; service messages are refused outside one; marketing and authentication
/// templates are always charged.
pub fn price(card: &RateCard, sending: &Sending<'_>) -> Result<Price, Refusal> {
    let free = Price {
        amount: Micros::ZERO,
        pricing_type: PricingType::FreeCustomerService,
        international: false,
    };
    let rates = card
        .market(sending.destination.market)
        .or_else(|| card.market(OTHER));
    let regular = |amount: Micros, international: bool| Price {
        amount,
        pricing_type: PricingType::Regular,
        international,
    };
    match sending.category {
        Category::Service if sending.window_open => Ok(free),
        Category::Service => Err(Refusal::WindowClosed),
        Category::Utility if sending.window_open => Ok(free),
        Category::Utility => Ok(regular(rates.map_or(Micros::ZERO, |r| r.utility), false)),
        Category::Marketing => Ok(regular(rates.map_or(Micros::ZERO, |r| r.marketing), false)),
        Category::Authentication => {
            let cross_border = sending
                .sender_country
                .is_some_and(|c| c != sending.destination.iso2);
            let international = rates
                .and_then(|r| r.authentication_international)
                .filter(|_| sending.auth_international_eligible && cross_border);
            Ok(match international {
                Some(amount) => regular(amount, true),
                None => regular(rates.map_or(Micros::ZERO, |r| r.authentication), false),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(digits: &str) -> &'static str {
        destination(digits).map_or("none", |d| d.market)
    }

    #[test]
    fn markets_follow_the_readme_rules() {
        assert_eq!(market("4915123456789"), "Germany");
        assert_eq!(market("12025550123"), "North America");
        assert_eq!(market("14165550123"), "North America");
        assert_eq!(market("18765550123"), "Rest of Latin America");
        assert_eq!(market("18095550123"), "Rest of Latin America");
        assert_eq!(market("12465550123"), "Other");
        assert_eq!(market("77012345678"), "Other");
        assert_eq!(market("79161234567"), "Russia");
        assert_eq!(market("6723123456"), "Other");
        assert_eq!(market("447911123456"), "United Kingdom");
        assert_eq!(market("358401234567"), "Rest of Western Europe");
        assert_eq!(market("263771234567"), "Other");
        assert_eq!(market("390612345678"), "Italy");
        assert_eq!(market("9991234567"), "none");
        assert_eq!(destination("77012345678").map(|d| d.iso2), Some("KZ"));
        assert_eq!(market_of_country("de"), Some("Germany"));
        assert_eq!(market_of_country("XX"), None);
    }

    #[test]
    fn the_shipped_card_has_every_market_once() {
        let card = RateCard::shipped().unwrap();
        assert_eq!(card.markets().count(), 32);
        assert_eq!(
            card.market("Germany").unwrap().marketing,
            Micros::new(136_500)
        );
        assert_eq!(
            card.market("India").unwrap().authentication_international,
            Some(Micros::new(28_000))
        );
        for m in RateCard::required_markets() {
            assert!(card.market(m).is_some(), "{m}");
        }
    }

    #[test]
    fn bad_cards_name_their_row() {
        let mut text = SHIPPED_USD_CARD.replace("Germany,0.1365", "Germany,-0.1365");
        let err = RateCard::parse_csv(&text, Currency::Eur).unwrap_err();
        assert_eq!(err.row, Some(8));
        assert!(
            err.message.contains("marketing must not be negative"),
            "{err}"
        );
        text = SHIPPED_USD_CARD.replace("France,", "Germany,");
        let err = RateCard::parse_csv(&text, Currency::Eur).unwrap_err();
        assert!(
            err.to_string().contains("Germany appears more than once"),
            "{err}"
        );
        text = SHIPPED_USD_CARD
            .lines()
            .filter(|l| !l.starts_with("Other,"))
            .collect::<Vec<_>>()
            .join("\n");
        let err = RateCard::parse_csv(&text, Currency::Eur).unwrap_err();
        assert_eq!(err.to_string(), "the market Other is missing");
        let err = RateCard::parse_csv("a,b\n", Currency::Eur).unwrap_err();
        assert_eq!(err.row, Some(1));
        text = SHIPPED_USD_CARD.replace("Spain,0.0615", "Spain,abc");
        let err = RateCard::parse_csv(&text, Currency::Eur).unwrap_err();
        assert!(
            err.to_string()
                .contains("marketing must be a decimal amount"),
            "{err}"
        );
    }

    #[test]
    fn derived_cards_convert_every_rate() {
        let usd = RateCard::shipped().unwrap();
        let eur = usd.derive(Currency::Eur, 920_000).unwrap();
        assert_eq!(eur.currency, Currency::Eur);
        assert_eq!(
            eur.market("Germany").unwrap().marketing,
            Micros::new(125_580)
        );
        assert_eq!(
            eur.market("France").unwrap().authentication_international,
            None
        );
    }

    fn sending(category: Category, to: &str, window_open: bool) -> (Category, Destination, bool) {
        (category, destination(to).unwrap(), window_open)
    }

    fn price_of(category: Category, to: &str, window_open: bool) -> Result<Price, Refusal> {
        let (category, dest, window_open) = sending(category, to, window_open);
        price(
            &RateCard::shipped().unwrap(),
            &Sending {
                category,
                destination: &dest,
                window_open,
                auth_international_eligible: false,
                sender_country: Some("DE"),
            },
        )
    }

    #[test]
    fn windows_make_service_and_utility_free_and_nothing_else() {
        assert_eq!(
            price_of(Category::Service, "4915123456789", false),
            Err(Refusal::WindowClosed)
        );
        let free = price_of(Category::Service, "4915123456789", true).unwrap();
        assert_eq!((free.amount, free.billable()), (Micros::ZERO, false));
        let free = price_of(Category::Utility, "4915123456789", true).unwrap();
        assert!(!free.billable());
        let paid = price_of(Category::Utility, "4915123456789", false).unwrap();
        assert_eq!(paid.amount, Micros::new(55_000));
        let paid = price_of(Category::Marketing, "4915123456789", true).unwrap();
        assert_eq!(paid.amount, Micros::new(136_500));
        let paid = price_of(Category::Authentication, "4915123456789", true).unwrap();
        assert_eq!(paid.amount, Micros::new(55_000));
    }

    #[test]
    fn authentication_international_needs_eligibility_another_country_and_a_rate() {
        let card = RateCard::shipped().unwrap();
        let india = destination("919812345678").unwrap();
        let at = |eligible: bool, sender: &'static str| {
            price(
                &card,
                &Sending {
                    category: Category::Authentication,
                    destination: &india,
                    window_open: false,
                    auth_international_eligible: eligible,
                    sender_country: Some(sender),
                },
            )
            .unwrap()
            .amount
        };
        assert_eq!(at(true, "DE"), Micros::new(28_000));
        assert_eq!(at(false, "DE"), Micros::new(1_400));
        assert_eq!(at(true, "IN"), Micros::new(1_400));
        let germany = destination("4915123456789").unwrap();
        let p = price(
            &card,
            &Sending {
                category: Category::Authentication,
                destination: &germany,
                window_open: false,
                auth_international_eligible: true,
                sender_country: Some("US"),
            },
        )
        .unwrap();
        assert_eq!((p.amount, p.international), (Micros::new(55_000), false));
    }
}
