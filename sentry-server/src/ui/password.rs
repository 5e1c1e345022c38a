//! Password hashes: Argon2id with a random salt, kept as PHC strings
//! (`$argon2id$v=19$m=...`), so that the parameters travel with the hash
//! and a later change of defaults still verifies old hashes.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

/// The error of a password that cannot be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// Hashes a password with a new random salt; returns the PHC string.
///
/// Slow on purpose (tens of milliseconds): call it off the async runtime.
///
/// # Errors
///
/// Fails when the system has no randomness for the salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Tells whether a password matches a PHC string; a hash that does not
/// parse matches nothing.
///
/// Slow on purpose: call it off the async runtime.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::warn!("a stored password hash does not parse");
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_right_password_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horse ", &hash));
        assert!(!verify_password("", &hash));
    }

    #[test]
    fn salts_every_hash() {
        assert_ne!(
            hash_password("same").unwrap(),
            hash_password("same").unwrap()
        );
    }

    #[test]
    fn a_malformed_hash_matches_nothing() {
        assert!(!verify_password("x", "not a phc string"));
        assert!(!verify_password("x", ""));
    }
}
