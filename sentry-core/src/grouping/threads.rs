//! The `threads:v1` strategy (spec section 7.2): the stack of the one
//! crashed thread, else the one current thread, else the only thread.

use super::component::Tree;
use super::stack_rules::StackRules;
use super::stacktrace::stacktrace_variants;
use super::variants::{StrategyVariants, Variant};
use crate::protocol::Thread;

fn only_thread<'a>(threads: impl Iterator<Item = &'a Thread>) -> Option<&'a Thread> {
    let mut threads = threads;
    let first = threads.next()?;
    threads.next().is_none().then_some(first)
}

/// The variants of an event's threads.
pub(super) fn threads(
    tree: &mut Tree,
    threads: &[Thread],
    event_platform: &str,
    rules: StackRules<'_>,
) -> StrategyVariants {
    let chosen = only_thread(threads.iter().filter(|t| t.crashed == Some(true)))
        .or_else(|| only_thread(threads.iter().filter(|t| t.current == Some(true))))
        .or_else(|| only_thread(threads.iter()));
    let Some(thread) = chosen else {
        let component = tree.add_empty("threads");
        tree.set_hint(
            component,
            Some("ignored because does not contain exactly one thread".into()),
        );
        return StrategyVariants::single(Variant::App, component);
    };
    let Some(stacktrace) = &thread.stacktrace else {
        let component = tree.add_empty("threads");
        tree.set_hint(component, Some("thread has no stacktrace".into()));
        return StrategyVariants::single(Variant::App, component);
    };
    let mut variants = stacktrace_variants(tree, stacktrace, event_platform, rules, None)
        .map(|_, stacktrace| tree.add_parent("threads", &[stacktrace]));
    variants.reconcile_app_with_system(tree);
    variants.drop_variants_without_stacktrace(tree);
    variants
}
