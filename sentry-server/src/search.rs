//! Sentry's issue search syntax, as far as the server supports it:
//! `is:unresolved|resolved|ignored` and free text (words or "quoted
//! phrases") matched against title and culprit. A missing query means
//! Sentry's default, `is:unresolved`; an empty one matches every status.

use sentry_core::store::IssueStatus;

use crate::error::ApiError;

/// A parsed issue search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueSearch {
    /// The status filter; `None` for all.
    pub status: Option<IssueStatus>,
    /// Text that must appear, each entry on its own.
    pub text: Vec<String>,
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
                text: Vec::new(),
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
                None => search.text.push(token),
            }
        }
        Ok(search)
    }
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
}
