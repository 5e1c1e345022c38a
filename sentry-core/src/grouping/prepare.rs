//! What Sentry does to an event before grouping it (spec section 1), so
//! that grouping and the stored event agree: frame paths completed as Relay
//! completes them, native function names trimmed (the original kept in
//! `raw_function`), the stack trace rules' in-app and category marks, and
//! the server-side fingerprint rules.

use serde_json::{Value, json};

use super::GroupingConfig;
use super::enhancements::{Enhancements, ExceptionData};
use super::fingerprint_rules::FingerprintingRules;
use super::frame::frame_platform;
use super::functions::trim_function_name;
use super::platform::Family;
use super::stack_rules::PreparedStacks;
use crate::protocol::{Event, Frame, Stacktrace};

/// Prepares an event for grouping, in place. Running it twice changes
/// nothing more.
pub fn prepare(event: &mut Event, config: &GroupingConfig) {
    prepare_event(event, config, None);
}

/// [`prepare`], keeping what the stack trace rules of phase two match in
/// each stack trace for grouping (see `stack_rules`).
pub(super) fn prepare_matching<'r>(
    event: &mut Event,
    config: &'r GroupingConfig,
) -> PreparedStacks<'r> {
    let mut prepared = PreparedStacks::default();
    prepare_event(event, config, Some(&mut prepared));
    prepared
}

fn prepare_event<'r>(
    event: &mut Event,
    config: &'r GroupingConfig,
    mut prepared: Option<&mut PreparedStacks<'r>>,
) {
    let platform = event.platform.as_deref().unwrap_or("other");
    let rules = StackPreparation {
        platform,
        enhancements: &config.enhancements,
    };
    if let Some(exceptions) = &mut event.exception {
        for exception in &mut exceptions.values {
            // The fields the rules read, borrowed beside the stack traces.
            let data = ExceptionData {
                ty: exception.ty.as_deref(),
                value: exception.value.as_deref(),
                mechanism: exception.mechanism.as_ref().and_then(|m| m.ty.as_deref()),
            };
            for stacktrace in [&mut exception.stacktrace, &mut exception.raw_stacktrace]
                .into_iter()
                .flatten()
            {
                rules.normalize(stacktrace, Some(&data), prepared.as_deref_mut());
            }
        }
    }
    if let Some(stacktrace) = &mut event.stacktrace {
        rules.normalize(stacktrace, None, prepared.as_deref_mut());
    }
    if let Some(threads) = &mut event.threads {
        for thread in &mut threads.values {
            for stacktrace in [&mut thread.stacktrace, &mut thread.raw_stacktrace]
                .into_iter()
                .flatten()
            {
                rules.normalize(stacktrace, None, prepared.as_deref_mut());
            }
        }
    }
    apply_fingerprint_rules(event, &config.fingerprinting);
}

/// What normalizing a stack trace needs beside it.
struct StackPreparation<'a, 'r> {
    platform: &'a str,
    enhancements: &'r Enhancements,
}

impl<'r> StackPreparation<'_, 'r> {
    /// Completes paths and trims functions, then restores the SDK's in-app
    /// flags from an earlier run, applies the in-app and category rules,
    /// and makes unset flags `false`. With `prepared`, also finds what
    /// phase two matches and records it there.
    fn normalize(
        &self,
        stacktrace: &mut Stacktrace,
        exception: Option<&ExceptionData<'_>>,
        prepared: Option<&mut PreparedStacks<'r>>,
    ) {
        for frame in &mut stacktrace.frames {
            frame.complete_paths();
            trim_function(frame, self.platform);
        }
        let frames = &mut stacktrace.frames;
        let platform = Some(self.platform);
        match prepared {
            Some(prepared) => {
                let updates = self
                    .enhancements
                    .apply_modifications_and_updates(frames, platform, exception);
                prepared.insert(frames, updates);
            }
            None => self
                .enhancements
                .apply_modifications(frames, platform, exception),
        }
    }
}

fn trim_function(frame: &mut Frame, event_platform: &str) {
    if frame.raw_function.is_some() {
        return;
    }
    let Some(function) = frame.function.as_deref() else {
        return;
    };
    let platform = frame_platform(frame, event_platform);
    // Only .NET and native names are trimmed: skip the copy for the rest.
    if platform != "csharp" && Family::of(platform) != Family::Native {
        return;
    }
    let trimmed = trim_function_name(function, platform);
    if trimmed != function {
        frame.raw_function = frame.function.replace(trimmed);
    }
}

/// The project's rules, then the built-in ones: the first match replaces the
/// fingerprint (the SDK's is kept in `_fingerprint_info`) and may set a title.
fn apply_fingerprint_rules(event: &mut Event, project_rules: &FingerprintingRules) {
    let Some(found) = project_rules.first_match_with_builtin(event) else {
        return;
    };
    let rule = found.rule.to_json();
    let fingerprint = found.fingerprint.clone();
    let title = found.title.clone();
    // On a second run the SDK's fingerprint is the one recorded the first time.
    let recorded = event
        .other
        .get("_fingerprint_info")
        .and_then(|info| info.get("client_fingerprint"))
        .cloned();
    let client = recorded.unwrap_or_else(|| json!(event.fingerprint.clone().unwrap_or_default()));
    event.fingerprint = Some(fingerprint);
    if let Some(title) = title {
        event.other.insert("title".to_owned(), Value::String(title));
    }
    event.other.insert(
        "_fingerprint_info".to_owned(),
        json!({ "matched_rule": rule, "client_fingerprint": client }),
    );
}
