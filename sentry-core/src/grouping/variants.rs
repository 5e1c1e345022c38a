//! Variants: the alternative groupings of one event (`system`, `app`,
//! `default`, fingerprints, fallback), and how a strategy's variants are
//! reconciled (spec sections 2.3 and 2.4).

use super::component::Component;

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

/// The components one strategy produced, one per variant, in creation order.
#[derive(Debug, Clone, Default)]
pub(super) struct StrategyVariants(pub(super) Vec<(Variant, Component)>);

impl StrategyVariants {
    pub(super) fn new() -> Self {
        Self(Vec::new())
    }

    pub(super) fn single(variant: Variant, component: Component) -> Self {
        Self(vec![(variant, component)])
    }

    pub(super) fn push(&mut self, variant: Variant, component: Component) {
        self.0.push((variant, component));
    }

    pub(super) fn get(&self, variant: Variant) -> Option<&Component> {
        self.0
            .iter()
            .find(|(name, _)| *name == variant)
            .map(|(_, component)| component)
    }

    /// Maps every component, keeping the variant names.
    pub(super) fn map(self, mut wrap: impl FnMut(Variant, Component) -> Component) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|(variant, component)| (variant, wrap(variant, component)))
                .collect(),
        )
    }

    /// Applies Sentry's rules between a mandatory `system` variant and the
    /// optional `app` variant: `app` does not count when `system` does not,
    /// or when it would hash the same as `system`.
    pub(super) fn reconcile_app_with_system(&mut self) {
        let Some(system) = self.get(Variant::System) else {
            return;
        };
        let system_contributes = system.contributes;
        let system_values = system.contributing_text();
        for (variant, component) in &mut self.0 {
            if *variant != Variant::App || !component.contributes {
                continue;
            }
            if !system_contributes {
                component.disable("ignored because system variant is not used");
            } else if component.contributing_text() == system_values {
                component.disable("ignored because hash matches system variant");
            }
        }
    }

    /// When some variant has a contributing stack trace, variants without
    /// one do not count (`remove_non_stacktrace_variants`).
    pub(super) fn drop_variants_without_stacktrace(&mut self) {
        if self.0.len() <= 1 {
            return;
        }
        let with_stack: Vec<Variant> = self
            .0
            .iter()
            .filter(|(_, component)| has_contributing_stacktrace(component))
            .map(|(variant, _)| *variant)
            .collect();
        if with_stack.is_empty() {
            return;
        }
        let hint = match with_stack.as_slice() {
            [only] => format!(
                "ignored because this variant does not have a contributing stacktrace, but the {} variant does",
                only.as_str()
            ),
            _ => "ignored because this variant does not have a contributing stacktrace, others do"
                .to_owned(),
        };
        for (variant, component) in &mut self.0 {
            if !with_stack.contains(variant) {
                component.disable(hint.clone());
            }
        }
    }
}

/// Whether any `stacktrace` component in the tree contributes by itself,
/// whatever its parents do.
fn has_contributing_stacktrace(component: &Component) -> bool {
    (component.id == "stacktrace" && component.contributes)
        || component.children().any(has_contributing_stacktrace)
}
