//! How pages write times and numbers: "3 minutes ago", "1.2k".

use sentry_core::protocol::Timestamp;

/// How long before `now` a time was, in the largest whole unit.
pub fn time_ago(time: Timestamp, now: Timestamp) -> String {
    let seconds = (now.as_unix_micros() - time.as_unix_micros()) / 1_000_000;
    let (count, unit) = match seconds {
        ..45 => return "just now".to_owned(),
        45..3600 => ((seconds + 30) / 60, "minute"),
        3600..86_400 => (seconds / 3600, "hour"),
        86_400..2_592_000 => (seconds / 86_400, "day"),
        2_592_000..31_536_000 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    let count = count.max(1);
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural} ago")
}

/// How old something first seen at a time is: `3 days old`, or `new`.
pub fn age(time: Timestamp, now: Timestamp) -> String {
    let ago = time_ago(time, now);
    match ago.strip_suffix(" ago") {
        Some(span) => format!("{span} old"),
        None => "new".to_owned(),
    }
}

/// A time as `2024-05-01 12:30:00 UTC`.
pub fn date_time(time: Timestamp) -> String {
    let text = time.to_rfc3339();
    let (date, rest) = text.split_once('T').unwrap_or((&text, ""));
    let clock: String = rest.chars().take(8).collect();
    format!("{date} {clock} UTC")
}

/// A count as Sentry's lists write it: `999`, `1.2k`, `34k`, `1.5m`.
pub fn compact_count(count: u64) -> String {
    let scaled = |divisor: u64, suffix: &str| {
        let whole = count / divisor;
        let tenth = count % divisor * 10 / divisor;
        if whole < 10 && tenth > 0 {
            format!("{whole}.{tenth}{suffix}")
        } else {
            format!("{whole}{suffix}")
        }
    };
    match count {
        ..1000 => count.to_string(),
        1000..1_000_000 => scaled(1000, "k"),
        _ => scaled(1_000_000, "m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_micros(seconds * 1_000_000).unwrap()
    }

    #[test]
    fn writes_ages_in_the_largest_unit() {
        let now = at(100_000_000);
        assert_eq!(time_ago(at(100_000_000 - 10), now), "just now");
        assert_eq!(time_ago(at(100_000_000 - 60), now), "1 minute ago");
        assert_eq!(time_ago(at(100_000_000 - 7200), now), "2 hours ago");
        assert_eq!(time_ago(at(100_000_000 - 3 * 86_400), now), "3 days ago");
        assert_eq!(time_ago(at(100_000_000 + 60), now), "just now");
        assert_eq!(age(at(100_000_000 - 7200), now), "2 hours old");
        assert_eq!(age(at(100_000_000 - 1), now), "new");
    }

    #[test]
    fn writes_counts_compactly() {
        assert_eq!(compact_count(999), "999");
        assert_eq!(compact_count(1200), "1.2k");
        assert_eq!(compact_count(34_567), "34k");
        assert_eq!(compact_count(1_500_000), "1.5m");
    }

    #[test]
    fn writes_dates_in_utc() {
        assert_eq!(date_time(at(0)), "1970-01-01 00:00:00 UTC");
    }
}
