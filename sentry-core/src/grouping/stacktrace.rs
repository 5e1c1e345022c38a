//! The `stacktrace:v1` strategy: a stack trace in the `system` variant
//! (every frame may count) and the `app` variant (only in-app frames), with
//! recursion collapsed and the stack trace rules applied (spec section 4).

use super::component::{Hint, NodeId, Tree};
use super::enhancements::{ExceptionData, FrameContribution, Hint as RuleHint, StackUpdates};
use super::frame::{Platform, frame_component, is_recursion, is_url};
use super::platform::Family;
use super::stack_rules::StackRules;
use super::variants::{StrategyVariants, Variant};
use crate::protocol::{Frame, Stacktrace};

/// Builds the `system` and `app` components of a stack trace.
///
/// The frame components are built once: the `system` variant uses them,
/// the `app` variant copies of the frame nodes, which share their children
/// (module, file name, function, source line), so that each variant has its
/// own frame flags and hints.
pub(super) fn stacktrace_variants(
    tree: &mut Tree,
    stacktrace: &Stacktrace,
    event_platform: &str,
    rules: StackRules<'_>,
    exception: Option<&ExceptionData<'_>>,
) -> StrategyVariants {
    let frames = &stacktrace.frames;
    // The `system` frame components, then the `app` ones, in one vector.
    let mut components: Vec<NodeId> = Vec::with_capacity(2 * frames.len());
    let platform = Platform::named(event_platform);
    let mut previous: Option<&Frame> = None;
    for frame in frames {
        let component = frame_component(tree, frame, platform);
        if previous.is_some_and(|previous| is_recursion(frame, previous)) {
            tree.disable(component, "ignored due to recursion");
        }
        components.push(component);
        previous = Some(frame);
    }
    for index in 0..frames.len() {
        if let Some(&component) = components.get(index) {
            let copy = tree.add_copy(component);
            components.push(copy);
        }
    }
    let (system, app) = components.split_at(frames.len().min(components.len()));
    // What the rules match does not depend on the variant: find it once.
    let updates = rules.updates(frames, event_platform, exception);
    let mut contributions: Vec<FrameContribution<'_>> = Vec::with_capacity(frames.len());
    let mut variants = StrategyVariants::new();
    for (variant, components) in [(Variant::System, system), (Variant::App, app)] {
        if variant == Variant::App {
            for (&component, frame) in components.iter().zip(frames) {
                if frame.in_app != Some(true) {
                    tree.disable(component, "non app frame");
                }
            }
        }
        if let ([component], [frame]) = (components, frames.as_slice()) {
            let family = Platform::of_frame(frame, platform).family();
            let no_function = frame.function.as_deref().is_none_or(str::is_empty);
            if tree.contributes(*component)
                && family == Family::Javascript
                && no_function
                && frame.abs_path.as_deref().is_some_and(is_url)
            {
                tree.disable(*component, "ignored single non-URL JavaScript frame");
            }
        }
        let stacktrace = apply_rules(tree, &updates, components, &mut contributions);
        variants.push(variant, stacktrace);
    }
    variants
}

/// Runs the stack trace rules on one variant's frame components and wraps
/// them in its `stacktrace` component.
fn apply_rules<'r>(
    tree: &mut Tree,
    updates: &StackUpdates<'r>,
    components: &[NodeId],
    contributions: &mut Vec<FrameContribution<'r>>,
) -> NodeId {
    contributions.clear();
    contributions.extend(
        components
            .iter()
            .map(|&component| FrameContribution::new(tree.contributes(component))),
    );
    let outcome = updates.apply(contributions);
    // Rules usually give many frames the same hint: render it once.
    let mut rendered: Option<(RuleHint<'r>, Hint)> = None;
    for (&component, contribution) in components.iter().zip(contributions.iter()) {
        tree.set_contributes(component, contribution.contributes);
        // A rule's hint replaces the frame's own.
        if let Some(hint) = contribution.hint {
            let text = match rendered {
                Some((last, text)) if last == hint => text,
                _ => {
                    let text = tree.hint_with(|out| hint.push_to(out));
                    rendered = Some((hint, text));
                    text
                }
            };
            tree.set_hint(component, Some(text));
        }
    }
    let stacktrace = tree.add_parent("stacktrace", components);
    if outcome.discarded {
        let hint = outcome
            .hint
            .map(|hint| tree.hint_with(|out| hint.push_to(out)));
        tree.set_contributes(stacktrace, false);
        tree.set_hint(stacktrace, hint);
    }
    stacktrace
}
