//! The SDK name an `sdk:` matcher compares against.
//!
//! Sentry reduces SDK names to a small set of canonical names before
//! matching (`src/sentry/utils/tag_normalization.py`, described in its
//! documentation): separators become dots (`sentry-python` ->
//! `sentry.python`), known synonyms are merged (`sentry.react` ->
//! `sentry.javascript.react`), framework variants collapse to their SDK
//! (`sentry.python.django` -> `sentry.python`; JavaScript names keep their
//! framework, native ones their third part, `sentry.native.android`), and
//! anything else, including third-party SDKs, becomes `other`.
//!
//! The list of known names below follows Sentry's as of 2024/2025. Sentry
//! updates it from time to time; a name missing here only means that an
//! `sdk:` matcher naming it never matches. Unlike Sentry, the synonym for
//! `sentry.cordova` maps to `sentry.javascript.cordova` (Sentry's table has a
//! typo there that sends it to `other`). Patterns of `sdk:` matchers are
//! compared as written, so they must use the canonical names.

/// Canonical SDK names.
const KNOWN: &[&str] = &[
    "sentry.cocoa",
    "sentry.dart",
    "sentry.dotnet",
    "sentry.elixir",
    "sentry.go",
    "sentry.java",
    "sentry.javascript.angular",
    "sentry.javascript.browser",
    "sentry.javascript.capacitor",
    "sentry.javascript.cordova",
    "sentry.javascript.deno",
    "sentry.javascript.electron",
    "sentry.javascript.ember",
    "sentry.javascript.gatsby",
    "sentry.javascript.miniapp",
    "sentry.javascript.nextjs",
    "sentry.javascript.node",
    "sentry.javascript.node.experimental",
    "sentry.javascript.node.hapi",
    "sentry.javascript.raycast",
    "sentry.javascript.react",
    "sentry.javascript.react.native",
    "sentry.javascript.remix",
    "sentry.javascript.serverless",
    "sentry.javascript.sfcc",
    "sentry.javascript.svelte",
    "sentry.javascript.sveltekit",
    "sentry.javascript.vue",
    "sentry.kubernetes",
    "sentry.lua",
    "sentry.native.android",
    "sentry.native.dotnet",
    "sentry.native.unity",
    "sentry.native.unreal",
    "sentry.objc",
    "sentry.perl",
    "sentry.php",
    "sentry.python",
    "sentry.ruby",
    "sentry.rust",
    "sentry.swift",
];

/// Names merged into a canonical one (after separators became dots).
const SYNONYMS: &[(&str, &str)] = &[
    ("sentry.android", "sentry.native.android"),
    ("sentry.cordova", "sentry.javascript.cordova"),
    ("sentry.electron", "sentry.javascript.electron"),
    ("sentry.javascript.angular.ivy", "sentry.javascript.angular"),
    ("sentry.javascript.react.expo", "sentry.javascript.react"),
    (
        "sentry.javascript.react.native.expo",
        "sentry.javascript.react.native",
    ),
    ("sentry.laravel", "sentry.php.laravel"),
    ("sentry.react", "sentry.javascript.react"),
    ("sentry.symfony", "sentry.php.symfony"),
    ("sentry.unity", "sentry.native.unity"),
    ("sentrydotnet", "sentry.dotnet"),
];

/// The name used for SDKs that are unknown or not Sentry's.
const OTHER: &str = "other";

/// Reduces an SDK name (`sdk.name`) to the canonical name `sdk:` matchers
/// compare against; see the module docs.
pub fn normalize_sdk_name(name: &str) -> &'static str {
    if !name.starts_with("sentry") {
        return OTHER;
    }
    let dotted = dot_separated(name);
    let name = SYNONYMS
        .iter()
        .find(|(synonym, _)| *synonym == dotted)
        .map_or(dotted.as_str(), |(_, canonical)| canonical);
    if !name.starts_with("sentry.") {
        return OTHER;
    }
    let segments: Vec<&str> = name.split('.').collect();
    let keep = match segments.get(1) {
        Some(&"javascript") => segments.len(),
        Some(&"native") => 3,
        _ => 2,
    };
    let collapsed = segments
        .iter()
        .take(keep)
        .copied()
        .collect::<Vec<_>>()
        .join(".");
    KNOWN
        .iter()
        .find(|known| **known == collapsed)
        .copied()
        .unwrap_or(OTHER)
}

/// Replaces each run of characters other than letters and digits with a dot.
fn dot_separated(name: &str) -> String {
    let mut dotted = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            dotted.push(c);
            in_separator = false;
        } else if !in_separator {
            dotted.push('.');
            in_separator = true;
        }
    }
    dotted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize() {
        for (name, expected) in [
            ("sentry.javascript.nextjs", "sentry.javascript.nextjs"),
            ("sentry.javascript.react", "sentry.javascript.react"),
            (
                "sentry.javascript.react.native",
                "sentry.javascript.react.native",
            ),
            ("sentry.javascript.react.expo", "sentry.javascript.react"),
            ("sentry-javascript-angular", "sentry.javascript.angular"),
            ("sentry.javascript.unknownthing", "other"),
            ("sentry.python.django", "sentry.python"),
            ("sentry_python", "sentry.python"),
            ("sentry.java.android", "sentry.java"),
            ("sentry.java", "sentry.java"),
            ("sentry.native.android", "sentry.native.android"),
            ("sentry.native.android.flutter", "sentry.native.android"),
            ("sentry.native", "other"),
            ("sentry.unity", "sentry.native.unity"),
            ("sentry.cocoa", "sentry.cocoa"),
            ("sentry.dart.flutter", "sentry.dart"),
            ("sentrydotnet", "sentry.dotnet"),
            ("sentry", "other"),
            ("sentry.", "other"),
            ("raven-python", "other"),
            ("", "other"),
        ] {
            assert_eq!(normalize_sdk_name(name), expected, "{name}");
        }
    }
}
