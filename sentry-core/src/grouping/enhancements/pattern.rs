//! Compiled patterns of glob-based matchers (spec 12.2), with fast paths.
//!
//! Globs are compiled into regular expressions by
//! [`crate::grouping::glob`]. Two shortcuts with identical results keep the
//! few hundred built-in rules cheap on every frame:
//!
//! - text globs whose only wildcards are a leading or trailing `*` (most
//!   `function:`/`module:` patterns) compare strings directly;
//! - path globs first check, on an ASCII-lowercased copy of the value, for
//!   the longest literal the glob requires, and only then run the regex.

use crate::grouping::glob::{Glob, GlobKind};

/// Whether `function`, `module`, `category` and the exception keys ignore
/// letter case. Spec 12.2 says they compare it; ophio's glob translation
/// (the engine Sentry ran in 2024) compiled every glob case-insensitively.
/// The corpus does not tell the two apart; we follow the spec.
const TEXT_GLOBS_CASE_INSENSITIVE: bool = false;

/// A compiled text glob.
#[derive(Debug, Clone)]
pub(crate) enum TextPattern {
    /// See [`Literal`].
    Literal(Literal),
    /// Anything else.
    Glob(Glob),
}

impl TextPattern {
    /// Compiles a text glob; `None` when it is invalid.
    pub(crate) fn new(pattern: &str) -> Option<Self> {
        if !TEXT_GLOBS_CASE_INSENSITIVE {
            if let Some(literal) = Literal::new(pattern) {
                return Some(Self::Literal(literal));
            }
        }
        let kind = GlobKind::Text {
            case_insensitive: TEXT_GLOBS_CASE_INSENSITIVE,
        };
        Glob::new(pattern, kind).ok().map(Self::Glob)
    }

    /// Tests a value.
    pub(crate) fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Literal(literal) => literal.is_match(value),
            Self::Glob(glob) => glob.is_match(value),
        }
    }
}

/// A case-sensitive text glob without wildcards inside: `lit`, `lit*`,
/// `*lit` or `*lit*`.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl Literal {
    /// Recognizes the simple forms; `None` for anything else (which then
    /// goes through [`Glob`]).
    fn new(pattern: &str) -> Option<Self> {
        let (leading, rest) = match pattern.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let (trailing, core) = match rest.strip_suffix('*') {
            Some(core) => (true, core),
            None => (false, rest),
        };
        // Any other glob syntax (or an escape) needs the real glob.
        if core.contains(['*', '?', '[', ']', '{', '}', '\\']) {
            return None;
        }
        let core = core.to_owned();
        Some(match (leading, trailing) {
            (false, false) => Self::Exact(core),
            (false, true) => Self::Prefix(core),
            (true, false) => Self::Suffix(core),
            (true, true) => Self::Contains(core),
        })
    }

    fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Exact(literal) => value == literal,
            Self::Prefix(literal) => value.starts_with(literal.as_str()),
            Self::Suffix(literal) => value.ends_with(literal.as_str()),
            Self::Contains(literal) => value.contains(literal.as_str()),
        }
    }
}

/// A path glob with a literal that every matching value contains, so that
/// most values are rejected by a substring search instead of a regex (path
/// rules dominate matching time otherwise).
#[derive(Debug, Clone)]
pub(crate) struct PathPattern {
    glob: Glob,
    /// ASCII-lowercased, `/`-separated; empty when there is none.
    required: String,
}

impl PathPattern {
    /// Compiles a path glob; `None` when it is invalid.
    pub(crate) fn new(pattern: &str) -> Option<Self> {
        let glob = Glob::new(pattern, GlobKind::Path).ok()?;
        Some(Self {
            glob,
            required: required_literal(pattern),
        })
    }

    /// Tests a path or package.
    pub(crate) fn is_match(&self, value: &PathValue<'_>) -> bool {
        // Sound only for ASCII values: the glob folds case by Unicode rules.
        let possible = value
            .folded
            .as_deref()
            .is_none_or(|folded| folded.contains(self.required.as_str()));
        possible && self.glob.is_match(value.raw)
    }
}

/// The longest run of literal characters of a path glob (outside `*`, `?`,
/// classes and alternations), ASCII-lowercased, without a leading `/` (the
/// glob also tries the value with `/` in front). Empty when that run is
/// not ASCII.
fn required_literal(pattern: &str) -> String {
    let chars: Vec<char> = pattern
        .chars()
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let mut best = String::new();
    let mut run = String::new();
    let mut flush = |run: &mut String| {
        if run.len() > best.len() {
            best = std::mem::take(run);
        }
        run.clear();
    };
    let (mut index, mut braces) = (0, 0usize);
    while let Some(&c) = chars.get(index) {
        match c {
            '[' => {
                flush(&mut run);
                // Same class end as the glob: the first `]` after one member.
                let end = (index + 2..chars.len()).find(|&end| chars.get(end) == Some(&']'));
                index = end.unwrap_or(chars.len());
            }
            '{' => {
                flush(&mut run);
                braces += 1;
            }
            '}' if braces > 0 => braces -= 1,
            '*' | '?' => flush(&mut run),
            // Alternatives are not required.
            _ if braces > 0 => {}
            other => run.push(other),
        }
        index += 1;
    }
    flush(&mut run);
    let best = best.strip_prefix('/').unwrap_or(&best);
    if best.is_ascii() {
        best.to_ascii_lowercase()
    } else {
        String::new()
    }
}

/// A frame's path or package as path matchers see it.
#[derive(Debug, Clone)]
pub(crate) struct PathValue<'f> {
    raw: &'f str,
    /// ASCII-lowercased with `/` separators; `None` for non-ASCII values.
    folded: Option<String>,
}

impl<'f> PathValue<'f> {
    pub(crate) fn new(raw: &'f str) -> Self {
        let fold = |c: char| {
            if c == '\\' {
                '/'
            } else {
                c.to_ascii_lowercase()
            }
        };
        Self {
            raw,
            folded: raw.is_ascii().then(|| raw.chars().map(fold).collect()),
        }
    }
}
