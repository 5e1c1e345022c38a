//! The URL arithmetic of JavaScript symbolication: where an artifact may
//! be stored for a frame's URL, how a source map's relative paths resolve,
//! and the module name Sentry derives from a URL.

use std::sync::LazyLock;

use regex::Regex;

/// The path of a URL after its scheme and host (`~/path` reads as
/// `/path`); a path without a scheme is returned as it is.
pub fn path_of(url: &str) -> &str {
    if let Some(rest) = url.strip_prefix('~') {
        return rest;
    }
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |slash| &rest[slash..]),
        None => url,
    }
}

/// The URLs an artifact may be stored under for a frame's URL, most
/// specific first: the URL itself, without its query, and both with
/// `~` in place of scheme and host. The fragment never counts.
pub fn candidate_urls(url: &str) -> Vec<String> {
    let url = url.split('#').next().unwrap_or(url);
    let without_query = |text: &str| text.split_once('?').map(|(head, _)| head.to_owned());
    let relative = format!("~{}", path_of(url));
    let mut candidates = vec![url.to_owned()];
    candidates.extend(without_query(url));
    candidates.push(relative.clone());
    candidates.extend(without_query(&relative));
    let mut unique = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        if !unique.contains(&candidate) {
            unique.push(candidate);
        }
    }
    unique
}

/// Resolves `reference` (a source map's URL, or a source's name in a
/// source map) against the URL or path `base` of the file that names it.
/// `~/` references are rooted at `base`'s host; references with a scheme
/// are returned as they are.
pub fn join(base: &str, reference: &str) -> String {
    if reference.contains("://") || reference.starts_with("webpack:") {
        return reference.to_owned();
    }
    let (prefix, base_path) = match base.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            (
                format!("{scheme}://{}", &rest[..host_end]),
                &rest[host_end..],
            )
        }
        None => (String::new(), base),
    };
    let reference = reference.strip_prefix('~').unwrap_or(reference);
    if reference.starts_with('/') {
        return format!("{prefix}{reference}");
    }
    let mut segments: Vec<&str> = base_path.split('/').collect();
    // The base's last segment is its file name.
    segments.pop();
    for segment in reference.split('/') {
        match segment {
            "." => {}
            ".." => {
                // Never above the root.
                if segments.len() > 1 {
                    segments.pop();
                }
            }
            _ => segments.push(segment),
        }
    }
    let path = segments.join("/");
    if prefix.is_empty() || path.starts_with('/') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}/{path}")
    }
}

/// The file name a webpack source map gives a source, made readable:
/// `webpack:///./src/a.js` and `webpack://app/./src/a.js` become
/// `./src/a.js`, `webpack:///~/lib/b.js` becomes `~/lib/b.js`.
pub fn webpack_file_name(name: &str) -> String {
    static NAMESPACE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^webpack://[a-zA-Z0-9_\-@.]+/\./").unwrap_or_else(|_| unreachable!())
    });
    if let Some((_, rest)) = name.split_once("/~/") {
        return format!("~/{rest}");
    }
    if NAMESPACE.is_match(name) {
        return NAMESPACE.replace(name, "./").into_owned();
    }
    name.strip_prefix("webpack:///").unwrap_or(name).to_owned()
}

/// The module name Sentry derives from a URL: its path without leading
/// slash, extension, `.min`, common asset folders and version or hash
/// segments (`http://x.com/js/v1.0/foo/bar.min.js` → `foo/bar`).
pub fn module_of(url: &str) -> String {
    static NOISE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?ix)
            ^(?:/|(?:(?:java)?scripts?|js|build|static|node_modules|bower_components|[_.~].*?
                |v?(?:\d+\.)*\d+|[a-f0-9]{7,8}|[a-f0-9]{32}|[a-f0-9]{40})/)+
            |(?:[-.][a-f0-9]{7,}$)",
        )
        .unwrap_or_else(|_| unreachable!())
    });
    let path = path_of(url);
    let mut path = path.split(['#', '?']).next().unwrap_or(path);
    if let Some(dot) = path
        .rfind(['.', '/'])
        .filter(|&at| path[at..].starts_with('.'))
    {
        path = &path[..dot];
    }
    let path = path.strip_suffix(".min").unwrap_or(path);
    let mut segments = path.split('/');
    while let Some(segment) = segments.next() {
        let hash = segment.len() == 32
            || (segment.len() == 40 && segment.bytes().all(|byte| byte.is_ascii_hexdigit()));
        if hash {
            return segments.collect::<Vec<_>>().join("/");
        }
    }
    NOISE.replace_all(path, "").into_owned()
}

/// The URL of the source map a minified file names in a
/// `//# sourceMappingURL=` comment (the last one counts).
pub fn source_mapping_url(minified: &str) -> Option<&str> {
    minified.lines().rev().take(16).find_map(|line| {
        let line = line.trim();
        let rest = line
            .strip_prefix("//# sourceMappingURL=")
            .or_else(|| line.strip_prefix("//@ sourceMappingURL="))?;
        let url = rest.trim();
        (!url.is_empty()).then_some(url)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_drop_query_fragment_and_host() {
        assert_eq!(
            candidate_urls("https://example.com/assets/app.min.js?v=3#top"),
            [
                "https://example.com/assets/app.min.js?v=3",
                "https://example.com/assets/app.min.js",
                "~/assets/app.min.js?v=3",
                "~/assets/app.min.js",
            ]
        );
        assert_eq!(
            candidate_urls("app:///dist/app.js"),
            ["app:///dist/app.js", "~/dist/app.js"]
        );
        assert_eq!(
            candidate_urls("/srv/app/dist/app.js"),
            ["/srv/app/dist/app.js", "~/srv/app/dist/app.js"]
        );
    }

    #[test]
    fn joins_relative_absolute_and_tilde_references() {
        assert_eq!(
            join("/srv/app/dist/app.min.js", "app.min.js.map"),
            "/srv/app/dist/app.min.js.map"
        );
        assert_eq!(
            join("/srv/app/dist/app.min.js.map", "../src/app.js"),
            "/srv/app/src/app.js"
        );
        assert_eq!(
            join("https://cdn.example.com/js/app.js", "./maps/app.js.map"),
            "https://cdn.example.com/js/maps/app.js.map"
        );
        assert_eq!(
            join("https://cdn.example.com/js/app.js", "~/maps/app.js.map"),
            "https://cdn.example.com/maps/app.js.map"
        );
        assert_eq!(
            join("https://cdn.example.com/app.js", "../../up.js"),
            "https://cdn.example.com/up.js"
        );
        assert_eq!(
            join("app:///dist/app.js", "webpack://app/./src/a.js"),
            "webpack://app/./src/a.js"
        );
        assert_eq!(join("app.js", "app.js.map"), "app.js.map");
    }

    #[test]
    fn webpack_names_become_readable() {
        assert_eq!(webpack_file_name("webpack:///./src/a.js"), "./src/a.js");
        assert_eq!(
            webpack_file_name("webpack://my-app/./src/a.js"),
            "./src/a.js"
        );
        assert_eq!(webpack_file_name("webpack:///~/lib/b.js"), "~/lib/b.js");
        assert_eq!(
            webpack_file_name("webpack:///node_modules/x/y.js"),
            "node_modules/x/y.js"
        );
    }

    #[test]
    fn modules_lose_noise() {
        assert_eq!(module_of("http://x.com/js/v1.0/foo/bar.min.js"), "foo/bar");
        assert_eq!(module_of("app:///dist/app.js"), "dist/app");
        assert_eq!(module_of("https://x.com/static/app-3f2a9c1e.js"), "app");
        assert_eq!(
            module_of("https://x.com/0123456789abcdef0123456789abcdef/lib/a.js"),
            "lib/a"
        );
    }

    #[test]
    fn finds_the_last_source_mapping_comment() {
        let source = "a();\n//# sourceMappingURL=old.map\nb();\n//# sourceMappingURL=app.js.map\n";
        assert_eq!(source_mapping_url(source), Some("app.js.map"));
        assert_eq!(source_mapping_url("a();"), None);
    }
}
