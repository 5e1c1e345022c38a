//! New credentials: DSN keys and API tokens, from the system's randomness.

use sentry_core::ProjectKey;

/// The error of a system without randomness.
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct NoRandomness(getrandom::Error);

fn random_bytes<const N: usize>() -> Result<[u8; N], NoRandomness> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(NoRandomness)?;
    Ok(bytes)
}

/// A new public key for a DSN.
///
/// # Errors
///
/// Fails when the system has no randomness.
pub fn new_project_key() -> Result<ProjectKey, NoRandomness> {
    Ok(ProjectKey::from_random_bytes(random_bytes()?))
}

/// A new API token text: `sntryu_` and 64 hex digits, as Sentry's user
/// tokens look (sentry-cli checks the shape).
///
/// # Errors
///
/// Fails when the system has no randomness.
pub fn new_api_token() -> Result<String, NoRandomness> {
    let hex: String = random_bytes::<32>()?
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok(format!("sntryu_{hex}"))
}

/// A new secret of 32 random bytes as 64 hex digits, for web session
/// cookies and login form tokens.
///
/// # Errors
///
/// Fails when the system has no randomness.
pub fn new_secret() -> Result<String, NoRandomness> {
    Ok(random_bytes::<32>()?
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}
