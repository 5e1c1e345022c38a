//! Running the strategies in precedence order and combining their variants
//! (spec section 2.3): the first strategy with a contributing component
//! wins, and every later contributing component is switched off.

use super::component::{Hint, NodeId, Tree};
use super::exception::chained_exception;
use super::parameterize::normalize_message;
use super::security;
use super::stack_rules::StackRules;
use super::stacktrace::stacktrace_variants;
use super::threads::threads;
use super::variants::{StrategyVariants, Variant};
use crate::protocol::Event;

/// The combined strategy variants of an event, in creation order, each a
/// root component named after its variant; plus the exception-group main
/// exception, if one was picked.
pub(super) struct Calculated {
    /// The event's component tree.
    pub(super) tree: Tree,
    /// The root of each variant in `tree`.
    pub(super) variants: Vec<(Variant, NodeId)>,
    pub(super) main_exception_id: Option<u64>,
}

fn message(tree: &mut Tree, event: &Event) -> Option<StrategyVariants> {
    let entry = event.logentry.as_ref()?;
    let raw = entry
        .message
        .as_deref()
        .or(entry.formatted.as_deref())
        .unwrap_or_default();
    let normalized = normalize_message(raw);
    let changed = normalized != raw;
    let component = tree.add_text("message", &normalized);
    if changed {
        tree.set_hint(component, Some("stripped event-specific values".into()));
    }
    Some(StrategyVariants::single(Variant::Default, component))
}

fn report<'a>(event: &'a Event, key: &str) -> Option<&'a serde_json::Value> {
    event.other.get(key).filter(|value| value.is_object())
}

/// The capacity of an event's tree: node and text estimates from its stack
/// traces, so that building it seldom grows the buffers.
fn tree_for(event: &Event) -> Tree {
    let frames: usize = event
        .exceptions()
        .iter()
        .filter_map(|exception| exception.stacktrace.as_ref())
        .chain(event.stacktrace.as_ref())
        .chain(
            event
                .threads
                .iter()
                .flat_map(|threads| &threads.values)
                .filter_map(|thread| thread.stacktrace.as_ref()),
        )
        .map(|stacktrace| stacktrace.frames.len())
        .sum();
    // Per frame: four child nodes, two frame nodes, about 100 bytes of
    // leaves; then a few dozen nodes and some hints above the frames.
    Tree::with_capacity(frames * 6 + 32, frames * 100 + 512)
}

/// Runs every strategy whose interface the event has.
pub(super) fn calculate(event: &Event, rules: StackRules<'_>) -> Calculated {
    let mut tree = tree_for(event);
    let (variants, main_exception_id) = run_strategies(&mut tree, event, rules);
    Calculated {
        tree,
        variants,
        main_exception_id,
    }
}

fn run_strategies(
    tree: &mut Tree,
    event: &Event,
    rules: StackRules<'_>,
) -> (Vec<(Variant, NodeId)>, Option<u64>) {
    let platform = event.platform.as_deref().unwrap_or("other");
    let mut main_exception_id = None;
    let mut results: Vec<(&'static str, StrategyVariants)> = Vec::new();
    if !event.exceptions().is_empty() {
        let (variants, main) = chained_exception(tree, event.exceptions(), platform, rules);
        main_exception_id = main;
        results.push(("exception", variants));
    }
    if let Some(list) = event
        .threads
        .as_ref()
        .filter(|threads| !threads.values.is_empty())
    {
        results.push(("threads", threads(tree, &list.values, platform, rules)));
    }
    if let Some(stacktrace) = &event.stacktrace {
        let mut variants = stacktrace_variants(tree, stacktrace, platform, rules, None);
        variants.reconcile_app_with_system(tree);
        variants.drop_variants_without_stacktrace(tree);
        results.push(("stacktrace", variants));
    }
    if let Some(template) = report(event, "template") {
        let component = security::template(tree, template);
        results.push((
            "template",
            StrategyVariants::single(Variant::Default, component),
        ));
    }
    if let Some(csp) = report(event, "csp") {
        let component = security::csp(tree, csp);
        results.push(("csp", StrategyVariants::single(Variant::Default, component)));
    }
    for (key, id, salt) in [
        ("hpkp", "hpkp", "hpkp"),
        ("expectstaple", "expect-staple", "expect-staple"),
        ("expectct", "expect-ct", "expect-ct"),
    ] {
        if let Some(value) = report(event, key) {
            let component = security::hostname_report(tree, id, salt, value);
            results.push((id, StrategyVariants::single(Variant::Default, component)));
        }
    }
    if let Some(variants) = message(tree, event) {
        results.push(("message", variants));
    }
    (combine(tree, results), main_exception_id)
}

fn combine(
    tree: &mut Tree,
    results: Vec<(&'static str, StrategyVariants)>,
) -> Vec<(Variant, NodeId)> {
    // The strategy that won, and the variant it won with.
    let mut winner: Option<(usize, Variant)> = None;
    // Its hint for the components it switches off: rendered when first
    // needed (usually never: the other strategies seldom contribute).
    let mut precedence_hint: Option<Hint> = None;
    let mut per_variant: Vec<(Variant, Vec<NodeId>)> = Vec::with_capacity(2);
    for (position, (_, variants)) in results.iter().enumerate() {
        for &(variant, component) in &variants.0 {
            match winner {
                None if tree.contributes(component) => winner = Some((position, variant)),
                Some((won, _)) if tree.contributes(component) && won != position => {
                    let hint = *precedence_hint
                        .get_or_insert_with(|| render_precedence(tree, &results, winner));
                    tree.disable(component, hint);
                }
                _ => {}
            }
            match per_variant.iter_mut().find(|(name, _)| *name == variant) {
                Some((_, list)) => list.push(component),
                None => per_variant.push((variant, vec![component])),
            }
        }
    }
    per_variant
        .into_iter()
        .map(|(variant, children)| {
            let root = tree.add_parent(variant.as_str(), &children);
            if !tree.contributes(root) {
                let hint = match precedence_hint {
                    Some(hint) => Some(hint),
                    None if winner.is_some() => {
                        Some(*precedence_hint.insert(render_precedence(tree, &results, winner)))
                    }
                    None => None,
                };
                tree.set_hint(root, hint);
            }
            (variant, root)
        })
        .collect()
}

/// The hint of the winning strategy (`exception of app/system takes
/// precedence`), naming its variants that contribute; empty without one.
fn render_precedence(
    tree: &mut Tree,
    results: &[(&'static str, StrategyVariants)],
    winner: Option<(usize, Variant)>,
) -> Hint {
    let Some(((strategy, variants), variant)) =
        winner.and_then(|(position, variant)| Some((results.get(position)?, variant)))
    else {
        return Hint::Static("");
    };
    let verb = if strategy.ends_with('s') {
        "take"
    } else {
        "takes"
    };
    if variant == Variant::Default {
        return tree.hint_text(format_args!("{strategy} {verb} precedence"));
    }
    let mut names: Vec<&'static str> = variants
        .0
        .iter()
        .filter(|&&(_, component)| tree.contributes(component))
        .map(|(variant, _)| variant.as_str())
        .collect();
    names.sort_unstable();
    tree.hint_text(format_args!(
        "{strategy} of {} {verb} precedence",
        names.join("/")
    ))
}
