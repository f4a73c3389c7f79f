//! Calendar arithmetic on unix milliseconds. Billing months and days are UTC.

use time::{Date, Month, OffsetDateTime};

/// The first millisecond of the calendar month after the one `now_ms` falls in (UTC): when
/// requested cancellations take effect. An instant outside the calendar's range is returned as
/// it is.
pub fn next_month_start_ms(now_ms: i64) -> i64 {
    let Ok(now) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000) else {
        return now_ms;
    };
    let (year, month) = if now.month() == Month::December {
        (now.year() + 1, Month::January)
    } else {
        (now.year(), now.month().next())
    };
    Date::from_calendar_date(year, month, 1)
        .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
        .unwrap_or(now_ms)
}

/// The first millisecond of a UTC day written `YYYY-MM-DD`; `None` for anything else.
pub fn day_start_ms(input: &str) -> Option<i64> {
    let mut parts = input.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// The first millisecond of the UTC day `ms` falls in.
pub fn day_floor_ms(ms: i64) -> i64 {
    ms - ms.rem_euclid(86_400_000)
}

/// The first millisecond of the UTC month `ms` falls in.
pub fn month_floor_ms(ms: i64) -> i64 {
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return ms;
    };
    Date::from_calendar_date(at.year(), at.month(), 1)
        .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
        .unwrap_or(ms)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_parse_and_floor() {
        assert_eq!(day_start_ms("2026-12-01"), Some(DEC_1));
        assert_eq!(day_start_ms("2026-13-01"), None);
        assert_eq!(day_start_ms("yesterday"), None);
        assert_eq!(month_floor_ms(NOV_25), 1_793_491_200_000);
        assert_eq!(day_floor_ms(NOV_25), 1_795_564_800_000);
    }

    use super::*;

    /// 2026-11-25 09:00 UTC.
    const NOV_25: i64 = 1_795_597_200_000;
    /// 2026-12-01 00:00 UTC.
    const DEC_1: i64 = 1_796_083_200_000;
    /// 2027-01-01 00:00 UTC.
    const JAN_1: i64 = 1_798_761_600_000;

    #[test]
    fn the_next_month_starts_at_utc_midnight_on_its_first() {
        assert_eq!(next_month_start_ms(NOV_25), DEC_1);
        // The first millisecond of a month belongs to it: the next start is a month later.
        assert_eq!(next_month_start_ms(DEC_1), JAN_1);
        assert_eq!(next_month_start_ms(DEC_1 - 1), DEC_1);
        // December rolls over into the next year.
        assert_eq!(next_month_start_ms(JAN_1 - 1), JAN_1);
        assert_eq!(next_month_start_ms(i64::MAX), i64::MAX);
    }
}
