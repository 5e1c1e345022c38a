//! Grouping: deciding which issue an event belongs to.
//!
//! Sentry calls an issue a *group*; this crate says *issue* everywhere else.
//! Grouping reduces an event to a list of contributing values and hashes
//! them; events with the same hash belong to the same issue.
//!
//! The strategy, in order of precedence:
//!
//! 1. A custom `fingerprint` sent by the SDK. The entry `{{ default }}`
//!    stands for the values the default grouping would use.
//! 2. The exception chain: for each exception, its type and its in-app
//!    frames (module, else file name, plus function). Without any in-app
//!    frame, all frames count instead, as in Sentry's system variant.
//! 3. Without frames: each exception's type and value.
//!
//! The type and value of a synthetic exception (one an SDK made up to
//! carry a stack trace) never count.
//! 4. The message template (`logentry.message`), else the formatted message.
//! 5. Nothing: every such event of a project shares one issue.
//!
//! The hash is SHA-256 over the values concatenated in that order, in hex.
//! The config that produced a hash is recorded with the issue and its
//! events ([`Grouping::config`]), so a later config can be introduced
//! without regrouping stored data.

pub mod enhancements;
pub mod fingerprint_rules;
pub mod functions;
pub mod glob;
pub mod parameterize;
pub mod platform;

use std::fmt;

use sha2::{Digest, Sha256};

use crate::protocol::{Event, Exception};

/// The grouping config of this first strategy.
pub const LEGACY_CONFIG: &str = "skeleton:2026-11-24";

/// Settings for [`group`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupingConfig {
    /// The config id recorded with each grouping.
    pub id: String,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        Self {
            id: LEGACY_CONFIG.to_owned(),
        }
    }
}

/// The hash that names an issue within a project: SHA-256, 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupingHash(String);

impl GroupingHash {
    /// Hashes contributing values, concatenated without separators.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut hasher = Sha256::new();
        for value in values {
            hasher.update(value.as_bytes());
        }
        let digest = hasher.finalize();
        let mut hex = String::with_capacity(64);
        for byte in digest.iter() {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        Self(hex)
    }

    /// Wraps a stored hash.
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    /// Returns the hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for GroupingHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which part of the event decided the grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// A custom fingerprint without `{{ default }}`.
    CustomFingerprint,
    /// A fingerprint mixing `{{ default }}` with custom values.
    HybridFingerprint,
    /// The in-app frames of the exception chain.
    AppStacktrace,
    /// All frames of the exception chain, when none is in-app.
    SystemStacktrace,
    /// Exception types and values.
    Exception,
    /// The message.
    Message,
    /// Nothing usable: all such events share one issue.
    Fallback,
}

impl Variant {
    /// Returns the variant name used in explanations.
    pub fn as_str(&self) -> &'static str {
        match self {
            Variant::CustomFingerprint => "custom-fingerprint",
            Variant::HybridFingerprint => "hybrid-fingerprint",
            Variant::AppStacktrace => "app",
            Variant::SystemStacktrace => "system",
            Variant::Exception => "exception",
            Variant::Message => "message",
            Variant::Fallback => "fallback",
        }
    }
}

/// The outcome of grouping one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// The hash that names the issue.
    pub hash: GroupingHash,
    /// Which part of the event decided it.
    pub variant: Variant,
    /// The contributing values, in hashing order.
    pub values: Vec<String>,
    /// The config id that produced it.
    pub config: String,
}

/// Groups an event.
pub fn group(event: &Event, config: &GroupingConfig) -> Grouping {
    let (default_variant, default_values) = default_values(event);
    let (variant, values) = match &event.fingerprint {
        Some(fingerprint) if !fingerprint.is_empty() && !is_default_only(fingerprint) => {
            let hybrid = fingerprint.iter().any(|entry| is_default_marker(entry));
            let mut values = Vec::new();
            for entry in fingerprint {
                if is_default_marker(entry) {
                    values.extend(default_values.iter().cloned());
                } else {
                    values.push(entry.clone());
                }
            }
            let variant = if hybrid {
                Variant::HybridFingerprint
            } else {
                Variant::CustomFingerprint
            };
            (variant, values)
        }
        _ => (default_variant, default_values),
    };
    Grouping {
        hash: GroupingHash::from_values(values.iter().map(String::as_str)),
        variant,
        values,
        config: config.id.clone(),
    }
}

fn is_default_marker(entry: &str) -> bool {
    let inner = entry.trim();
    inner
        .strip_prefix("{{")
        .and_then(|rest| rest.strip_suffix("}}"))
        .is_some_and(|name| name.trim() == "default")
}

fn is_default_only(fingerprint: &[String]) -> bool {
    fingerprint.iter().all(|entry| is_default_marker(entry))
}

fn default_values(event: &Event) -> (Variant, Vec<String>) {
    let exceptions = event.exceptions();
    if !exceptions.is_empty() {
        for (variant, app_only) in [
            (Variant::AppStacktrace, true),
            (Variant::SystemStacktrace, false),
        ] {
            let frames = frame_values(exceptions, app_only);
            if frames.iter().any(|frames| !frames.is_empty()) {
                let mut values = Vec::new();
                for (exception, frames) in exceptions.iter().zip(frames) {
                    if !is_synthetic(exception) {
                        values.extend(exception.ty.clone());
                    }
                    values.extend(frames);
                }
                return (variant, values);
            }
        }
        let mut values = Vec::new();
        for exception in exceptions.iter().filter(|e| !is_synthetic(e)) {
            values.extend(exception.ty.clone());
            values.extend(exception.value.clone());
        }
        if !values.is_empty() {
            return (Variant::Exception, values);
        }
    }
    let message = event
        .logentry
        .as_ref()
        .and_then(|entry| entry.message.as_deref())
        .or_else(|| event.message_text());
    match message {
        Some(message) if !message.is_empty() => (Variant::Message, vec![message.to_owned()]),
        _ => (Variant::Fallback, Vec::new()),
    }
}

fn is_synthetic(exception: &Exception) -> bool {
    exception
        .mechanism
        .as_ref()
        .is_some_and(|mechanism| mechanism.synthetic == Some(true))
}

/// For each exception, the (module or file name, function) pairs of its
/// frames: only the in-app ones when `app_only`.
fn frame_values(exceptions: &[Exception], app_only: bool) -> Vec<Vec<String>> {
    exceptions
        .iter()
        .map(|exception| {
            let Some(stacktrace) = &exception.stacktrace else {
                return Vec::new();
            };
            let mut values = Vec::new();
            for frame in stacktrace
                .frames
                .iter()
                .filter(|frame| !app_only || frame.in_app == Some(true))
            {
                let location = frame.module.as_ref().or(frame.filename.as_ref());
                if let Some(location) = location {
                    values.push(location.clone());
                }
                if let Some(function) = &frame.function {
                    values.push(function.clone());
                }
            }
            values
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    const CRASH: &str = r#"{"exception":{"values":[{"type":"ValueError","value":"bad 1","stacktrace":{"frames":[
        {"module":"lib","function":"helper","in_app":false,"lineno":1},
        {"module":"app.views","function":"index","in_app":true,"lineno":10}]}}]}}"#;

    #[test]
    fn app_frames_decide_and_value_does_not() {
        let a = group(&event(CRASH), &GroupingConfig::default());
        let b = group(
            &event(&CRASH.replace("bad 1", "bad 2").replace("10", "99")),
            &GroupingConfig::default(),
        );
        assert_eq!(a.variant, Variant::AppStacktrace);
        assert_eq!(a.values, vec!["ValueError", "app.views", "index"]);
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.hash.as_str().len(), 64);
    }

    #[test]
    fn without_app_frames_all_frames_decide() {
        let system = CRASH.replace("\"in_app\":true", "\"in_app\":false");
        let a = group(&event(&system), &GroupingConfig::default());
        let b = group(
            &event(&system.replace("bad 1", "bad 2")),
            &GroupingConfig::default(),
        );
        assert_eq!(a.variant, Variant::SystemStacktrace);
        assert_eq!(
            a.values,
            vec!["ValueError", "lib", "helper", "app.views", "index"]
        );
        assert_eq!(a.hash, b.hash);
    }

    #[test]
    fn synthetic_type_and_value_do_not_count() {
        let grouping = group(
            &event(
                r#"{"exception":[{"type":"Error","value":"v","mechanism":{"synthetic":true},"stacktrace":{"frames":[{"function":"f","in_app":true}]}}]}"#,
            ),
            &GroupingConfig::default(),
        );
        assert_eq!(grouping.values, vec!["f"]);
    }

    #[test]
    fn without_frames_type_and_value_decide() {
        let grouping = group(
            &event(r#"{"exception":[{"type":"E","value":"v"}]}"#),
            &GroupingConfig::default(),
        );
        assert_eq!(grouping.variant, Variant::Exception);
        assert_eq!(grouping.values, vec!["E", "v"]);
    }

    #[test]
    fn message_template_decides_over_formatted() {
        let a = group(
            &event(r#"{"logentry":{"message":"User %s failed","formatted":"User a failed"}}"#),
            &GroupingConfig::default(),
        );
        assert_eq!(a.variant, Variant::Message);
        assert_eq!(a.values, vec!["User %s failed"]);
    }

    #[test]
    fn fingerprint_replaces_or_extends_default() {
        let custom = group(
            &event(r#"{"fingerprint":["a","b"],"message":"m"}"#),
            &GroupingConfig::default(),
        );
        assert_eq!(custom.variant, Variant::CustomFingerprint);
        assert_eq!(custom.values, vec!["a", "b"]);
        let hybrid = group(
            &event(r#"{"fingerprint":["{{ default }}","x"],"message":"m"}"#),
            &GroupingConfig::default(),
        );
        assert_eq!(hybrid.variant, Variant::HybridFingerprint);
        assert_eq!(hybrid.values, vec!["m", "x"]);
        let default_only = group(
            &event(r#"{"fingerprint":["{{default}}"],"message":"m"}"#),
            &GroupingConfig::default(),
        );
        assert_eq!(default_only.variant, Variant::Message);
    }

    #[test]
    fn empty_event_falls_back() {
        let grouping = group(&Event::default(), &GroupingConfig::default());
        assert_eq!(grouping.variant, Variant::Fallback);
        assert_eq!(
            grouping.hash.as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
