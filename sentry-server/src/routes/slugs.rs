//! URL slugs of teams and projects, as Sentry checks and derives them.

use crate::error::ApiError;

/// Longest slug Sentry accepts.
const MAX_SLUG_LENGTH: usize = 50;

/// Checks a slug: lowercase letters, digits, `-` and `_`, at most 50, not
/// digits only.
///
/// # Errors
///
/// 400 naming the field otherwise.
pub fn check_slug(field: &str, slug: &str) -> Result<(), ApiError> {
    let valid = !slug.is_empty()
        && slug.len() <= MAX_SLUG_LENGTH
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        && !slug.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{field}: Enter a valid slug consisting of lowercase letters, numbers, underscores \
             or hyphens, at most {MAX_SLUG_LENGTH} characters and not only numbers."
        )))
    }
}

/// Derives a slug from a name: lowercase, other characters as `-`.
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-')
        .chars()
        .take(MAX_SLUG_LENGTH)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_checked_and_derived() {
        assert!(check_slug("slug", "my-team_1").is_ok());
        for bad in ["", "123", "My-Team", "a b", "a/b", &"a".repeat(51)] {
            assert!(check_slug("slug", bad).is_err(), "{bad:?}");
        }
        assert_eq!(slug_from_name("  My Backend / API  "), "my-backend-api");
        assert_eq!(slug_from_name("ÜBER"), "ber");
    }
}
