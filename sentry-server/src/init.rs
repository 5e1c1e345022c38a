//! `sentry-server init`: makes a fresh installation usable in one step.

use anyhow::Context as _;
use sentry_core::Dsn;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{ApiToken, KeyRecord, MetadataStore};
use serde::Serialize;

use sentry_store::AnyMetadataStore;

use crate::credentials::{new_api_token, new_project_key};

/// The scopes of the token `init` creates: everything.
pub const ADMIN_SCOPES: &[&str] = &[
    "org:read",
    "org:write",
    "org:admin",
    "project:read",
    "project:write",
    "project:admin",
    "project:releases",
    "team:read",
    "team:write",
    "event:read",
    "event:write",
    "event:admin",
    "member:read",
];

/// What `init` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Initialized {
    /// Organization slug.
    pub org: String,
    /// Project slug.
    pub project: String,
    /// Project id, as in the DSN.
    pub project_id: u64,
    /// The project's first DSN.
    pub dsn: String,
    /// The organization's first API token.
    pub token: String,
}

/// Creates the organization, project, DSN key and admin token if missing,
/// and returns them; a second run creates nothing and returns the same.
///
/// # Errors
///
/// Fails when a store fails or the public URL is not http(s).
pub async fn init(
    metadata: &AnyMetadataStore,
    public_url: &str,
    org_slug: &str,
    project_slug: &str,
) -> anyhow::Result<Initialized> {
    let org = metadata.ensure_organization(org_slug).await?;
    let project = metadata.ensure_project(org.id, project_slug).await?;
    let key = match metadata.project_keys(project.id).await?.into_iter().next() {
        Some(key) => key,
        None => {
            let key = KeyRecord {
                public_key: new_project_key()?,
                project_id: project.id,
                label: "Default".to_owned(),
                is_active: true,
                date_created: Timestamp::now(),
            };
            metadata.insert_key(&key).await?;
            key
        }
    };
    let token = match metadata.org_tokens(org.id).await?.into_iter().next() {
        Some(token) => token,
        None => {
            let token = ApiToken {
                token: new_api_token()?,
                org_id: org.id,
                scopes: ADMIN_SCOPES
                    .iter()
                    .map(|scope| (*scope).to_owned())
                    .collect(),
                name: "admin (created by init)".to_owned(),
                date_created: Timestamp::now(),
            };
            metadata.insert_token(&token).await?;
            token
        }
    };
    let dsn = Dsn::new(public_url.trim_end_matches('/'), key.public_key, project.id)
        .context("building the DSN from the public URL")?;
    Ok(Initialized {
        org: org.slug,
        project: project.slug,
        project_id: project.id.0,
        dsn: dsn.to_string(),
        token: token.token,
    })
}
