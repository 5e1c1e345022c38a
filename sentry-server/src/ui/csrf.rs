//! Protection against cross-site request forgery: every form carries a
//! token in a hidden `csrf` field, and every `POST` is refused (403)
//! unless the field matches.
//!
//! A logged-in browser's token is derived from its session token (which
//! only the session cookie holds), so it needs no storage and dies with
//! the session. The login form, before there is a session, uses a random
//! token kept both in a cookie and in the field (the double-submit
//! pattern); another site can set neither. The session cookie is also
//! `SameSite=Lax`, so browsers do not send it with another site's `POST`.

use sha2::{Digest as _, Sha256};

/// The name of the hidden form field.
pub const FIELD: &str = "csrf";

/// The form token of a session, from the session's secret token.
pub fn session_token(secret: &str) -> String {
    hex(&Sha256::digest(format!("csrf:{secret}").as_bytes()))
}

/// Tells whether a submitted token equals the expected one, in time that
/// does not depend on where they differ.
pub fn tokens_match(expected: &str, submitted: Option<&str>) -> bool {
    let Some(submitted) = submitted else {
        return false;
    };
    if expected.is_empty() || expected.len() != submitted.len() {
        return false;
    }
    expected
        .bytes()
        .zip(submitted.bytes())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// Lowercase hex digits of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_per_session_and_stable() {
        assert_eq!(session_token("a"), session_token("a"));
        assert_ne!(session_token("a"), session_token("b"));
        assert_eq!(session_token("a").len(), 64);
    }

    #[test]
    fn only_the_exact_token_matches() {
        let token = session_token("secret");
        assert!(tokens_match(&token, Some(&token)));
        assert!(!tokens_match(&token, None));
        assert!(!tokens_match(&token, Some("")));
        assert!(!tokens_match(&token, Some(&token[1..])));
        let mut other = token.clone();
        other.replace_range(63.., if token.ends_with('0') { "1" } else { "0" });
        assert!(!tokens_match(&token, Some(&other)));
        assert!(!tokens_match("", Some("")));
    }
}
