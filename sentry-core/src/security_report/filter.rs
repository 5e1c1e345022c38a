//! The CSP noise filter: reports whose blocked URI or source file comes
//! from a browser extension, a browser's own pages or known injected
//! scripts say nothing about the site, and are dropped as Relay drops them
//! with Sentry's default list of disallowed sources.

/// Sources whose CSP reports are dropped: Sentry's default list
/// (`DEFAULT_DISALLOWED_SOURCES`), which Relay applies to every project.
/// Each is `[scheme://]host[:port]`, where `*` matches anything and
/// `*.example.com` also matches subdomains.
const DISALLOWED_SOURCES: &[&str] = &[
    "about",
    "ms-browser-extension",
    "chrome://*",
    "chrome-extension://*",
    "chromeinvokeimmediate://*",
    "chromenull://*",
    "data:text/html,chromewebdata",
    "safari-extension://*",
    "mxaddon-pkg://*",
    "jar://*",
    "webviewprogressproxy://*",
    "ms-browser-extension://*",
    "tmtbff://*",
    "mbinit://*",
    "symres://*",
    "resource://*",
    "moz-extension://*",
    "*.metrext.com",
    "static.image2play.com",
    "*.tlscdn.com",
    "73a5b0806e464be8bd4e694c744624f0.com",
    "020dfefc4ac745dab7594f2f771c1ded.com",
    "*.superfish.com",
    "addons.mozilla.org",
    "v.zilionfast.in",
    "widgets.amung.us",
    "xls.searchfun.in",
    "istatic.datafastguru.info",
    "localhost",
    "resultshub-a.akamaihd.net",
    "pulseadnetwork.com",
    "gateway.zscalertwo.net",
    "www.passpack.com",
    "middlerush-a.akamaihd.net",
    "www.websmartcenter.com",
    "a.linkluster.com",
    "saveyoutime.ru",
    "cdncache-a.akamaihd.net",
    "x.rafomedia.com",
    "savingsslider-a.akamaihd.net",
    "injections.adguard.com",
    "icontent.us",
    "amiok.org",
    "connectionstrenth.com",
    "siteheart.net",
    "netanalitics.space",
    "printapplink.com",
    "godlinkapp.com",
    "devappstor.com",
    "hoholikik.club",
    "smartlink.cool",
    "promfflinkdev.com",
];

/// A source pattern or a reported URI, split loosely into scheme, domain
/// and port, lowercased; in a pattern, `None` matches anything.
#[derive(Debug, PartialEq, Eq)]
struct Source {
    scheme: Option<String>,
    domain: Option<String>,
    port: Option<String>,
}

impl Source {
    fn parse(text: &str) -> Self {
        let part = |part: &str| (part != "*").then(|| part.to_lowercase());
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (part(scheme), rest),
            None => (None, text),
        };
        let domain_port = rest.split('/').next().unwrap_or_default();
        let (domain, port) = match domain_port.split_once(':') {
            Some((domain, port)) => (part(domain), part(port)),
            None => (part(domain_port), None),
        };
        Self {
            scheme,
            domain,
            port,
        }
    }

    /// Whether a reported URI matches this pattern.
    fn matches(&self, uri: &Source) -> bool {
        let scheme_ok = self.scheme.is_none() || self.scheme == uri.scheme;
        let port_ok = self.port.is_none() || self.port == uri.port;
        if !scheme_ok || !port_ok {
            return false;
        }
        let (Some(pattern), Some(domain)) = (&self.domain, &uri.domain) else {
            return self.domain.is_none();
        };
        if pattern == domain {
            return true;
        }
        // `*.example.com` matches `example.com` and its subdomains.
        pattern.strip_prefix('*').is_some_and(|suffix| {
            domain.ends_with(suffix) || suffix.strip_prefix('.') == Some(domain.as_str())
        })
    }
}

/// Whether a CSP report from these URIs is noise to drop.
pub(super) fn is_disallowed(blocked_uri: Option<&str>, source_file: Option<&str>) -> bool {
    [blocked_uri, source_file].into_iter().flatten().any(|uri| {
        let uri = Source::parse(uri);
        DISALLOWED_SOURCES
            .iter()
            .any(|pattern| Source::parse(pattern).matches(&uri))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(uri: &str, pattern: &str) -> bool {
        Source::parse(pattern).matches(&Source::parse(uri))
    }

    #[test]
    fn patterns_match_scheme_domain_and_port() {
        assert!(matches("http://abc.com", "*://*:*"));
        assert!(matches("http://abc.com:82", "*:82"));
        assert!(matches("http://abc.com:84", "abc.com:*"));
        assert!(matches("http://abc.com:85", "*.abc.com:85"));
        assert!(matches("http://abc.def.ghc.com:87", "*.com:87"));
        assert!(matches("http://abc.com:93", "http://abc.com"));
        assert!(!matches("http://abc9.com", "http://other.com"));
        assert!(!matches("abc11.com", "*.other.com"));
        assert!(!matches("https://abc12.com", "http://abc12.com"));
        assert!(!matches("http://abc13.com:80", "http://abc13.com:8080"));
    }

    #[test]
    fn browser_noise_is_disallowed() {
        for (blocked, source) in [
            (Some("about"), None),
            (Some("ms-browser-extension"), None),
            (Some("http://foo.superfish.com"), None),
            (Some("chrome-extension://abcdef/content.js"), None),
            (Some("moz-extension://1234-5678/inject.js"), None),
            (None, Some("chrome-extension://fdsa")),
            (None, Some("http://localhost:8000")),
            (None, Some("http://localhost")),
        ] {
            assert!(is_disallowed(blocked, source), "{blocked:?} {source:?}");
        }
    }

    #[test]
    fn site_reports_are_kept() {
        for (blocked, source) in [
            (Some("http://example.com"), None),
            (None, Some("http://example.com")),
            (Some("inline"), Some("https://example.com/app.js")),
            (None, None),
        ] {
            assert!(!is_disallowed(blocked, source), "{blocked:?} {source:?}");
        }
    }
}
