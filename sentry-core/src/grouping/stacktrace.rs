//! The `stacktrace:v1` strategy: a stack trace in the `system` variant
//! (every frame may count) and the `app` variant (only in-app frames), with
//! recursion collapsed and the stack trace rules applied (spec section 4).

use super::component::{Component, ComponentValue};
use super::enhancements::{Enhancements, ExceptionData, FrameContribution};
use super::frame::{frame_component, frame_platform, is_recursion, is_url};
use super::platform::Family;
use super::variants::{StrategyVariants, Variant};
use crate::protocol::Stacktrace;

/// Builds the `system` and `app` components of a stack trace.
pub(super) fn stacktrace_variants(
    stacktrace: &Stacktrace,
    event_platform: &str,
    enhancements: &Enhancements,
    exception: Option<&ExceptionData>,
) -> StrategyVariants {
    let frames = &stacktrace.frames;
    let mut base: Vec<Component> = Vec::with_capacity(frames.len());
    for (index, frame) in frames.iter().enumerate() {
        let mut component = frame_component(frame, event_platform);
        let previous = index
            .checked_sub(1)
            .and_then(|previous| frames.get(previous));
        if previous.is_some_and(|previous| is_recursion(frame, previous)) {
            component.disable("ignored due to recursion");
        }
        base.push(component);
    }
    // What the rules match does not depend on the variant: find it once.
    let updates = enhancements.updates(frames, Some(event_platform), exception);
    let mut variants = StrategyVariants::new();
    let mut base = Some(base);
    for variant in [Variant::System, Variant::App] {
        // The last variant takes the frames; the first works on a copy.
        let mut components = match variant {
            Variant::App => base.take().unwrap_or_default(),
            _ => base.clone().unwrap_or_default(),
        };
        if variant == Variant::App {
            for (component, frame) in components.iter_mut().zip(frames) {
                if frame.in_app != Some(true) {
                    component.disable("non app frame");
                }
            }
        }
        if let ([component], [frame]) = (components.as_mut_slice(), frames.as_slice()) {
            let family = Family::of(frame_platform(frame, event_platform));
            let no_function = frame.function.as_deref().is_none_or(str::is_empty);
            if component.contributes
                && family == Family::Javascript
                && no_function
                && frame.abs_path.as_deref().is_some_and(is_url)
            {
                component.disable("ignored single non-URL JavaScript frame");
            }
        }
        let mut contributions: Vec<FrameContribution<'_>> = components
            .iter()
            .map(|component| FrameContribution::new(component.contributes))
            .collect();
        let outcome = updates.apply(&mut contributions);
        for (component, contribution) in components.iter_mut().zip(contributions) {
            component.contributes = contribution.contributes;
            // A rule's hint replaces the frame's own; rendered only here.
            if let Some(hint) = contribution.hint {
                component.hint = Some(hint.into());
            }
        }
        let mut stacktrace = Component::new(
            "stacktrace",
            components
                .into_iter()
                .map(ComponentValue::Component)
                .collect(),
        );
        if outcome.discarded {
            stacktrace.contributes = false;
            stacktrace.hint = outcome.hint.map(Into::into);
        }
        variants.push(variant, stacktrace);
    }
    variants
}
