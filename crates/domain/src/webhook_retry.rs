//! When a failed webhook delivery is tried again: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
//! after attempts 1 to 7, each ±20 % so retries from one outage do not arrive in lockstep, and
//! no later than the receiver's `Retry-After` allows within [scheduled, 2 × scheduled]. After
//! attempt 8 (about 27.5 hours in) the event is `failed`.
//!
//! Pure: the caller draws the jitter and passes the clock in.

/// Deliveries per event, the first one immediate.
pub const MAX_ATTEMPTS: u32 = 8;

/// Delay after attempt n (1-based) is `BASE_DELAYS_MS[n - 1]`, before jitter.
pub const BASE_DELAYS_MS: [i64; 7] = [
    5_000,
    5 * 60_000,
    30 * 60_000,
    2 * 3_600_000,
    5 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
];

/// Largest jitter, as a fraction of the base delay.
pub const JITTER: f64 = 0.2;

/// The delay before the next attempt after attempt `attempt` (1-based) failed, or `None` when
/// no attempt is left (attempt 8 and beyond, and the meaningless attempt 0). `jitter` in
/// [-1, 1] scales the ±20 %: -1 gives 80 % of the base delay, 1 gives 120 %. Values outside
/// are clamped and NaN counts as 0, so a bad random draw cannot stretch or skip the schedule.
pub fn next_delay_ms(attempt: u32, jitter: f64) -> Option<i64> {
    let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
    let base = *BASE_DELAYS_MS.get(index)?;
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(-1.0, 1.0)
    };
    Some((base as f64 * (1.0 + JITTER * jitter)).round() as i64)
}

/// The delay actually used: the receiver's `Retry-After` (as a delay in ms) when it asks for
/// more time, but never less than our own schedule (a receiver saying "retry now" must not turn
/// retries into a hammering loop) and never more than twice it (so one header cannot park an
/// event for days).
pub fn with_retry_after(scheduled_ms: i64, retry_after_ms: Option<i64>) -> i64 {
    let Some(asked) = retry_after_ms else {
        return scheduled_ms;
    };
    let ceiling = scheduled_ms.saturating_mul(2).max(scheduled_ms);
    asked.max(scheduled_ms).min(ceiling)
}

/// `next_delay_ms` followed by `with_retry_after`: the whole decision after a failed attempt.
pub fn retry_delay_ms(attempt: u32, jitter: f64, retry_after_ms: Option<i64>) -> Option<i64> {
    next_delay_ms(attempt, jitter).map(|scheduled| with_retry_after(scheduled, retry_after_ms))
}

/// Reads a `Retry-After` header into a delay in milliseconds from `now_ms` (never negative).
/// Accepts delta-seconds (`120`) and the IMF-fixdate form of HTTP-date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), parsed by hand here. The obsolete RFC 850 and asctime
/// date forms, which RFC 9110 only asks recipients to tolerate, give `None` like any other
/// unreadable value: the delivery then simply follows the schedule.
pub fn parse_retry_after(header: &str, now_ms: i64) -> Option<i64> {
    let header = header.trim();
    if !header.is_empty() && header.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than fit is still "a very long time"; `with_retry_after` caps it.
        let seconds: i64 = header.parse().unwrap_or(i64::MAX);
        return Some(seconds.saturating_mul(1000));
    }
    let at_ms = parse_imf_fixdate(header)?.saturating_mul(1000);
    Some(at_ms.saturating_sub(now_ms).max(0))
}

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since the Unix epoch of `Day, DD Mon YYYY HH:MM:SS GMT`. The weekday must be a day
/// name but is not checked against the date: a server with a wrong weekday still meant the date.
fn parse_imf_fixdate(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 29
        && text.is_ascii()
        && &b[3..5] == b", "
        && b[7] == b' '
        && b[11] == b' '
        && b[16] == b' '
        && b[19] == b':'
        && b[22] == b':'
        && &b[25..] == b" GMT";
    if !shape_ok || !DAY_NAMES.contains(&&text[0..3]) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = &text[range];
        if digits.bytes().all(|d| d.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let day = number(5..7)?;
    let month = MONTH_NAMES.iter().position(|&m| m == &text[8..11])? as i64 + 1;
    let year = number(12..16)?;
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    // 60 is a leap second, which the HTTP grammar allows.
    let valid = (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60;
    if !valid {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECOND: i64 = 1_000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;

    #[test]
    fn the_schedule_is_the_one_in_the_design() {
        let nominal: Vec<i64> = (1..MAX_ATTEMPTS)
            .filter_map(|n| next_delay_ms(n, 0.0))
            .collect();
        assert_eq!(
            nominal,
            [
                5 * SECOND,
                5 * MINUTE,
                30 * MINUTE,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                10 * HOUR
            ]
        );
        assert_eq!(BASE_DELAYS_MS.len() as u32 + 1, MAX_ATTEMPTS);
        // "Retries … over about a day."
        let total: i64 = BASE_DELAYS_MS.iter().sum();
        assert_eq!(total, 27 * HOUR + 35 * MINUTE + 5 * SECOND);
    }

    #[test]
    fn no_delay_once_attempts_are_exhausted_or_for_attempt_zero() {
        assert_eq!(next_delay_ms(MAX_ATTEMPTS, 0.0), None);
        assert_eq!(next_delay_ms(MAX_ATTEMPTS + 1, 0.0), None);
        assert_eq!(next_delay_ms(u32::MAX, 0.0), None);
        assert_eq!(next_delay_ms(0, 0.0), None);
        assert_eq!(retry_delay_ms(MAX_ATTEMPTS, 0.0, Some(1)), None);
    }

    #[test]
    fn jitter_spans_plus_minus_twenty_percent_and_is_clamped() {
        assert_eq!(next_delay_ms(1, -1.0), Some(4_000));
        assert_eq!(next_delay_ms(1, 1.0), Some(6_000));
        assert_eq!(next_delay_ms(1, 0.5), Some(5_500));
        assert_eq!(next_delay_ms(7, -1.0), Some(8 * HOUR));
        assert_eq!(next_delay_ms(7, 1.0), Some(12 * HOUR));
        assert_eq!(next_delay_ms(1, -7.0), Some(4_000));
        assert_eq!(next_delay_ms(1, 7.0), Some(6_000));
        assert_eq!(next_delay_ms(1, f64::INFINITY), Some(6_000));
        assert_eq!(next_delay_ms(1, f64::NEG_INFINITY), Some(4_000));
        assert_eq!(next_delay_ms(1, f64::NAN), Some(5_000));
    }

    #[test]
    fn retry_after_is_honoured_within_one_to_two_times_the_schedule() {
        assert_eq!(with_retry_after(300_000, None), 300_000);
        assert_eq!(with_retry_after(300_000, Some(450_000)), 450_000);
        assert_eq!(with_retry_after(300_000, Some(0)), 300_000);
        assert_eq!(with_retry_after(300_000, Some(-5)), 300_000);
        assert_eq!(with_retry_after(300_000, Some(10 * HOUR)), 600_000);
        assert_eq!(with_retry_after(300_000, Some(i64::MAX)), 600_000);
        assert_eq!(with_retry_after(i64::MAX, Some(i64::MAX)), i64::MAX);
        // Nonsense schedules do not panic: the schedule wins.
        assert_eq!(with_retry_after(-10, Some(5)), -10);
        assert_eq!(with_retry_after(0, Some(5)), 0);
        assert_eq!(retry_delay_ms(2, 0.0, Some(7 * MINUTE)), Some(7 * MINUTE));
    }

    #[test]
    fn delta_seconds_are_read() {
        assert_eq!(parse_retry_after("120", 0), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", 0), Some(0));
        assert_eq!(parse_retry_after("007", 0), Some(7_000));
        assert_eq!(
            parse_retry_after("99999999999999999999999", 0),
            Some(i64::MAX)
        );
        assert_eq!(
            parse_retry_after("9223372036854775", 0),
            Some(9_223_372_036_854_775_000)
        );
        assert_eq!(parse_retry_after("9223372036854776", 0), Some(i64::MAX));
        for bad in ["", " ", "-1", "+5", "1.5", "1e3", "12 s", "٣", "0x10"] {
            assert_eq!(parse_retry_after(bad, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn imf_fixdates_are_read_relative_to_now() {
        let rfc_example = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT
        let header = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            parse_retry_after(header, rfc_example - 90_000),
            Some(90_000)
        );
        assert_eq!(parse_retry_after(header, rfc_example), Some(0));
        // A date in the past means "now", not a negative delay.
        assert_eq!(parse_retry_after(header, rfc_example + 1), Some(0));
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_imf_fixdate("Wed, 31 Dec 1969 23:59:59 GMT"), Some(-1));
        assert_eq!(
            parse_imf_fixdate("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        assert_eq!(
            parse_imf_fixdate("Sat, 31 Dec 2016 23:59:60 GMT"),
            Some(1_483_228_800)
        );
        assert_eq!(
            parse_imf_fixdate("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799)
        );
        // The weekday is not cross-checked.
        assert_eq!(parse_imf_fixdate("Mon, 01 Jan 1970 00:00:00 GMT"), Some(0));
    }

    #[test]
    fn other_date_forms_and_impossible_dates_are_ignored() {
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT", // RFC 850
            "Sun Nov  6 08:49:37 1994",       // asctime
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Thu, 29 Feb 2001 08:49:37 GMT",
            "Thu, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 08:49:+7 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTX",
            "Sun, 06 Nov 1994 08:49:37 GM",
            "Sun, 06 Nov 1994 08:49:37 GMé",
            "Sün, 06 Nov 1994 08:49:37 GM",
        ] {
            assert_eq!(parse_retry_after(bad, 0), None, "{bad:?}");
        }
    }

    /// The inverse of `days_from_civil`, only to generate dates for the round-trip property.
    fn civil_from_days(days: i64) -> (i64, i64, i64) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }

    fn imf_fixdate(epoch_s: i64) -> String {
        let days = epoch_s.div_euclid(86_400);
        let secs = epoch_s.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday, index 3 in DAY_NAMES.
        let weekday = DAY_NAMES[(days + 3).rem_euclid(7) as usize];
        format!(
            "{weekday}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
            MONTH_NAMES[(month - 1) as usize],
            secs / 3_600,
            secs % 3_600 / 60,
            secs % 60
        )
    }

    #[test]
    fn the_test_formatter_agrees_with_known_dates() {
        assert_eq!(imf_fixdate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(imf_fixdate(951_825_600), "Tue, 29 Feb 2000 12:00:00 GMT");
    }

    proptest! {
        #[test]
        fn jittered_delays_stay_within_twenty_percent(attempt in 1u32..MAX_ATTEMPTS, jitter in -1.0f64..=1.0) {
            let base = BASE_DELAYS_MS[(attempt - 1) as usize];
            let delay = next_delay_ms(attempt, jitter).unwrap();
            prop_assert!(delay >= base * 8 / 10 && delay <= base * 12 / 10, "{} of {}", delay, base);
        }

        #[test]
        fn next_delay_never_panics(attempt: u32, jitter: f64) {
            let delay = next_delay_ms(attempt, jitter);
            prop_assert_eq!(delay.is_some(), (1..MAX_ATTEMPTS).contains(&attempt));
            if let Some(d) = delay {
                prop_assert!(d >= 4_000);
            }
        }

        #[test]
        fn retry_after_result_stays_in_the_window(scheduled in 0i64..=i64::MAX / 2, asked: Option<i64>) {
            let used = with_retry_after(scheduled, asked);
            prop_assert!(used >= scheduled && used <= 2 * scheduled);
            if let Some(a) = asked.filter(|a| (scheduled..=2 * scheduled).contains(a)) {
                prop_assert_eq!(used, a);
            }
        }

        #[test]
        fn with_retry_after_never_panics(scheduled: i64, asked: Option<i64>) {
            let _ = with_retry_after(scheduled, asked);
        }

        #[test]
        fn imf_fixdates_round_trip(epoch_s in -62_135_596_800i64..=253_402_300_799, now_ms: i64) {
            let text = imf_fixdate(epoch_s);
            prop_assert_eq!(parse_imf_fixdate(&text), Some(epoch_s));
            let expected = (epoch_s * 1000).saturating_sub(now_ms).max(0);
            prop_assert_eq!(parse_retry_after(&text, now_ms), Some(expected));
        }

        #[test]
        fn delta_seconds_round_trip(seconds in 0i64..=i64::MAX / 1000, now_ms: i64) {
            prop_assert_eq!(parse_retry_after(&seconds.to_string(), now_ms), Some(seconds * 1000));
        }

        #[test]
        fn parse_retry_after_never_panics(s in ".{0,40}", now_ms: i64) {
            let _ = parse_retry_after(&s, now_ms);
        }

        #[test]
        fn parse_retry_after_never_panics_on_date_shaped_input(
            s in "[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z]{3}",
            now_ms: i64,
        ) {
            if let Some(delay) = parse_retry_after(&s, now_ms) {
                prop_assert!(delay >= 0);
            }
        }
    }
}
