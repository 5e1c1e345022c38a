//! Glob patterns as Sentry's grouping rules use them.
//!
//! - `*` matches any run of characters; in [`GlobKind::Path`] it stays
//!   within one `/`-separated segment and `**` crosses segments.
//! - `?` matches one character (not `/` in paths); `[...]` is a character
//!   class (`[!...]` or `[^...]` negated); `{a,b}` is an alternation;
//!   `\` makes the next character literal.
//! - Text globs may be case-sensitive or not; path globs are always
//!   case-insensitive, compare with `\` turned into `/`, and a value that
//!   does not start with `/` is tried again with one in front.
//!
//! Patterns are translated into anchored regular expressions once.

use regex::Regex;

/// How a glob compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobKind {
    /// Plain text: `*` crosses `/`.
    Text {
        /// Whether letter case is ignored.
        case_insensitive: bool,
    },
    /// A file path or package: `*` stays within a segment, `**` crosses.
    Path,
}

/// A glob that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob pattern `{pattern}`")]
pub struct GlobError {
    pattern: String,
}

/// A compiled glob.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    kind: GlobKind,
    regex: Regex,
}

impl Glob {
    /// Compiles a pattern.
    ///
    /// # Errors
    ///
    /// Fails for an unclosed `[` or `{`.
    pub fn new(pattern: &str, kind: GlobKind) -> Result<Self, GlobError> {
        let error = || GlobError {
            pattern: pattern.to_owned(),
        };
        let is_path = kind == GlobKind::Path;
        let case_insensitive = match kind {
            GlobKind::Text { case_insensitive } => case_insensitive,
            GlobKind::Path => true,
        };
        let mut regex = String::from(if case_insensitive { "(?si)^" } else { "(?s)^" });
        let chars: Vec<char> = if is_path {
            pattern
                .chars()
                .map(|c| if c == '\\' { '/' } else { c })
                .collect()
        } else {
            pattern.chars().collect()
        };
        let mut index = 0;
        let mut braces = 0usize;
        while index < chars.len() {
            let c = chars[index];
            match c {
                '\\' if !is_path => {
                    index += 1;
                    let literal = chars.get(index).ok_or_else(error)?;
                    push_literal(&mut regex, *literal);
                }
                '*' => {
                    let double = chars.get(index + 1) == Some(&'*');
                    if double {
                        index += 1;
                    }
                    regex.push_str(if is_path && !double { "[^/]*" } else { ".*" });
                }
                '?' => regex.push_str(if is_path { "[^/]" } else { "." }),
                '[' => {
                    let end = (index + 1..chars.len())
                        .find(|&end| chars[end] == ']' && end > index + 1)
                        .ok_or_else(error)?;
                    regex.push('[');
                    let mut class = &chars[index + 1..end];
                    if let Some(rest) = class
                        .strip_prefix(&['!'])
                        .or_else(|| class.strip_prefix(&['^']))
                    {
                        regex.push('^');
                        class = rest;
                    }
                    for &member in class {
                        if matches!(member, '\\' | '[' | ']' | '^' | '&' | '~') {
                            regex.push('\\');
                        }
                        regex.push(member);
                    }
                    regex.push(']');
                    index = end;
                }
                '{' => {
                    braces += 1;
                    regex.push_str("(?:");
                }
                ',' if braces > 0 => regex.push('|'),
                '}' if braces > 0 => {
                    braces -= 1;
                    regex.push(')');
                }
                other => push_literal(&mut regex, other),
            }
            index += 1;
        }
        if braces > 0 {
            return Err(error());
        }
        regex.push('$');
        let regex = Regex::new(&regex).map_err(|_| error())?;
        Ok(Self {
            pattern: pattern.to_owned(),
            kind,
            regex,
        })
    }

    /// Returns the pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Tests a value.
    pub fn is_match(&self, value: &str) -> bool {
        if self.kind != GlobKind::Path {
            return self.regex.is_match(value);
        }
        let value: std::borrow::Cow<'_, str> = if value.contains('\\') {
            value.replace('\\', "/").into()
        } else {
            value.into()
        };
        self.regex.is_match(&value)
            || (!value.starts_with('/') && self.regex.is_match(&format!("/{value}")))
    }
}

fn push_literal(regex: &mut String, c: char) {
    let mut buffer = [0u8; 4];
    regex.push_str(&regex::escape(c.encode_utf8(&mut buffer)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pattern: &str) -> Glob {
        Glob::new(
            pattern,
            GlobKind::Text {
                case_insensitive: false,
            },
        )
        .unwrap()
    }

    fn path(pattern: &str) -> Glob {
        Glob::new(pattern, GlobKind::Path).unwrap()
    }

    #[test]
    fn text_star_crosses_slashes() {
        assert!(text("std::*").is_match("std::panicking::begin_panic"));
        assert!(text("*/foo").is_match("a/b/foo"));
        assert!(!text("Foo*").is_match("foo"));
        assert!(
            Glob::new(
                "Foo*",
                GlobKind::Text {
                    case_insensitive: true
                }
            )
            .unwrap()
            .is_match("foobar")
        );
        assert!(text("a\nb*").is_match("a\nbc"));
    }

    #[test]
    fn path_star_stays_in_a_segment() {
        assert!(path("**/node_modules/**").is_match("/app/node_modules/x/y.js"));
        assert!(path("**/node_modules/**").is_match("app/node_modules/x.js"));
        assert!(path("/lib/*").is_match("/LIB/libc.so"));
        assert!(!path("/lib/*").is_match("/lib/x/libc.so"));
        assert!(path("C:/Windows/**").is_match("c:\\windows\\system32\\x.dll"));
        assert!(path("linux-gate.so*").is_match("linux-gate.so.1"));
    }

    #[test]
    fn classes_escapes_and_alternation() {
        assert!(text("?[[]KSCrash*").is_match("-[KSCrash foo]"));
        assert!(text("\\{\\[\\*\\?\\]\\}").is_match("{[*?]}"));
        assert!(!text("\\{\\[\\*\\?\\]\\}").is_match("{[x?]}"));
        assert!(text("{foo,bar}.js").is_match("bar.js"));
        assert!(text("[!a]x").is_match("bx"));
        assert!(!text("[!a]x").is_match("ax"));
        assert!(Glob::new("[abc", GlobKind::Path).is_err());
    }
}
