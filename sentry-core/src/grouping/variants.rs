//! Variants: the alternative groupings of one event (`system`, `app`,
//! `default`, fingerprints, fallback), and how a strategy's variants are
//! reconciled (spec sections 2.3 and 2.4).

use super::component::{ComponentRef, NodeId, Tree};

/// The name of a strategy variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Every frame may count; mandatory for stack-bearing strategies.
    System,
    /// Only in-app frames count.
    App,
    /// Strategies without stacks (message, security reports, templates).
    Default,
}

impl Variant {
    /// Returns the variant name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Variant::System => "system",
            Variant::App => "app",
            Variant::Default => "default",
        }
    }
}

/// The components one strategy produced, one per variant, in creation
/// order, as nodes of the event's tree.
#[derive(Debug, Clone, Default)]
pub(super) struct StrategyVariants(pub(super) Vec<(Variant, NodeId)>);

impl StrategyVariants {
    pub(super) fn new() -> Self {
        Self(Vec::with_capacity(2))
    }

    pub(super) fn single(variant: Variant, component: NodeId) -> Self {
        Self(vec![(variant, component)])
    }

    pub(super) fn push(&mut self, variant: Variant, component: NodeId) {
        self.0.push((variant, component));
    }

    pub(super) fn get(&self, variant: Variant) -> Option<NodeId> {
        self.0
            .iter()
            .find(|(name, _)| *name == variant)
            .map(|&(_, component)| component)
    }

    /// Maps every component, keeping the variant names.
    pub(super) fn map(mut self, mut wrap: impl FnMut(Variant, NodeId) -> NodeId) -> Self {
        for (variant, component) in &mut self.0 {
            *component = wrap(*variant, *component);
        }
        self
    }

    /// Whether two strategies produced the same variants with equal
    /// components.
    pub(super) fn same_as(&self, other: &Self, tree: &Tree) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|((variant, a), (other_variant, b))| {
                    variant == other_variant && tree.view(*a) == tree.view(*b)
                })
    }

    /// Applies Sentry's rules between a mandatory `system` variant and the
    /// optional `app` variant: `app` does not count when `system` does not,
    /// or when it would hash the same as `system`.
    pub(super) fn reconcile_app_with_system(&mut self, tree: &mut Tree) {
        let Some(system) = self.get(Variant::System) else {
            return;
        };
        let system_contributes = tree.contributes(system);
        for &(variant, component) in &self.0 {
            if variant != Variant::App || !tree.contributes(component) {
                continue;
            }
            if !system_contributes {
                tree.disable(component, "ignored because system variant is not used");
            } else if tree.same_contributing_text(system, component) {
                tree.disable(component, "ignored because hash matches system variant");
            }
        }
    }

    /// When some variant has a contributing stack trace, variants without
    /// one do not count (`remove_non_stacktrace_variants`).
    pub(super) fn drop_variants_without_stacktrace(&mut self, tree: &mut Tree) {
        if self.0.len() <= 1 {
            return;
        }
        // Usually every variant has one, or none does: then nothing changes.
        let has_stack =
            |&&(_, component): &&(Variant, NodeId)| has_contributing_stacktrace(tree, component);
        let count = self.0.iter().filter(has_stack).count();
        if count == 0 || count == self.0.len() {
            return;
        }
        let with_stack: Vec<Variant> = self
            .0
            .iter()
            .filter(has_stack)
            .map(|&(variant, _)| variant)
            .collect();
        let hint = match with_stack.as_slice() {
            [only] => tree.hint_text(format_args!(
                "ignored because this variant does not have a contributing stacktrace, but the {} variant does",
                only.as_str()
            )),
            _ => "ignored because this variant does not have a contributing stacktrace, others do"
                .into(),
        };
        for &(variant, component) in &self.0 {
            if !with_stack.contains(&variant) {
                tree.disable(component, hint);
            }
        }
    }
}

/// Whether any `stacktrace` component in the tree contributes by itself,
/// whatever its parents do. Stack traces hold frames, and frames hold no
/// stack traces, so the search stops at both.
fn has_contributing_stacktrace(tree: &Tree, component: NodeId) -> bool {
    contributing_stacktrace_below(tree.view(component))
}

fn contributing_stacktrace_below(component: ComponentRef<'_>) -> bool {
    match component.id() {
        "stacktrace" => component.contributes(),
        "frame" => false,
        _ => component.children().any(contributing_stacktrace_below),
    }
}
