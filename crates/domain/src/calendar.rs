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

#[cfg(test)]
mod tests {
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
