//! Sentry's issue search syntax.
//!
//! A query is a list of terms separated by spaces; a value with spaces is
//! quoted (`key:"a value"`). The terms:
//!
//! - `is:unresolved`, `is:resolved`, `is:ignored` (or `is:muted`,
//!   `is:archived`): the status;
//! - `firstSeen:`, `lastSeen:` (`age:` is `firstSeen:`): relative, `-24h`
//!   (within the last 24 hours) or `+7d` (before the last 7 days), in `m`,
//!   `h`, `d` or `w`; or absolute, `>2024-05-01`, `<=2024-05-01T12:00:00`,
//!   or a day, `2024-05-01`;
//! - `times_seen:` (or `timesSeen:`): `>10`, `>=10`, `<10`, `<=10` or `10`;
//! - `has:key`: an event of the issue has the tag; `!has:key`: one lacks it;
//! - any other `key:value` is a tag condition (`level`, `environment`,
//!   `release`, `user`, `browser`, ... are tags, see [`sentry_core::tags`])
//!   that an event of the issue must meet; `!key:value` negates it;
//! - the rest is free text, every word (or "quoted phrase") of which must
//!   appear in the title or culprit.
//!
//! A missing query means Sentry's default, `is:unresolved`; an empty one
//! matches every issue. A mistake is a 400 naming its column (counted in
//! characters from 1).

use sentry_core::protocol::Timestamp;
use sentry_core::store::{CountRange, IssueStatus, TagFilter, TimeRange};

use crate::error::ApiError;

/// A parsed issue search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueSearch {
    /// The status filter; `None` for all.
    pub status: Option<IssueStatus>,
    /// Text that must appear, each entry on its own.
    pub text: Vec<String>,
    /// Tag conditions an event of the issue must meet, all at once.
    pub tags: Vec<TagFilter>,
    /// When the issue was first seen.
    pub first_seen: TimeRange,
    /// When it was last seen.
    pub last_seen: TimeRange,
    /// How many events it has.
    pub times_seen: CountRange,
}

/// A term of a query and the column it starts at (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    text: String,
    column: usize,
}

fn invalid(column: usize, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid search query at column {column}: {message}"
    ))
}

impl IssueSearch {
    /// Parses the `query` parameter, with relative times counted back from
    /// `now`; `None` is the default search.
    ///
    /// # Errors
    ///
    /// 400 naming the column of an unclosed quote, an unknown `is:` value, a
    /// key without a value, or a date or count that does not read.
    pub fn parse(query: Option<&str>, now: Timestamp) -> Result<Self, ApiError> {
        let Some(query) = query else {
            return Ok(Self {
                status: Some(IssueStatus::Unresolved),
                ..Self::default()
            });
        };
        let mut search = Self::default();
        for term in terms(query)? {
            search.add(term, now)?;
        }
        Ok(search)
    }

    fn add(&mut self, term: Term, now: Timestamp) -> Result<(), ApiError> {
        let Some((raw_key, value)) = term.text.split_once(':') else {
            self.text.push(term.text);
            return Ok(());
        };
        let (negated, key) = match raw_key.strip_prefix('!') {
            Some(key) => (true, key),
            None => (false, raw_key),
        };
        if !is_key(key) {
            self.text.push(term.text);
            return Ok(());
        }
        // Where the value starts, for messages.
        let value_column = term.column + raw_key.chars().count() + 1;
        if value.is_empty() {
            return Err(invalid(term.column, format!("`{key}:` needs a value")));
        }
        let not_negatable = || invalid(term.column, format!("`{key}:` cannot be negated"));
        match key {
            "is" => {
                if negated {
                    return Err(not_negatable());
                }
                let status = match value {
                    "archived" => Some(IssueStatus::Ignored),
                    other => IssueStatus::parse(other),
                };
                self.status =
                    Some(status.ok_or_else(|| {
                        invalid(value_column, format!("unknown status `{value}`"))
                    })?);
            }
            "firstSeen" | "age" | "lastSeen" => {
                if negated {
                    return Err(not_negatable());
                }
                let range = time_range(value, now).map_err(|e| invalid(value_column, e))?;
                let target = if key == "lastSeen" {
                    &mut self.last_seen
                } else {
                    &mut self.first_seen
                };
                merge_time(target, range);
            }
            "times_seen" | "timesSeen" => {
                if negated {
                    return Err(not_negatable());
                }
                let range = count_range(value).map_err(|e| invalid(value_column, e))?;
                self.times_seen.min = self.times_seen.min.max(range.min);
                self.times_seen.max = match (self.times_seen.max, range.max) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            "has" => {
                if !is_key(value) {
                    return Err(invalid(value_column, format!("`{value}` is not a tag key")));
                }
                self.tags.push(TagFilter {
                    key: value.to_owned(),
                    value: None,
                    negated,
                });
            }
            _ => self.tags.push(TagFilter {
                key: key.to_owned(),
                value: Some(value.to_owned()),
                negated,
            }),
        }
        Ok(())
    }
}

/// A key is letters, digits and `_.-`.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Narrows a range by another: the later start and the earlier end.
fn merge_time(target: &mut TimeRange, range: TimeRange) {
    target.start = target.start.max(range.start);
    target.end = match (target.end, range.end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// Reads `-24h`, `+7d`, `>DATE`, `>=DATE`, `<DATE`, `<=DATE` or `DATE`.
fn time_range(value: &str, now: Timestamp) -> Result<TimeRange, String> {
    if let Some(ago) = value.strip_prefix('-') {
        return Ok(TimeRange {
            start: Some(back(now, ago)?),
            end: None,
        });
    }
    if let Some(ago) = value.strip_prefix('+') {
        return Ok(TimeRange {
            start: None,
            end: Some(back(now, ago)?),
        });
    }
    let (operator, date) = split_operator(value);
    let (start, end) = date_bounds(date)?;
    Ok(match operator {
        ">" => TimeRange {
            start: Some(end),
            end: None,
        },
        ">=" => TimeRange {
            start: Some(start),
            end: None,
        },
        "<" => TimeRange {
            start: None,
            end: Some(start),
        },
        "<=" => TimeRange {
            start: None,
            end: Some(end),
        },
        _ => TimeRange {
            start: Some(start),
            end: Some(end),
        },
    })
}

fn split_operator(value: &str) -> (&str, &str) {
    for operator in [">=", "<=", ">", "<"] {
        if let Some(rest) = value.strip_prefix(operator) {
            return (operator, rest);
        }
    }
    ("", value)
}

/// `now` less an amount like `24h`.
fn back(now: Timestamp, amount: &str) -> Result<Timestamp, String> {
    let bad = || format!("`{amount}` is not an amount of time such as 24h, 7d or 30m");
    let split = amount.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = amount.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad())?;
    let seconds: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    number
        .checked_mul(seconds)
        .and_then(|seconds| seconds.checked_mul(1_000_000))
        .and_then(|micros| now.as_unix_micros().checked_sub(micros))
        .and_then(Timestamp::from_unix_micros)
        .ok_or_else(bad)
}

/// The first and last instant a date (a day, or a time with or without a
/// zone, UTC when none) stands for.
fn date_bounds(date: &str) -> Result<(Timestamp, Timestamp), String> {
    let bad = || format!("`{date}` is not a date such as 2024-05-01 or 2024-05-01T12:00:00");
    if date.len() == 10 {
        let start = Timestamp::parse_rfc3339(&format!("{date}T00:00:00Z")).ok_or_else(bad)?;
        let day_micros = 86_400 * 1_000_000 - 1;
        let end =
            Timestamp::from_unix_micros(start.as_unix_micros() + day_micros).ok_or_else(bad)?;
        return Ok((start, end));
    }
    let has_zone = date.ends_with('Z')
        || date
            .get(19..)
            .is_some_and(|rest| rest.contains('+') || rest.contains('-'));
    let text = if has_zone {
        date.to_owned()
    } else {
        format!("{date}Z")
    };
    let at = Timestamp::parse_rfc3339(&text).ok_or_else(bad)?;
    Ok((at, at))
}

/// Reads `>N`, `>=N`, `<N`, `<=N` or `N`.
fn count_range(value: &str) -> Result<CountRange, String> {
    let (operator, number) = split_operator(value);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{number}` is not a whole number"))?;
    Ok(match operator {
        ">" => CountRange {
            min: Some(number.saturating_add(1)),
            max: None,
        },
        ">=" => CountRange {
            min: Some(number),
            max: None,
        },
        "<" => CountRange {
            min: None,
            max: Some(number.saturating_sub(1)),
        },
        "<=" => CountRange {
            min: None,
            max: Some(number),
        },
        _ => CountRange {
            min: Some(number),
            max: Some(number),
        },
    })
}

/// Splits on whitespace, keeping quoted parts (without their quotes)
/// whole; each term with its column.
fn terms(query: &str) -> Result<Vec<Term>, ApiError> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut quote_column = None;
    for (index, c) in query.chars().enumerate() {
        let column = index + 1;
        if c.is_control() && !c.is_whitespace() {
            return Err(invalid(column, "control characters are not allowed"));
        }
        match c {
            '"' => {
                if current.is_empty() && quote_column.is_none() {
                    start = column;
                }
                quote_column = match quote_column {
                    Some(_) => None,
                    None => Some(column),
                };
            }
            c if c.is_whitespace() && quote_column.is_none() => {
                if !current.is_empty() {
                    terms.push(Term {
                        text: std::mem::take(&mut current),
                        column: start,
                    });
                }
            }
            c => {
                if current.is_empty() && quote_column.is_none() {
                    start = column;
                }
                current.push(c);
            }
        }
    }
    if let Some(column) = quote_column {
        return Err(invalid(column, "unclosed quote"));
    }
    if !current.is_empty() {
        terms.push(Term {
            text: current,
            column: start,
        });
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2024-05-10T00:00:00Z").unwrap()
    }

    fn parse(query: &str) -> IssueSearch {
        IssueSearch::parse(Some(query), now()).unwrap()
    }

    fn error(query: &str) -> String {
        let error = IssueSearch::parse(Some(query), now()).unwrap_err();
        assert_eq!(error.status(), 400);
        format!("{error:?}")
    }

    fn at(text: &str) -> Option<Timestamp> {
        Timestamp::parse_rfc3339(text)
    }

    #[test]
    fn missing_query_means_unresolved_and_empty_means_all() {
        assert_eq!(
            IssueSearch::parse(None, now()).unwrap().status,
            Some(IssueStatus::Unresolved)
        );
        assert_eq!(parse(""), IssueSearch::default());
    }

    #[test]
    fn reads_status_and_phrases() {
        let search = parse("is:resolved ValueError \"bad input\"");
        assert_eq!(search.status, Some(IssueStatus::Resolved));
        assert_eq!(search.text, vec!["ValueError", "bad input"]);
        assert_eq!(parse("is:archived").status, Some(IssueStatus::Ignored));
    }

    #[test]
    fn reads_tag_conditions() {
        let search =
            parse("environment:production !browser:\"Chrome 120\" has:url !has:os Timeout");
        let tag = |key: &str, value: Option<&str>, negated| TagFilter {
            key: key.to_owned(),
            value: value.map(str::to_owned),
            negated,
        };
        assert_eq!(
            search.tags,
            vec![
                tag("environment", Some("production"), false),
                tag("browser", Some("Chrome 120"), true),
                tag("url", None, false),
                tag("os", None, true),
            ]
        );
        assert_eq!(search.text, vec!["Timeout"]);
        // Not a key: kept as text.
        assert_eq!(parse("a/b:c").text, vec!["a/b:c"]);
    }

    #[test]
    fn reads_relative_and_absolute_times() {
        let search = parse("firstSeen:-24h lastSeen:+7d");
        assert_eq!(search.first_seen.start, at("2024-05-09T00:00:00Z"));
        assert_eq!(search.first_seen.end, None);
        assert_eq!(search.last_seen.end, at("2024-05-03T00:00:00Z"));
        let search = parse("lastSeen:>=2024-05-01 lastSeen:<2024-05-02T12:00:00");
        assert_eq!(search.last_seen.start, at("2024-05-01T00:00:00Z"));
        assert_eq!(search.last_seen.end, at("2024-05-02T12:00:00Z"));
        let day = parse("age:2024-05-01");
        assert_eq!(day.first_seen.start, at("2024-05-01T00:00:00Z"));
        assert_eq!(day.first_seen.end, at("2024-05-01T23:59:59.999999Z"));
        assert_eq!(
            parse("firstSeen:>2024-05-01T00:00:00+02:00")
                .first_seen
                .start,
            at("2024-04-30T22:00:00Z")
        );
    }

    #[test]
    fn reads_counts() {
        let range = |min, max| CountRange { min, max };
        assert_eq!(parse("times_seen:>10").times_seen, range(Some(11), None));
        assert_eq!(parse("timesSeen:<=5").times_seen, range(None, Some(5)));
        assert_eq!(parse("times_seen:3").times_seen, range(Some(3), Some(3)));
        assert_eq!(
            parse("times_seen:>=2 times_seen:<10").times_seen,
            range(Some(2), Some(9))
        );
    }

    #[test]
    fn mistakes_name_their_column() {
        assert!(error("is:sleeping").contains("column 4"));
        assert!(error("level:error is:bogus").contains("column 16"));
        assert!(error("TypeError \"open").contains("column 11"));
        assert!(error("release:").contains("column 1"));
        assert!(error("firstSeen:-3y").contains("column 11"));
        assert!(error("lastSeen:>yesterday").contains("column 10"));
        assert!(error("times_seen:>ten").contains("column 12"));
        assert!(error("!is:resolved").contains("column 1"));
        assert!(error("has:a/b").contains("column 5"));
        assert!(error("firstSeen:-99999999999999w").contains("column 11"));
        assert!(error("ab\u{0}").contains("column 3"));
    }
}
