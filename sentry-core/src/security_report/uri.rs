//! Just enough URL reading for security reports: a scheme, a host and a
//! port, read the way a WHATWG URL parser reads them for the schemes
//! browsers report, without pulling in a URL crate.

/// The parts of a URL that reports are reduced to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    /// The scheme, lowercased.
    pub(super) scheme: String,
    /// The host, lowercased for the special schemes; empty when there is none.
    pub(super) host: String,
    /// The port, when given and not the scheme's default.
    pub(super) port: Option<u16>,
}

/// Reads a URL's origin; `None` when the text is not an absolute URL.
pub(super) fn origin(text: &str) -> Option<Origin> {
    let (scheme, rest) = text.trim().split_once(':')?;
    let mut chars = scheme.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !starts_with_letter
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let special = default_port(&scheme).is_some() || scheme == "file";
    let authority = match rest.strip_prefix("//") {
        Some(after) => after,
        // Special schemes take a host even without the slashes.
        None if special => rest.trim_start_matches(['/', '\\']),
        None => {
            return Some(Origin {
                scheme,
                host: String::new(),
                port: None,
            });
        }
    };
    let authority = authority
        .split(['/', '?', '#', '\\'])
        .next()
        .unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (host, port) = split_port(host_port)?;
    let host = if special {
        host.to_ascii_lowercase()
    } else {
        host.to_owned()
    };
    if special && scheme != "file" && host.is_empty() {
        return None;
    }
    let port = port.filter(|&port| Some(port) != default_port(&scheme));
    Some(Origin { scheme, host, port })
}

/// Splits `host[:port]`, with IPv6 hosts in brackets; `None` for a port
/// that is not a number.
fn split_port(host_port: &str) -> Option<(&str, Option<u16>)> {
    let port_start = if host_port.starts_with('[') {
        host_port.find(']').map(|end| end + 1)
    } else {
        host_port.find(':')
    };
    let Some(index) = port_start.filter(|&index| index < host_port.len()) else {
        return Some((host_port, None));
    };
    let (host, port) = host_port.split_at(index);
    let digits = port.strip_prefix(':')?;
    if digits.is_empty() {
        return Some((host, None));
    }
    digits.parse().ok().map(|port| (host, Some(port)))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Whether Python's `urlunsplit` writes `//` after this scheme even with
/// no host (its `uses_netloc` list, less the empty scheme).
fn writes_netloc(scheme: &str) -> bool {
    matches!(
        scheme,
        "ftp"
            | "http"
            | "gopher"
            | "nntp"
            | "telnet"
            | "imap"
            | "wais"
            | "file"
            | "mms"
            | "https"
            | "shttp"
            | "snews"
            | "prospero"
            | "rtsp"
            | "rtspu"
            | "rsync"
            | "svn"
            | "svn+ssh"
            | "sftp"
            | "nfs"
            | "git"
            | "git+ssh"
            | "ws"
            | "wss"
    )
}

/// Joins a scheme and a host as Python's `urlunsplit` does.
pub(super) fn unsplit(scheme: &str, host: &str) -> String {
    if !host.is_empty() || writes_netloc(scheme) {
        format!("{scheme}://{host}")
    } else if !scheme.is_empty() {
        format!("{scheme}:{host}")
    } else {
        String::new()
    }
}

/// Whether a reported URI means the document itself.
pub(super) fn is_local(uri: &str) -> bool {
    matches!(uri, "" | "self" | "'self'")
}

/// Reduces a reported URI to what a title shows: `'self'` for the
/// document, the host (and port) for web URLs, `scheme://host` or
/// `scheme:` for the rest, and the text itself when it is no URL.
pub(super) fn normalize(uri: &str) -> String {
    if is_local(uri) {
        return "'self'".to_owned();
    }
    // Browsers often report a bare scheme (`data`, `blob`).
    if !uri.contains(':') {
        return unsplit(uri, "");
    }
    let Some(origin) = origin(uri) else {
        return uri.to_owned();
    };
    let reduced = match origin.scheme.as_str() {
        "http" | "https" => origin.host,
        scheme => unsplit(scheme, &origin.host),
    };
    match origin.port {
        Some(port) => format!("{reduced}:{port}"),
        None => reduced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsplit_follows_python() {
        assert_eq!(unsplit("", ""), "");
        assert_eq!(unsplit("data", ""), "data:");
        assert_eq!(unsplit("data", "foo"), "data://foo");
        assert_eq!(unsplit("http", ""), "http://");
        assert_eq!(unsplit("http", "foo"), "http://foo");
    }

    #[test]
    fn uris_reduce_to_host_and_port() {
        assert_eq!(normalize(""), "'self'");
        assert_eq!(normalize("self"), "'self'");
        assert_eq!(normalize("data"), "data:");
        assert_eq!(normalize("http"), "http://");
        assert_eq!(normalize("http://notlocalhost/"), "notlocalhost");
        assert_eq!(normalize("https://NotLocalhost/lol.css"), "notlocalhost");
        assert_eq!(normalize("data://notlocalhost/"), "data://notlocalhost");
        assert_eq!(normalize("http://notlocalhost:8000/"), "notlocalhost:8000");
        assert_eq!(normalize("https://example.com:443/a"), "example.com");
        assert_eq!(normalize("http://user:pw@example.com/"), "example.com");
        assert_eq!(normalize("xyz://notlocalhost/"), "xyz://notlocalhost");
        assert_eq!(normalize("data:image/png;base64,AAA"), "data:");
        assert_eq!(normalize("blob:https://example.com/1-2"), "blob:");
        assert_eq!(normalize("http://[::1]:8080/"), "[::1]:8080");
        assert_eq!(normalize("1 not a url:"), "1 not a url:");
    }

    #[test]
    fn bad_ports_are_no_url() {
        assert_eq!(origin("http://example.com:abc/"), None);
        assert_eq!(origin("http:///"), None);
    }
}
