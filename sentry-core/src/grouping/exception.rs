//! The `chained-exception:v1` and `single-exception:v1` strategies (spec
//! section 7): each exception contributes its stack trace and type, and its
//! parameterized value when the stack trace does not count. Exception
//! groups are reduced to the exceptions that tell them apart.

use std::collections::HashMap;

use super::component::{NodeId, Slot, Tree};
use super::enhancements::ExceptionData;
use super::parameterize::normalize_message;
use super::stack_rules::StackRules;
use super::stacktrace::stacktrace_variants;
use super::variants::{StrategyVariants, Variant};
use crate::protocol::Exception;

/// What an exception's mechanism says for stack trace rules.
pub(super) fn exception_data(exception: &Exception) -> ExceptionData<'_> {
    ExceptionData::from(exception)
}

fn ns_error_component(tree: &mut Tree, exception: &Exception) -> Option<NodeId> {
    let mechanism = exception.mechanism.as_ref()?;
    let ns_error = mechanism.other.get("meta")?.get("ns_error")?;
    let mut leaf = |value: Option<&serde_json::Value>| match value {
        Some(serde_json::Value::Number(number)) => match number.as_i64() {
            Some(int) => Slot::Int(int),
            None => tree.text_display(number),
        },
        Some(serde_json::Value::String(text)) => tree.text(text),
        Some(serde_json::Value::Null) | None => Slot::Static("None"),
        Some(other) => tree.text_display(other),
    };
    let values = [leaf(ns_error.get("domain")), leaf(ns_error.get("code"))];
    Some(tree.add("ns-error", values))
}

/// The variants of one exception.
pub(super) fn single_exception(
    tree: &mut Tree,
    exception: &Exception,
    event_platform: &str,
    rules: StackRules<'_>,
) -> StrategyVariants {
    // The type and the NSError are the same in every variant: shared.
    let ty = match exception.ty.as_deref().filter(|ty| !ty.is_empty()) {
        Some(ty) => tree.add_text("type", ty),
        None => tree.add_empty("type"),
    };
    let mechanism = exception.mechanism.as_ref();
    if mechanism.is_some_and(|mechanism| mechanism.synthetic == Some(true)) {
        tree.disable(ty, "ignored because exception is synthetic");
    }
    let ns_error = ns_error_component(tree, exception);
    let ns_error_contributes = ns_error.is_some_and(|ns_error| tree.contributes(ns_error));
    let stacks = match &exception.stacktrace {
        Some(stacktrace) => stacktrace_variants(
            tree,
            stacktrace,
            event_platform,
            rules,
            Some(&exception_data(exception)),
        ),
        None => StrategyVariants::single(Variant::App, tree.add_empty("stacktrace")),
    };
    let raw = exception.value.as_deref().filter(|raw| !raw.is_empty());
    // The value's leaves, shared by the variants: as sent, and normalized
    // (with whether normalizing changed it).
    let mut sent = None;
    let mut normalized = None;
    stacks.map(|_, stacktrace| {
        let value = tree.add_empty("value");
        match raw {
            // The value cannot count: show it as sent and skip normalizing it,
            // which is the costliest step of grouping.
            Some(raw) if tree.contributes(stacktrace) => {
                let leaf = *sent.get_or_insert_with(|| tree.text(raw));
                tree.set_values(value, [leaf]);
                tree.disable(value, "ignored because stacktrace takes precedence");
            }
            Some(raw) => {
                let (leaf, changed) = *normalized.get_or_insert_with(|| {
                    let text = normalize_message(raw);
                    let changed = text != raw;
                    (tree.text(&text), changed)
                });
                if !tree.slot_text(leaf).is_empty() {
                    tree.set_values(value, [leaf]);
                    if changed {
                        tree.set_hint(value, Some("stripped event-specific values".into()));
                    }
                }
            }
            None => {}
        }
        if ns_error_contributes && tree.contributes(value) {
            tree.disable(value, "ignored because ns-error info takes precedence");
        }
        let values = [Some(stacktrace), Some(ty), ns_error, Some(value)];
        tree.add("exception", values.into_iter().flatten().map(Slot::Node))
    })
}

/// The variants of the exception chain: one exception is used directly,
/// several are wrapped in a `chained-exception` component per variant.
///
/// Returns the variants and, for an exception group reduced to one
/// distinct exception, the `exception_id` of that main exception (it names
/// the event).
pub(super) fn chained_exception(
    tree: &mut Tree,
    exceptions: &[Exception],
    event_platform: &str,
    rules: StackRules<'_>,
) -> (StrategyVariants, Option<u64>) {
    // One exception (the common case) is used directly: no group to reduce.
    if let [exception] = exceptions {
        let variants = single_exception(tree, exception, event_platform, rules);
        return (with_processing(tree, variants), None);
    }
    let components: Vec<StrategyVariants> = exceptions
        .iter()
        .map(|exception| single_exception(tree, exception, event_platform, rules))
        .collect();
    let (selected, main_exception_id) = filter_exception_groups(tree, exceptions, &components)
        .unwrap_or_else(|| ((0..exceptions.len()).collect(), None));
    // Each selected exception's variants are used once.
    let mut components: Vec<Option<StrategyVariants>> = components.into_iter().map(Some).collect();
    let mut take = |index: usize| components.get_mut(index).and_then(Option::take);
    if let [only] = selected.as_slice() {
        let variants = take(*only).unwrap_or_default();
        return (with_processing(tree, variants), main_exception_id);
    }
    let mut by_variant: Vec<(Variant, Vec<NodeId>)> = Vec::new();
    for index in selected {
        let Some(variants) = take(index) else {
            continue;
        };
        for (variant, component) in variants.0 {
            match by_variant.iter_mut().find(|(name, _)| *name == variant) {
                Some((_, list)) => list.push(component),
                None => by_variant.push((variant, vec![component])),
            }
        }
    }
    let variants = StrategyVariants(
        by_variant
            .into_iter()
            .map(|(variant, children)| (variant, tree.add_parent("chained-exception", &children)))
            .collect(),
    );
    (with_processing(tree, variants), main_exception_id)
}

fn with_processing(tree: &mut Tree, mut variants: StrategyVariants) -> StrategyVariants {
    variants.reconcile_app_with_system(tree);
    variants.drop_variants_without_stacktrace(tree);
    variants
}

/// Reduces an exception group (RFC 0079) to the exceptions that matter, as
/// indices into `exceptions`. `None` when the list is not a well-formed group
/// (then every exception is used).
fn filter_exception_groups(
    tree: &Tree,
    exceptions: &[Exception],
    components: &[StrategyVariants],
) -> Option<(Vec<usize>, Option<u64>)> {
    if exceptions.len() <= 1 {
        return None;
    }
    // Built from the last exception to the first, as Sentry does: the
    // "first child" of a node is the last one in protocol order. A child
    // list holds the child exceptions themselves; a duplicate id resolves
    // to the earliest exception with it.
    let mut node_of: HashMap<u64, usize> = HashMap::new();
    let mut children: HashMap<u64, Vec<usize>> = HashMap::new();
    for (index, exception) in exceptions.iter().enumerate().rev() {
        let mechanism = exception.mechanism.as_ref()?;
        let id = mechanism.exception_id?;
        node_of.insert(id, index);
        if let Some(parent) = mechanism.parent_id {
            children.entry(parent).or_default().push(index);
        }
    }
    let root = *node_of.get(&0)?;
    let id_of = |index: usize| {
        exceptions
            .get(index)
            .and_then(|e| e.mechanism.as_ref())
            .and_then(|m| m.exception_id)
    };
    let children_of = |index: usize| -> Vec<usize> {
        id_of(index)
            .and_then(|id| children.get(&id))
            .cloned()
            .unwrap_or_default()
    };

    let mut top_level = Vec::new();
    collect_top_level(root, exceptions, &children_of, &mut top_level, 0)?;
    top_level.sort_by(|a, b| {
        let ty = |index: usize| {
            exceptions
                .get(index)
                .and_then(|e| e.ty.clone())
                .unwrap_or_else(|| "None".to_owned())
        };
        ty(*b).cmp(&ty(*a))
    });
    let mut distinct: Vec<usize> = Vec::new();
    for index in top_level {
        let same_as_previous = distinct.last().is_some_and(|&previous| {
            match (components.get(previous), components.get(index)) {
                (Some(previous), Some(current)) => previous.same_as(current, tree),
                (previous, current) => previous.is_none() && current.is_none(),
            }
        });
        if !same_as_previous {
            distinct.push(index);
        }
    }
    if let [main] = distinct.as_slice() {
        let mut path = vec![*main];
        let mut current = *main;
        while let Some(&first) = children_of(current).first() {
            if path.contains(&first) || path.len() > exceptions.len() {
                return None;
            }
            path.push(first);
            current = first;
        }
        return Some((path, id_of(*main)));
    }
    distinct.push(root);
    Some((distinct, None))
}

fn collect_top_level(
    index: usize,
    exceptions: &[Exception],
    children_of: &dyn Fn(usize) -> Vec<usize>,
    out: &mut Vec<usize>,
    depth: usize,
) -> Option<()> {
    if depth > exceptions.len() {
        // A cycle: Sentry's recursion fails and it falls back to all exceptions.
        return None;
    }
    let is_group = exceptions
        .get(index)
        .and_then(|e| e.mechanism.as_ref())
        .is_some_and(|m| m.is_exception_group == Some(true));
    if !is_group {
        out.push(index);
        return Some(());
    }
    for child in children_of(index) {
        collect_top_level(child, exceptions, children_of, out, depth + 1)?;
    }
    Some(())
}
