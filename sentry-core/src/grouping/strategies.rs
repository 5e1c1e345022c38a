//! Running the strategies in precedence order and combining their variants
//! (spec section 2.3): the first strategy with a contributing component
//! wins, and every later contributing component is switched off.

use super::GroupingConfig;
use super::component::{Component, ComponentValue};
use super::exception::chained_exception;
use super::parameterize::normalize_message;
use super::security;
use super::stacktrace::stacktrace_variants;
use super::threads::threads;
use super::variants::{StrategyVariants, Variant};
use crate::protocol::Event;

/// The combined strategy variants of an event, in creation order, each a
/// root component named after its variant; plus the exception-group main
/// exception, if one was picked.
pub(super) struct Calculated {
    pub(super) variants: Vec<(Variant, Component)>,
    pub(super) main_exception_id: Option<u64>,
}

fn message(event: &Event) -> Option<StrategyVariants> {
    let entry = event.logentry.as_ref()?;
    let raw = entry
        .message
        .as_deref()
        .or(entry.formatted.as_deref())
        .unwrap_or_default();
    let normalized = normalize_message(raw);
    let changed = normalized != raw;
    let mut component = Component::new("message", vec![ComponentValue::Text(normalized)]);
    if changed {
        component.hint = Some("stripped event-specific values".to_owned());
    }
    Some(StrategyVariants::single(Variant::Default, component))
}

fn report<'a>(event: &'a Event, key: &str) -> Option<&'a serde_json::Value> {
    event.other.get(key).filter(|value| value.is_object())
}

/// Runs every strategy whose interface the event has.
pub(super) fn calculate(event: &Event, config: &GroupingConfig) -> Calculated {
    let platform = event.platform.as_deref().unwrap_or("other");
    let enhancements = &config.enhancements;
    let mut main_exception_id = None;
    let mut results: Vec<(&'static str, StrategyVariants)> = Vec::new();
    if !event.exceptions().is_empty() {
        let (variants, main) = chained_exception(event.exceptions(), platform, enhancements);
        main_exception_id = main;
        results.push(("exception", variants));
    }
    if let Some(list) = event
        .threads
        .as_ref()
        .filter(|threads| !threads.values.is_empty())
    {
        results.push(("threads", threads(&list.values, platform, enhancements)));
    }
    if let Some(stacktrace) = &event.stacktrace {
        let mut variants = stacktrace_variants(stacktrace, platform, enhancements, None);
        variants.reconcile_app_with_system();
        variants.drop_variants_without_stacktrace();
        results.push(("stacktrace", variants));
    }
    if let Some(template) = report(event, "template") {
        results.push((
            "template",
            StrategyVariants::single(Variant::Default, security::template(template)),
        ));
    }
    if let Some(csp) = report(event, "csp") {
        results.push((
            "csp",
            StrategyVariants::single(Variant::Default, security::csp(csp)),
        ));
    }
    for (key, id, salt) in [
        ("hpkp", "hpkp", "hpkp"),
        ("expectstaple", "expect-staple", "expect-staple"),
        ("expectct", "expect-ct", "expect-ct"),
    ] {
        if let Some(value) = report(event, key) {
            let component = security::hostname_report(id, salt, value);
            results.push((id, StrategyVariants::single(Variant::Default, component)));
        }
    }
    if let Some(variants) = message(event) {
        results.push(("message", variants));
    }
    Calculated {
        variants: combine(results),
        main_exception_id,
    }
}

fn combine(results: Vec<(&'static str, StrategyVariants)>) -> Vec<(Variant, Component)> {
    let mut winner: Option<&'static str> = None;
    let mut precedence_hint: Option<String> = None;
    let mut per_variant: Vec<(Variant, Vec<ComponentValue>)> = Vec::new();
    for (strategy, variants) in results {
        let contributing: Vec<&'static str> = variants
            .0
            .iter()
            .filter(|(_, component)| component.contributes)
            .map(|(variant, _)| variant.as_str())
            .collect();
        for (variant, mut component) in variants.0 {
            match winner {
                None if component.contributes => {
                    winner = Some(strategy);
                    let mut names = contributing.clone();
                    names.sort_unstable();
                    let subject = if variant == Variant::Default {
                        strategy.to_owned()
                    } else {
                        format!("{strategy} of {}", names.join("/"))
                    };
                    let verb = if strategy.ends_with('s') {
                        "take"
                    } else {
                        "takes"
                    };
                    precedence_hint = Some(format!("{subject} {verb} precedence"));
                }
                Some(won) if component.contributes && won != strategy => {
                    component.disable(precedence_hint.clone().unwrap_or_default());
                }
                _ => {}
            }
            match per_variant.iter_mut().find(|(name, _)| *name == variant) {
                Some((_, list)) => list.push(ComponentValue::Component(component)),
                None => per_variant.push((variant, vec![ComponentValue::Component(component)])),
            }
        }
    }
    per_variant
        .into_iter()
        .map(|(variant, values)| {
            let mut root = Component::new(variant.as_str(), values);
            if !root.contributes {
                root.hint = precedence_hint.clone();
            }
            (variant, root)
        })
        .collect()
}
