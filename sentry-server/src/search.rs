//! Sentry's issue search syntax, as far as the server supports it:
//! `is:unresolved|resolved|ignored`, tag conditions `key:value` and
//! `!key:value` (`key:"a value"` for spaces; `level`, `environment`,
//! `release`, `user`, `browser`, ... are tags, see
//! [`sentry_core::tags`]) that issues must have an event matching, and free
//! text (words or "quoted phrases") matched against title and culprit. A
//! missing query means Sentry's default, `is:unresolved`; an empty one
//! matches every status.

use sentry_core::store::{IssueStatus, TagFilter};

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
}

impl IssueSearch {
    /// Parses the `query` parameter; `None` is the default search.
    ///
    /// # Errors
    ///
    /// 400 for an unknown `is:` value or an unclosed quote.
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let Some(query) = query else {
            return Ok(Self {
                status: Some(IssueStatus::Unresolved),
                ..Self::default()
            });
        };
        let mut search = Self::default();
        for token in tokens(query)? {
            match token.strip_prefix("is:") {
                Some(value) => {
                    let status = IssueStatus::parse(value).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "Invalid search query: unknown status `{value}`"
                        ))
                    })?;
                    search.status = Some(status);
                }
                None => match tag_filter(&token)? {
                    Some(filter) => search.tags.push(filter),
                    None => search.text.push(token),
                },
            }
        }
        Ok(search)
    }
}

/// Reads `key:value` or `!key:value` with a key of letters, digits and
/// `_.-`; anything else is text.
fn tag_filter(token: &str) -> Result<Option<TagFilter>, ApiError> {
    let Some((key, value)) = token.split_once(':') else {
        return Ok(None);
    };
    let (negated, key) = match key.strip_prefix('!') {
        Some(key) => (true, key),
        None => (false, key),
    };
    let is_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !is_key {
        return Ok(None);
    }
    if value.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Invalid search query: `{key}:` needs a value"
        )));
    }
    Ok(Some(TagFilter {
        key: key.to_owned(),
        value: value.to_owned(),
        negated,
    }))
}

/// Splits on whitespace, keeping "quoted phrases" (without their quotes) whole.
fn tokens(query: &str) -> Result<Vec<String>, ApiError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(ApiError::bad_request(
            "Invalid search query: unclosed quote",
        ));
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_query_means_unresolved_and_empty_means_all() {
        assert_eq!(
            IssueSearch::parse(None).unwrap().status,
            Some(IssueStatus::Unresolved)
        );
        assert_eq!(
            IssueSearch::parse(Some("")).unwrap(),
            IssueSearch::default()
        );
    }

    #[test]
    fn reads_status_and_phrases() {
        let search = IssueSearch::parse(Some("is:resolved ValueError \"bad input\"")).unwrap();
        assert_eq!(search.status, Some(IssueStatus::Resolved));
        assert_eq!(search.text, vec!["ValueError", "bad input"]);
        assert!(IssueSearch::parse(Some("is:sleeping")).is_err());
        assert!(IssueSearch::parse(Some("\"open")).is_err());
    }

    #[test]
    fn reads_tag_conditions() {
        let search = IssueSearch::parse(Some(
            "environment:production !browser:\"Chrome 120\" Timeout",
        ))
        .unwrap();
        assert_eq!(
            search.tags,
            vec![
                TagFilter {
                    key: "environment".to_owned(),
                    value: "production".to_owned(),
                    negated: false,
                },
                TagFilter {
                    key: "browser".to_owned(),
                    value: "Chrome 120".to_owned(),
                    negated: true,
                },
            ]
        );
        assert_eq!(search.text, vec!["Timeout"]);
        assert!(IssueSearch::parse(Some("release:")).is_err());
        // Not a key: kept as text.
        assert_eq!(
            IssueSearch::parse(Some("a/b:c")).unwrap().text,
            vec!["a/b:c"]
        );
    }
}
