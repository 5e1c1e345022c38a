//! The stack trace interface.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Other;

/// A stack trace: frames ordered from the outermost call to the crashing one.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stacktrace {
    /// The frames, oldest call first.
    #[serde(default)]
    pub frames: Vec<Frame>,
    /// Register values of the crashing thread.
    pub registers: Option<Value>,
    /// Ranges of frames the SDK left out.
    pub frames_omitted: Option<Value>,
    /// The language of the frames.
    pub lang: Option<String>,
    /// Whether this is a snapshot of a thread that did not crash.
    pub snapshot: Option<bool>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

/// One stack frame.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// The path of the source file, relative to the project where possible.
    pub filename: Option<String>,
    /// The absolute path or URL of the source file.
    pub abs_path: Option<String>,
    /// The function name.
    pub function: Option<String>,
    /// The original function name before demangling or trimming.
    pub raw_function: Option<String>,
    /// The platform-specific symbol.
    pub symbol: Option<String>,
    /// The module or namespace, e.g. a Python module path.
    pub module: Option<String>,
    /// The package, library or binary that contains the frame.
    pub package: Option<String>,
    /// The platform of this frame, when it differs from the event's.
    pub platform: Option<String>,
    /// Line number, starting at 1.
    pub lineno: Option<u64>,
    /// Column number, starting at 1.
    pub colno: Option<u64>,
    /// Source lines before the current line.
    pub pre_context: Option<Vec<Option<String>>>,
    /// The source of the current line.
    pub context_line: Option<String>,
    /// Source lines after the current line.
    pub post_context: Option<Vec<Option<String>>>,
    /// Whether the frame is the application's own code.
    pub in_app: Option<bool>,
    /// Local variables.
    pub vars: Option<Value>,
    /// The instruction address, for native frames.
    pub instruction_addr: Option<Value>,
    /// How the addresses are to be read.
    pub addr_mode: Option<String>,
    /// The start address of the function.
    pub symbol_addr: Option<Value>,
    /// The load address of the image.
    pub image_addr: Option<Value>,
    /// How the frame was found by the stack walker.
    pub trust: Option<String>,
    /// A lock the frame holds or waits for.
    pub lock: Option<Value>,
    /// Processing data: `sourcemap`, and the grouping bookkeeping `category`
    /// and `orig_in_app` written by stack trace rules.
    pub data: Option<serde_json::Map<String, Value>>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

impl Frame {
    /// Relay's frame path rules: a missing `abs_path` takes the file name,
    /// and a missing file name takes the `abs_path` (for a URL, its path).
    /// Symbolication and grouping both read the paths completed.
    pub fn complete_paths(&mut self) {
        let empty = |value: &Option<String>| value.as_deref().is_none_or(str::is_empty);
        if empty(&self.abs_path) && !empty(&self.filename) {
            self.abs_path = self.filename.clone();
        }
        if empty(&self.filename) {
            if let Some(abs_path) = self.abs_path.as_deref().filter(|path| !path.is_empty()) {
                self.filename = Some(url_path(abs_path).unwrap_or(abs_path).to_owned());
            }
        }
    }
}

/// The path of a `file:`, `http:`, `https:` or `applewebdata:` URL, when
/// it is neither empty nor `/`.
fn url_path(abs_path: &str) -> Option<&str> {
    let (scheme, rest) = abs_path.split_once(':')?;
    if !matches!(scheme, "file" | "http" | "https" | "applewebdata") {
        return None;
    }
    let after_host = match rest.strip_prefix("//") {
        Some(authority_and_path) => &authority_and_path[authority_and_path.find('/')?..],
        None => rest,
    };
    let path = after_host.split(['?', '#']).next().unwrap_or_default();
    (!path.is_empty() && path != "/").then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths() {
        assert_eq!(url_path("https://esm.run/d3@7.6.1"), Some("/d3@7.6.1"));
        assert_eq!(url_path("https://esm.run/"), None);
        assert_eq!(url_path("file:///app/main.js?x"), Some("/app/main.js"));
        assert_eq!(url_path("/plain/path"), None);
    }

    #[test]
    fn frames_get_both_paths() {
        let mut frame: Frame =
            serde_json::from_str(r#"{"abs_path":"https://esm.run/d3@7.6.1"}"#).unwrap();
        frame.complete_paths();
        assert_eq!(frame.filename.as_deref(), Some("/d3@7.6.1"));
        let mut frame: Frame = serde_json::from_str(r#"{"filename":"app.py"}"#).unwrap();
        frame.complete_paths();
        assert_eq!(frame.abs_path.as_deref(), Some("app.py"));
    }
}
