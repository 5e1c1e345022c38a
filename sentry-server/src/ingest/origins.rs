//! Each project's allowed origins (Sentry's project option
//! `allowedDomains`, a JSON list of patterns, `["*"]` by default): a
//! request from a browser, which names its page in `Origin` or `Referer`,
//! is refused with 403 unless the page matches one of them. Requests
//! without either header (server SDKs) are not checked.

use axum::http::HeaderMap;
use axum::http::header::{ORIGIN, REFERER};
use sentry_core::ProjectId;
use sentry_core::store::MetadataStore;
use sentry_store::AnyMetadataStore;

use crate::error::ApiError;
use crate::project_cache::ProjectCache;

/// The project option that holds the patterns.
pub const ALLOWED_DOMAINS: &str = "allowedDomains";

/// A project's allowed origin patterns: `*` (any), a host (`example.com`),
/// a host and its subdomains (`*.example.com`), each optionally with a
/// scheme (`https://example.com`) or a port (`example.com:8080`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl Default for AllowedOrigins {
    fn default() -> Self {
        Self(vec!["*".to_owned()])
    }
}

impl AllowedOrigins {
    /// Reads the project option's JSON text; `None` or text that is not a
    /// list of strings gives the default.
    pub fn from_option(text: Option<&str>) -> Self {
        text.and_then(|text| serde_json::from_str::<Vec<String>>(text).ok())
            .map_or_else(Self::default, Self)
    }

    /// The patterns.
    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    /// Whether a page (an `Origin` or a `Referer` URL) may send events.
    pub fn allows(&self, page: &str) -> bool {
        if self.0.iter().any(|pattern| pattern == "*") {
            return true;
        }
        let Some(page) = Site::parse(page) else {
            return false;
        };
        self.0
            .iter()
            .filter_map(|pattern| Site::parse(pattern))
            .any(|pattern| pattern.matches(&page))
    }
}

/// The scheme, host and port of a URL or a pattern; the scheme and port
/// are optional in patterns.
#[derive(Debug)]
struct Site<'a> {
    scheme: Option<&'a str>,
    host: &'a str,
    port: Option<&'a str>,
}

impl<'a> Site<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, text),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (host, Some(port)),
            _ => (authority, None),
        };
        (!host.is_empty()).then_some(Self { scheme, host, port })
    }

    /// Whether this pattern matches a page.
    fn matches(&self, page: &Site<'_>) -> bool {
        let host_matches = match self.host.strip_prefix("*.") {
            Some(domain) => {
                page.host.eq_ignore_ascii_case(domain)
                    || page
                        .host
                        .len()
                        .checked_sub(domain.len() + 1)
                        .and_then(|dot| page.host.get(dot..))
                        .is_some_and(|tail| {
                            tail.starts_with('.') && tail[1..].eq_ignore_ascii_case(domain)
                        })
            }
            None => page.host.eq_ignore_ascii_case(self.host),
        };
        let same = |pattern: Option<&str>, page: Option<&str>| {
            pattern
                .is_none_or(|pattern| page.is_some_and(|page| page.eq_ignore_ascii_case(pattern)))
        };
        host_matches && same(self.scheme, page.scheme) && same(self.port, page.port)
    }
}

/// A cache of allowed origins by project.
#[derive(Default)]
pub struct OriginConfigs {
    by_project: ProjectCache<AllowedOrigins>,
}

impl OriginConfigs {
    /// A cache whose values are read again after `ttl`.
    pub fn with_ttl(ttl: std::time::Duration) -> Self {
        Self {
            by_project: ProjectCache::with_ttl(ttl),
        }
    }

    /// Refuses a browser's request from a page the project does not allow.
    ///
    /// # Errors
    ///
    /// 403 for a page not allowed; 500 when the metadata store fails.
    pub async fn check(
        &self,
        metadata: &AnyMetadataStore,
        project_id: ProjectId,
        headers: &HeaderMap,
    ) -> Result<(), ApiError> {
        let page = headers
            .get(ORIGIN)
            .or_else(|| headers.get(REFERER))
            .map(|value| value.to_str().unwrap_or_default());
        let Some(page) = page else {
            return Ok(());
        };
        let allowed = self
            .by_project
            .get_or_load(project_id, allowed_origins(metadata, project_id))
            .await?;
        if allowed.allows(page) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "invalid origin `{}`",
                page.chars().take(100).collect::<String>()
            )))
        }
    }

    /// Forgets a project's patterns after they changed.
    pub fn invalidate(&self, project_id: ProjectId) {
        self.by_project.invalidate(project_id);
    }
}

/// Reads the patterns a project currently allows.
///
/// # Errors
///
/// 500 when the metadata store fails.
pub async fn allowed_origins(
    metadata: &AnyMetadataStore,
    project_id: ProjectId,
) -> Result<AllowedOrigins, ApiError> {
    let text = metadata.project_option(project_id, ALLOWED_DOMAINS).await?;
    Ok(AllowedOrigins::from_option(text.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(patterns: &[&str]) -> AllowedOrigins {
        AllowedOrigins(patterns.iter().map(|&p| p.to_owned()).collect())
    }

    #[test]
    fn the_default_allows_every_page() {
        assert!(AllowedOrigins::from_option(None).allows("https://anything.example"));
        assert!(AllowedOrigins::from_option(Some("not json")).allows("null"));
    }

    #[test]
    fn hosts_subdomains_schemes_and_ports() {
        let patterns = allowed(&[
            "example.com",
            "*.shop.example",
            "https://secure.example",
            "dev.example:8080",
        ]);
        for page in [
            "https://example.com",
            "http://EXAMPLE.com:3000/page?x",
            "https://shop.example",
            "https://a.b.shop.example/checkout",
            "https://secure.example/login",
            "http://dev.example:8080",
        ] {
            assert!(patterns.allows(page), "{page}");
        }
        for page in [
            "https://www.example.com",
            "https://evilshop.example",
            "http://secure.example",
            "http://dev.example:9090",
            "null",
            "",
        ] {
            assert!(!patterns.allows(page), "{page}");
        }
        assert!(
            !allowed(&[]).allows("https://example.com"),
            "an empty list allows no page"
        );
    }
}
