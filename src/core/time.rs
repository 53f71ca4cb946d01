//! Just enough RFC 3339 / ISO 8601 to order visitors by `last_seen_at`.
//! Comparing the strings would misorder mixed offsets or fractions.

use super::text::thousandths;

/// Milliseconds since the Unix epoch, or `None` when the text is not a
/// full date-time (`YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`, `T` or space).
pub fn parse_timestamp_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = b.get(from..from + len)?;
        s.iter().all(u8::is_ascii_digit).then(|| s.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        millis = i64::from(thousandths(&text[i + 1..i + 1 + digits]));
        i += 1 + digits;
    }
    let offset_minutes = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let m = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Numbers below this are Unix seconds, at or above it milliseconds:
/// 10^11 seconds is the year 5138, 10^11 milliseconds is March 1973.
const MILLIS_FROM: f64 = 1e11;

/// A Unix time Upscope sent as a number, seconds or milliseconds, as
/// milliseconds; `None` when it is negative or past any plausible date.
pub fn unix_millis(number: f64) -> Option<i64> {
    let millis = if number < MILLIS_FROM { number * 1000.0 } else { number };
    (number.is_finite() && number >= 0.0 && millis < 9e15).then_some(millis as i64)
}

/// `last_seen_at` given as text: an ISO 8601 date-time, or Unix seconds or
/// milliseconds written as a plain decimal number.
pub fn parse_last_seen_millis(text: &str) -> Option<i64> {
    if let Some(millis) = parse_timestamp_millis(text) {
        return Some(millis);
    }
    // Digits with at most one '.': no signs, exponents or NaN. An empty
    // whole part, or one past u64, does not parse; one past 16 digits is
    // past any plausible date (`unix_millis`).
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    // Whole seconds plus up to three digits of fraction, without a float parser.
    let whole: u64 = whole.parse().ok()?;
    let thousandths = thousandths(fraction);
    let millis = unix_millis(whole as f64)?;
    // Milliseconds keep no fraction; seconds keep three digits of it.
    Some(if (whole as f64) < MILLIS_FROM { millis + i64::from(thousandths) } else { millis })
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_last_seen_millis;
    use super::parse_timestamp_millis as p;
    use super::unix_millis;

    const T: i64 = 1_795_515_330_000; // 2026-11-24T10:15:30Z

    #[test]
    fn last_seen_may_be_unix_seconds_or_milliseconds() {
        let iso = p("2026-11-24T10:15:30Z");
        assert_eq!(parse_last_seen_millis("2026-11-24T10:15:30Z"), iso);
        assert_eq!(parse_last_seen_millis("1795515330"), iso);
        assert_eq!(parse_last_seen_millis("1795515330000"), iso);
        assert_eq!(parse_last_seen_millis("1795515330.5"), iso.map(|ms| ms + 500));
        assert_eq!(parse_last_seen_millis("1795515330000.9"), iso, "milliseconds keep no fraction");
        for bad in
            ["", "-5", "1e12", "NaN", "1.2.3", "12 34", ".5", "99999999999999999999", "99999999999999999", "1.5a"]
        {
            assert_eq!(parse_last_seen_millis(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("2000-03-01T00:00:00Z"), Some(951_868_800_000));
        assert_eq!(p("2026-11-24T10:15:30.5Z"), Some(1_795_515_330_500));
        assert_eq!(p("2026-11-24 10:15:30"), p("2026-11-24T10:15:30Z"));
    }

    #[test]
    fn offsets_and_fractions_order_correctly() {
        // 11:00+01:00 is 10:00Z, earlier than 10:30Z although it sorts later as text.
        assert!(p("2026-11-24T11:00:00+01:00").unwrap() < p("2026-11-24T10:30:00Z").unwrap());
        assert_eq!(p("2026-11-24T10:00:00.123456Z").unwrap() % 1000, 123);
    }

    #[test]
    fn garbage_is_none() {
        for bad in
            ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-24", "2026-11-24T10:00:00Zjunk", "2026-11-24T10:00:00.Z"]
        {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    /// Issue 28 (cargo-mutants): each separator is checked on its own, each
    /// field at its bounds, and an offset is read exactly, fraction or not.
    #[test]
    fn every_separator_and_every_bound_is_checked_on_its_own() {
        for bad in [
            "2026x11-24T10:15:30Z",
            "2026-11x24T10:15:30Z",
            "2026-11-24x10:15:30Z",
            "2026-11-24T10x15:30Z",
            "2026-11-24T10:15x30Z",
            "2026-11-24T24:15:30Z",
            "2026-11-24T10:60:30Z",
            "2026-11-24T10:15:61Z",
            "2026-00-24T10:15:30Z",
            "2026-11-32T10:15:30Z",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        // The largest of each field, a leap second included.
        assert_eq!(p("2026-12-31T23:59:60Z"), p("2027-01-01T00:00:00Z"));
        assert_eq!(p("2026-11-24T23:59:59Z"), Some(T + ((23 - 10) * 3600 + (59 - 15) * 60 + 29) * 1000));
    }

    #[test]
    fn an_offset_is_read_exactly_after_a_fraction_too() {
        assert_eq!(p("2026-11-24T15:45:30+05:30"), Some(T));
        assert_eq!(p("2026-11-24T04:45:30-05:30"), Some(T));
        assert_eq!(p("2026-11-24T15:45:30.5+05:30"), Some(T + 500));
        assert_eq!(p("2026-11-24T04:45:30.25-05:30"), Some(T + 250));
        assert_eq!(p("2026-11-24T10:15:30.125z"), Some(T + 125));
        for bad in [
            "2026-11-24T15:45:30+05-30",
            "2026-11-24T15:45:30+0530",
            "2026-11-24T15:45:30+05:300",
            "2026-11-24T15:45:30.5+05-30",
            "2026-11-24T15:45:30+05:30Z",
            "2026-11-24T15:45:30*05:30",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn seconds_and_milliseconds_meet_at_ten_to_the_eleven() {
        assert_eq!(unix_millis(99_999_999_999.0), Some(99_999_999_999_000), "seconds");
        assert_eq!(unix_millis(1e11), Some(100_000_000_000), "milliseconds from 10^11 on");
        assert_eq!(unix_millis(9e15 - 1.0), Some(8_999_999_999_999_999));
        assert_eq!(unix_millis(9e15), None, "past any plausible date");
        assert_eq!(unix_millis(-1.0), None);
        assert_eq!(unix_millis(f64::NAN), None);
        // As text: sixteen digits are a number, seventeen are not.
        assert_eq!(parse_last_seen_millis("1000000000000000"), Some(1_000_000_000_000_000));
        assert_eq!(parse_last_seen_millis("10000000000000000"), None);
        // Exactly 10^11 is milliseconds, so its fraction is dropped.
        assert_eq!(parse_last_seen_millis("100000000000.5"), Some(100_000_000_000));
        assert_eq!(parse_last_seen_millis("99999999999.5"), Some(99_999_999_999_500));
        for bad in ["12a", "1.x", "1.5.", "a.5", "1..5"] {
            assert_eq!(parse_last_seen_millis(bad), None, "{bad:?}");
        }
    }
}
