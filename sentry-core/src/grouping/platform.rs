//! Platform families: the one platform switch of grouping rules.

use std::fmt;

/// The family of a platform, as stack trace and fingerprint rules match it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `objc`, `cocoa`, `swift`, `native`, `c`.
    Native,
    /// `javascript`, `node`.
    Javascript,
    /// Everything else, including no platform.
    Other,
}

impl Family {
    /// Returns the family of a platform name.
    pub fn of(platform: &str) -> Self {
        match platform {
            "objc" | "cocoa" | "swift" | "native" | "c" => Family::Native,
            "javascript" | "node" => Family::Javascript,
            _ => Family::Other,
        }
    }

    /// Returns the name rules use: `native`, `javascript` or `other`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Family::Native => "native",
            Family::Javascript => "javascript",
            Family::Other => "other",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(Family::of("cocoa"), Family::Native);
        assert_eq!(Family::of("node"), Family::Javascript);
        assert_eq!(Family::of("python"), Family::Other);
        assert_eq!(Family::of(""), Family::Other);
    }
}
