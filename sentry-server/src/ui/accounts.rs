//! `sentry-server user create`: accounts people log in to the web UI with.

use anyhow::Context as _;
use sentry_core::store::{MetadataStore, NewUser, OrgRole, StoreErrorKind, User};
use sentry_store::AnyMetadataStore;

use crate::ui::password::hash_password;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Creates an account with a password and makes it an owner of an
/// organization (created if missing).
///
/// # Errors
///
/// Fails for an address without `@`, a password shorter than
/// [`MIN_PASSWORD_CHARS`], an email another account has, or a store failure.
pub async fn create_user(
    metadata: &AnyMetadataStore,
    email: &str,
    password: &str,
    superuser: bool,
    org_slug: &str,
) -> anyhow::Result<User> {
    let email = email.trim();
    anyhow::ensure!(
        email.contains('@') && !email.starts_with('@') && !email.ends_with('@'),
        "`{email}` is not an email address"
    );
    anyhow::ensure!(
        password.chars().count() >= MIN_PASSWORD_CHARS,
        "the password is shorter than {MIN_PASSWORD_CHARS} characters"
    );
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let org = metadata.ensure_organization(org_slug).await?;
    let user = metadata
        .create_user(&NewUser {
            email: email.to_owned(),
            name: email.to_owned(),
            password_hash: Some(hash),
            is_superuser: superuser,
        })
        .await
        .map_err(|error| {
            if error.kind() == StoreErrorKind::Conflict {
                anyhow::anyhow!("a user with the email `{email}` exists")
            } else {
                anyhow::Error::new(error).context("creating the user")
            }
        })?;
    metadata
        .add_org_member(org.id, user.id, OrgRole::Owner)
        .await
        .context("adding the user to the organization")?;
    Ok(user)
}

/// Reads a password from the first line of a reader (standard input), without its line end.
///
/// # Errors
///
/// Fails when the reader fails or gives no line.
pub fn read_password(reader: &mut impl std::io::BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_line_without_its_end() {
        let mut input = "s3cret pass\r\nsecond".as_bytes();
        assert_eq!(read_password(&mut input).unwrap(), "s3cret pass");
        let mut empty = "\n".as_bytes();
        assert!(read_password(&mut empty).is_err());
    }
}
