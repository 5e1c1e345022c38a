//! Reading `clickhouse://[USER[:PASSWORD]@]HOST[:HTTP_PORT]/DB` URLs.

use reqwest::Url;

use super::error::ChError;

/// ClickHouse's default HTTP port.
const DEFAULT_HTTP_PORT: u16 = 8123;

/// Where the server is and who we are, read from a store URL.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    /// `http://HOST:PORT/`, without credentials.
    pub(super) base: Url,
    /// `HOST:PORT`, for messages.
    pub(super) address: String,
    /// The user, if the URL names one (else the server's `default`).
    pub(super) user: Option<String>,
    /// The password, if the URL has one.
    pub(super) password: Option<String>,
    /// The database the tables live in.
    pub(super) database: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("address", &self.address)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .finish()
    }
}

impl Endpoint {
    /// Reads a `clickhouse://` URL; user, password and database may be
    /// percent-encoded.
    pub(super) fn parse(url: &str) -> Result<Self, ChError> {
        let invalid = |reason| ChError::Url {
            url: redact_password(url),
            reason,
        };
        let parsed = Url::parse(url).map_err(|_| invalid("not a url"))?;
        if parsed.scheme() != "clickhouse" {
            return Err(invalid("the scheme is not clickhouse://"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("query strings and fragments are not supported"));
        }
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| invalid("no host"))?;
        let port = parsed.port().unwrap_or(DEFAULT_HTTP_PORT);
        let address = format!("{host}:{port}");
        let base = Url::parse(&format!("http://{address}/")).map_err(|_| invalid("bad host"))?;
        let database = percent_decode(parsed.path().trim_start_matches('/'))
            .ok_or_else(|| invalid("the database name is not valid percent-encoded utf-8"))?;
        if database.is_empty() {
            return Err(invalid("no database name"));
        }
        if database.contains('/') {
            return Err(invalid("the path must be one database name"));
        }
        let user = match parsed.username() {
            "" => None,
            user => Some(percent_decode(user).ok_or_else(|| invalid("bad user name"))?),
        };
        let password = match parsed.password() {
            None => None,
            Some(password) => {
                Some(percent_decode(password).ok_or_else(|| invalid("bad password"))?)
            }
        };
        Ok(Self {
            base,
            address,
            user,
            password,
            database,
        })
    }
}

/// Hides the password of a URL (`clickhouse://user:secret@host/db`) before
/// it goes into a message. Everything between the user and the last `@` is
/// masked, so that an unencoded `@` or `/` in the password does not leak
/// its tail.
pub(super) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, location)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{location}"),
        None => url.to_owned(),
    }
}

/// Decodes `%XX` escapes; `None` when an escape is broken or the result is
/// not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))?;
            let hex = std::str::from_utf8(hex).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(byte);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_host_port_and_database() {
        let endpoint = Endpoint::parse("clickhouse://127.0.0.1:8124/sentry_test").unwrap();
        assert_eq!(endpoint.base.as_str(), "http://127.0.0.1:8124/");
        assert_eq!(endpoint.address, "127.0.0.1:8124");
        assert_eq!(endpoint.database, "sentry_test");
        assert_eq!(endpoint.user, None);
        assert_eq!(endpoint.password, None);
    }

    #[test]
    fn defaults_to_the_http_port() {
        let endpoint = Endpoint::parse("clickhouse://db.internal/events").unwrap();
        assert_eq!(endpoint.base.as_str(), "http://db.internal:8123/");
    }

    #[test]
    fn reads_percent_encoded_credentials() {
        let endpoint =
            Endpoint::parse("clickhouse://sentry:p%40ss%3Aw%2Fd@[::1]:9123/my%20db").unwrap();
        assert_eq!(endpoint.user.as_deref(), Some("sentry"));
        assert_eq!(endpoint.password.as_deref(), Some("p@ss:w/d"));
        assert_eq!(endpoint.address, "[::1]:9123");
        assert_eq!(endpoint.database, "my db");
        assert!(!format!("{endpoint:?}").contains("p@ss"));
    }

    #[test]
    fn rejects_bad_urls_without_showing_the_password() {
        for url in [
            "clickhouse://user:hunter2@host:1",
            "clickhouse://user:hunter2@host:1/",
            "clickhouse://user:hunter2@host:1/a/b",
            "clickhouse://user:hunter2@host:99999/db",
            "clickhouse://user:hunter2@host:1/db?secure=1",
            "clickhouse://user:hunter2@host:1/%ff",
            "clickhouse://user:hunter2@host:1/%zz",
            "clickhouse:///db",
            "http://user:hunter2@host:1/db",
        ] {
            let error = Endpoint::parse(url).unwrap_err();
            let message = error.to_string();
            assert!(matches!(error, ChError::Url { .. }), "{url}: {message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn masks_passwords() {
        assert_eq!(
            redact_password("clickhouse://sentry:hunter2@db:8123/sentry"),
            "clickhouse://sentry:***@db:8123/sentry"
        );
        assert_eq!(
            redact_password("clickhouse://sentry:a@b/c@db:8123/sentry"),
            "clickhouse://sentry:***@db:8123/sentry"
        );
        assert_eq!(
            redact_password("clickhouse://sentry@db/sentry"),
            "clickhouse://sentry@db/sentry"
        );
        assert_eq!(redact_password("nonsense"), "nonsense");
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%C3"), None);
        assert_eq!(percent_decode("%+1"), None);
    }
}
