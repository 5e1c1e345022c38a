//! SQL text for ClickHouse: literals, identifiers and the `WHERE` clause of
//! an [`EventFilter`].
//!
//! ClickHouse 18.16 has no query parameters, so every value is written into
//! the statement. Numbers are formatted from integers; strings go through
//! [`string_literal`], which escapes everything ClickHouse's lexer treats
//! specially; event ids are `unhex('…')` of their hex digits. No other text
//! reaches a statement. Values are compared with `=` only, never `LIKE`, so
//! `%` and `_` are plain characters.

use std::collections::BTreeMap;
use std::fmt::Write;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventCursor, EventFilter, TagFilter};
use sentry_core::{EventId, ProjectId};

/// Microseconds in a day.
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Writes a string as a single-quoted ClickHouse literal: backslash and
/// quote are escaped, control characters become `\xHH`, everything else
/// (unicode included) is kept as is.
pub(super) fn string_literal(value: &str) -> String {
    let mut literal = String::with_capacity(value.len() + 2);
    literal.push('\'');
    for character in value.chars() {
        match character {
            '\\' => literal.push_str("\\\\"),
            '\'' => literal.push_str("\\'"),
            control if control.is_ascii_control() => {
                let _ = write!(literal, "\\x{:02X}", control as u32);
            }
            other => literal.push(other),
        }
    }
    literal.push('\'');
    literal
}

/// Writes a name as a back-quoted identifier.
pub(super) fn identifier(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('`');
    for character in name.chars() {
        match character {
            '\\' => quoted.push_str("\\\\"),
            '`' => quoted.push_str("\\`"),
            control if control.is_ascii_control() => {
                let _ = write!(quoted, "\\x{:02X}", control as u32);
            }
            other => quoted.push(other),
        }
    }
    quoted.push('`');
    quoted
}

/// Writes an event id as a `FixedString(16)` value: a string literal of
/// `\xHH` escapes. A literal, unlike `unhex('…')`, costs the server no
/// function call, which counts in lists of a thousand ids.
pub(super) fn event_id_literal(event_id: &EventId) -> String {
    let mut literal = String::with_capacity(66);
    literal.push('\'');
    for byte in event_id.as_bytes() {
        let _ = write!(literal, "\\x{byte:02X}");
    }
    literal.push('\'');
    literal
}

/// The condition that `(project_id, event_id)` is one of some pairs:
/// per project, `project_id = P AND event_id IN (…)`, which 18.16 answers
/// faster than a tuple `IN`, joined with `OR`. `None` for no pairs.
pub(super) fn ids_condition(
    pairs: impl IntoIterator<Item = (ProjectId, EventId)>,
) -> Option<String> {
    ids_condition_with(pairs, |ids| format!("({ids})"))
}

/// As [`ids_condition`], with each project's ids as a subquery over one
/// array literal, `event_id IN (SELECT toFixedString(arrayJoin([…]), 16))`:
/// 18.16 parses an array of literals in one go, while a list of a thousand
/// literals costs it more than the lookup itself. The primary key still
/// answers it (`use_index_for_in_with_subqueries`). For many ids; for a
/// few, the plain list saves the subquery.
pub(super) fn ids_set_condition(
    pairs: impl IntoIterator<Item = (ProjectId, EventId)>,
) -> Option<String> {
    ids_condition_with(pairs, |ids| {
        format!("(SELECT toFixedString(arrayJoin([{ids}]), 16))")
    })
}

/// Groups pairs by project, and writes each project's condition with the
/// set that `set` makes of its id literals (joined with `, `).
fn ids_condition_with(
    pairs: impl IntoIterator<Item = (ProjectId, EventId)>,
    set: impl Fn(&str) -> String,
) -> Option<String> {
    let mut by_project: BTreeMap<u64, Vec<EventId>> = BTreeMap::new();
    for (project_id, event_id) in pairs {
        by_project.entry(project_id.0).or_default().push(event_id);
    }
    if by_project.is_empty() {
        return None;
    }
    let conditions = by_project.iter().map(|(project_id, event_ids)| {
        format!(
            "(project_id = {project_id} AND event_id IN {})",
            set(&join(event_ids.iter().map(event_id_literal)))
        )
    });
    Some(format!("({})", conditions.collect::<Vec<_>>().join(" OR ")))
}

/// The day of a timestamp as a `Date` holds it: days since 1970-01-01,
/// clamped to the type's range. Clamping keeps the order, so a bound on the
/// timestamp gives a bound on the day.
pub(super) fn day(timestamp: Timestamp) -> u16 {
    let days = timestamp.as_unix_micros().div_euclid(MICROS_PER_DAY);
    u16::try_from(days.max(0)).unwrap_or(u16::MAX)
}

/// Writes a day as a `Date` literal, `'YYYY-MM-DD'`, which every version
/// compares with a `Date` column (and prunes partitions with).
pub(super) fn date_literal(day: u16) -> String {
    let (year, month, day) = civil_from_days(i64::from(day));
    format!("'{year:04}-{month:02}-{day:02}'")
}

/// Converts days since 1970-01-01 to a proleptic Gregorian date (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The conditions of a filter, joined with `AND`; `None` when it can match
/// nothing (no project).
pub(super) fn filter_conditions(filter: &EventFilter) -> Option<String> {
    if filter.project_ids.is_empty() {
        return None;
    }
    let mut conditions = vec![format!(
        "project_id IN ({})",
        join(filter.project_ids.iter().map(|id| id.0.to_string()))
    )];
    if !filter.issue_ids.is_empty() {
        conditions.push(format!(
            "issue_id IN ({})",
            join(filter.issue_ids.iter().map(|id| id.0.to_string()))
        ));
    }
    if let Some(start) = filter.start {
        conditions.push(format!("timestamp >= {}", start.as_unix_micros()));
        conditions.push(format!("date >= {}", date_literal(day(start))));
    }
    if let Some(end) = filter.end {
        conditions.push(format!("timestamp < {}", end.as_unix_micros()));
        conditions.push(format!("date <= {}", date_literal(day(end))));
    }
    conditions.extend(filter.tags.iter().map(tag_condition));
    Some(conditions.join(" AND "))
}

/// The condition that an event comes after a cursor in newest-first order.
pub(super) fn after_cursor(cursor: &EventCursor) -> String {
    let timestamp = cursor.timestamp.as_unix_micros();
    format!(
        "date <= {date} AND (timestamp < {timestamp} OR (timestamp = {timestamp} AND event_id < {id}))",
        date = date_literal(day(cursor.timestamp)),
        id = event_id_literal(&cursor.event_id),
    )
}

/// `key=value` (or the key with any value) as a condition on the parallel
/// tag arrays; negated, it also holds for events without the key.
fn tag_condition(tag: &TagFilter) -> String {
    let exists = match &tag.value {
        Some(value) => format!(
            "arrayExists((tag_key, tag_value) -> tag_key = {} AND tag_value = {}, tag_keys, tag_values)",
            string_literal(&tag.key),
            string_literal(value)
        ),
        None => format!("has(tag_keys, {})", string_literal(&tag.key)),
    };
    if tag.negated {
        format!("NOT {exists}")
    } else {
        exists
    }
}

/// Joins items with `, `.
pub(super) fn join(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use sentry_core::IssueId;

    use super::*;

    #[test]
    fn escapes_string_literals() {
        assert_eq!(string_literal("plain"), "'plain'");
        assert_eq!(string_literal("it's"), r"'it\'s'");
        assert_eq!(string_literal(r"back\slash"), r"'back\\slash'");
        assert_eq!(string_literal(r"\N"), r"'\\N'");
        assert_eq!(string_literal(r"\'"), r"'\\\''");
        assert_eq!(string_literal("a\nb\tc\0d\x7f"), r"'a\x0Ab\x09c\x00d\x7F'");
        assert_eq!(string_literal("-- %_ ü 🦀"), "'-- %_ ü 🦀'");
        assert_eq!(string_literal(""), "''");
    }

    #[test]
    fn escapes_identifiers() {
        assert_eq!(identifier("sentry"), "`sentry`");
        assert_eq!(identifier("a`b\\c"), r"`a\`b\\c`");
    }

    #[test]
    fn writes_event_ids_as_escaped_bytes() {
        let id = EventId::from_bytes([0xab; 16]);
        assert_eq!(event_id_literal(&id), format!("'{}'", "\\xAB".repeat(16)));
    }

    #[test]
    fn groups_ids_by_project() {
        let a = EventId::from_bytes([1; 16]);
        let b = EventId::from_bytes([2; 16]);
        let [a_literal, b_literal] = [a, b].map(|id| event_id_literal(&id));
        assert_eq!(ids_condition([]), None);
        assert_eq!(
            ids_condition([(ProjectId(9), a), (ProjectId(3), b), (ProjectId(9), b)]).unwrap(),
            format!(
                "((project_id = 3 AND event_id IN ({b_literal})) OR \
                 (project_id = 9 AND event_id IN ({a_literal}, {b_literal})))"
            )
        );
    }

    #[test]
    fn groups_ids_by_project_in_subqueries() {
        let a = EventId::from_bytes([1; 16]);
        let b = EventId::from_bytes([2; 16]);
        let [a_literal, b_literal] = [a, b].map(|id| event_id_literal(&id));
        assert_eq!(ids_set_condition([]), None);
        assert_eq!(
            ids_set_condition([(ProjectId(9), a), (ProjectId(3), b), (ProjectId(9), b)]).unwrap(),
            format!(
                "((project_id = 3 AND event_id IN \
                 (SELECT toFixedString(arrayJoin([{b_literal}]), 16))) OR \
                 (project_id = 9 AND event_id IN \
                 (SELECT toFixedString(arrayJoin([{a_literal}, {b_literal}]), 16))))"
            )
        );
    }

    #[test]
    fn days_are_utc_and_clamped() {
        let at = |micros| Timestamp::from_unix_micros(micros).unwrap();
        assert_eq!(day(at(0)), 0);
        assert_eq!(day(at(MICROS_PER_DAY - 1)), 0);
        assert_eq!(day(at(MICROS_PER_DAY)), 1);
        assert_eq!(day(at(-1)), 0);
        assert_eq!(day(at(1_700_000_000_000_000)), 19_675);
        assert_eq!(day(at(i64::from(u16::MAX) * MICROS_PER_DAY * 2)), u16::MAX);
    }

    #[test]
    fn writes_dates() {
        assert_eq!(date_literal(0), "'1970-01-01'");
        assert_eq!(date_literal(59), "'1970-03-01'");
        assert_eq!(date_literal(19_675), "'2023-11-14'");
        assert_eq!(date_literal(11_016), "'2000-02-29'");
        assert_eq!(date_literal(u16::MAX), "'2149-06-06'");
    }

    #[test]
    fn builds_filters() {
        assert_eq!(filter_conditions(&EventFilter::default()), None);
        let filter = EventFilter {
            project_ids: vec![ProjectId(1), ProjectId(2)],
            issue_ids: vec![IssueId(-3)],
            start: Timestamp::from_unix_micros(MICROS_PER_DAY),
            end: Timestamp::from_unix_micros(2 * MICROS_PER_DAY),
            tags: vec![
                TagFilter {
                    key: "k'".to_owned(),
                    value: Some("v".to_owned()),
                    negated: false,
                },
                TagFilter {
                    key: "k".to_owned(),
                    value: Some("v\\".to_owned()),
                    negated: true,
                },
            ],
        };
        assert_eq!(
            filter_conditions(&filter).unwrap(),
            "project_id IN (1, 2) AND issue_id IN (-3) \
             AND timestamp >= 86400000000 AND date >= '1970-01-02' \
             AND timestamp < 172800000000 AND date <= '1970-01-03' \
             AND arrayExists((tag_key, tag_value) -> tag_key = 'k\\'' AND tag_value = 'v', tag_keys, tag_values) \
             AND NOT arrayExists((tag_key, tag_value) -> tag_key = 'k' AND tag_value = 'v\\\\', tag_keys, tag_values)"
        );
    }
}
