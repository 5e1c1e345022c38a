//! The `frame:v1` strategy: what one stack frame contributes (spec section 5).
//!
//! A frame contributes its module, file name, function and, for platforms
//! whose source lines are stable (`context-line`), the source line; never
//! line numbers, so a frame groups by where the code is. The many special
//! cases undo what compilers, code generators and minifiers vary between
//! builds.

use std::sync::LazyLock;

use regex::Regex;

use super::component::{Component, ComponentValue};
use super::platform::Family;
use crate::protocol::Frame;

/// Platforms whose source lines take part in grouping.
const CONTEXT_LINE_PLATFORMS: &[&str] = &["javascript", "node", "python", "php", "ruby"];

/// Longest source line, in characters, that still counts.
const MAX_CONTEXT_LINE: usize = 120;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("invariant: the constant pattern compiles")
}

static JAVASSIST: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?"));

/// Java module clean-ups: each keeps the marker (group 1) and replaces the
/// generated part with `<auto>`.
static JAVA_MODULE_CLEANUPS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(sun\.reflect\.Generated(?:Serialization)?ConstructorAccessor)\d+",
        r"(\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?",
        r"(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?",
        r"(\$fn__)\d+",
        r"(\$\$?EnhancerBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?",
        r"(\$\$?FastClassBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?",
        r"(\$\$?HibernateProxy\$?\$)\w+(_[0-9]+)?",
    ]
    .into_iter()
    .map(regex)
    .collect()
});

static RUBY_ERB_SUFFIX: LazyLock<Regex> = LazyLock::new(|| regex(r"__\d{4,}_\d{4,}$"));

/// Whether a path is a URL in the sense of the file-name check.
fn is_url_origin(abs_path: &str) -> bool {
    ["http:", "https:", "applewebdata:", "blob:"]
        .iter()
        .any(|scheme| abs_path.starts_with(scheme))
}

/// Whether a path is a URL in the sense of the context-line and single-frame checks.
pub(super) fn is_url(abs_path: &str) -> bool {
    is_url_origin(abs_path) || abs_path.starts_with("file:")
}

/// The platform a frame is grouped as: its own, else the event's.
pub(super) fn frame_platform<'a>(frame: &'a Frame, event_platform: &'a str) -> &'a str {
    frame
        .platform
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or(event_platform)
}

fn replace_auto(regex: &Regex, text: &str) -> String {
    regex.replace_all(text, "${1}<auto>").into_owned()
}

fn module_component(frame: &Frame, platform: &str) -> Component {
    let Some(module) = frame.module.as_deref().filter(|m| !m.is_empty()) else {
        return Component::empty("module");
    };
    let mut component = Component::text("module", module);
    if Family::of(platform) == Family::Javascript {
        let bad = module.contains('/')
            && frame
                .abs_path
                .as_deref()
                .is_some_and(|path| path.ends_with(module));
        if bad {
            component.disable("ignored bad javascript module");
        }
    } else if platform == "java" {
        if module.contains("$$Lambda$") {
            component.disable("ignored java lambda");
        }
        let accessor = [
            "sun.reflect.GeneratedMethodAccessor",
            "jdk.internal.reflect.GeneratedMethodAccessor",
        ]
        .into_iter()
        .find(|prefix| module.starts_with(prefix));
        if let Some(prefix) = accessor {
            component.set_values(vec![ComponentValue::Text(prefix.to_owned())]);
            component.hint = Some("removed reflection marker".to_owned());
        } else {
            let cleaned = JAVA_MODULE_CLEANUPS
                .iter()
                .fold(module.to_owned(), |text, regex| replace_auto(regex, &text));
            if cleaned != module {
                component.set_values(vec![ComponentValue::Text(cleaned)]);
                component.hint = Some("removed codegen marker".to_owned());
            }
        }
    }
    component
}

fn filename_component(frame: &Frame, platform: &str) -> Component {
    let Some(filename) = frame.filename.as_deref().filter(|f| !f.is_empty()) else {
        return Component::empty("filename");
    };
    let basename = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(filename)
        .to_lowercase();
    let mut component = Component::text("filename", basename.clone());
    if frame.abs_path.as_deref().is_some_and(is_url_origin) {
        component.disable("ignored because frame points to a URL");
    } else if basename == "<anonymous>" || basename == "[native code]" {
        component.disable("ignored because file name is not useful");
    } else if platform == "java" {
        let cleaned = replace_auto(&JAVASSIST, &basename);
        if cleaned != basename {
            component.set_values(vec![ComponentValue::Text(cleaned)]);
            component.hint = Some("cleaned javassist parts".to_owned());
        }
    }
    component
}

fn context_line_component(frame: &Frame, platform: &str) -> Option<Component> {
    if !CONTEXT_LINE_PLATFORMS.contains(&platform) {
        return None;
    }
    let raw = frame.context_line.as_deref()?;
    let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return None;
    }
    let mut component = Component::text("context-line", line);
    if raw.chars().count() > MAX_CONTEXT_LINE {
        component.disable("discarded because line too long");
    } else if Family::of(platform) == Family::Javascript
        && frame.function.as_deref().is_none_or(str::is_empty)
        && frame.abs_path.as_deref().is_some_and(is_url)
    {
        component.disable("discarded because from URL origin");
    }
    Some(component)
}

fn function_component(frame: &Frame, platform: &str, context_line_contributes: bool) -> Component {
    let name = if platform == "csharp" {
        frame.raw_function.as_deref().or(frame.function.as_deref())
    } else {
        frame.function.as_deref().or(frame.raw_function.as_deref())
    };
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Component::empty("function");
    };
    let mut component = Component::text("function", name);
    match (platform, Family::of(platform)) {
        ("ruby", _) => {
            if name.starts_with("block ") {
                component.set_values(vec![ComponentValue::Text("block".to_owned())]);
                component.hint = Some("ruby block".to_owned());
            } else {
                let cleaned = RUBY_ERB_SUFFIX.replace(name, "");
                if cleaned != name {
                    component.set_values(vec![ComponentValue::Text(cleaned.into_owned())]);
                    component.hint = Some("removed generated erb template suffix".to_owned());
                }
            }
        }
        ("php", _) => {
            if name.starts_with("[Anonymous") || name.starts_with("class@anonymous\0") {
                component.disable("ignored anonymous function");
            }
            if name.starts_with("class@anonymous") {
                let method = name.rsplit("::").next().unwrap_or(name);
                component.set_values(vec![ComponentValue::Text(method.to_owned())]);
                component.hint = Some("anonymous class method".to_owned());
            }
        }
        ("java", _) if name.starts_with("lambda$") => {
            component.disable("ignored java lambda");
        }
        (_, Family::Native) if name == "<redacted>" || name == "<unknown>" => {
            component.disable("ignored unknown function");
        }
        (_, Family::Javascript) => {
            let trimmed = name.rsplit('.').next().unwrap_or(name);
            if trimmed != name {
                component.set_values(vec![ComponentValue::Text(trimmed.to_owned())]);
                component.hint = Some("trimmed javascript function".to_owned());
            }
            let sourcemapped = frame
                .data
                .as_ref()
                .is_some_and(|data| data.contains_key("sourcemap"));
            if sourcemapped && context_line_contributes {
                component.disable("ignored because sourcemap used and context line available");
            }
        }
        _ => {}
    }
    component
}

/// Builds the component of one frame, before any stack-level rule.
pub(super) fn frame_component(frame: &Frame, event_platform: &str) -> Component {
    let platform = frame_platform(frame, event_platform);
    let module = module_component(frame, platform);
    let mut filename = filename_component(frame, platform);
    if module.contributes {
        filename.disable("module takes precedence");
    }
    let context_line = context_line_component(frame, platform);
    let context_line_contributes = context_line.as_ref().is_some_and(|line| line.contributes);
    let mut function = function_component(frame, platform, context_line_contributes);

    let mut low_quality = false;
    if Family::of(platform) == Family::Javascript {
        let raw = frame
            .raw_function
            .as_deref()
            .or(frame.function.as_deref())
            .unwrap_or_default();
        let name = raw.rsplit('.').next().unwrap_or(raw);
        if name.is_empty() {
            function.contributes = false;
        } else if matches!(
            name,
            "?" | "<anonymous function>" | "<anonymous>" | "Anonymous function"
        ) || name.ends_with("/<")
        {
            function.disable("ignored unknown function name");
        }
        let low_quality_path = frame.abs_path.as_deref().is_some_and(|path| {
            matches!(
                path,
                "[native code]" | "native code" | "eval code" | "<anonymous>"
            )
        });
        low_quality = name == "eval" || low_quality_path;
    }

    let mut values = vec![
        ComponentValue::Component(module),
        ComponentValue::Component(filename),
        ComponentValue::Component(function),
    ];
    values.extend(context_line.map(ComponentValue::Component));
    let mut component = Component::new("frame", values);
    if low_quality {
        component.disable("ignored low quality javascript frame");
    }
    component
}

/// Whether two consecutive frames are the same call (recursion): equal in
/// every field that identifies a call site.
pub(super) fn is_recursion(frame: &Frame, previous: &Frame) -> bool {
    frame.abs_path == previous.abs_path
        && frame.package == previous.package
        && frame.module == previous.module
        && frame.filename == previous.filename
        && frame.function == previous.function
        && frame.lineno == previous.lineno
        && frame.colno == previous.colno
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(json: &str) -> Frame {
        serde_json::from_str(json).unwrap()
    }

    fn values(component: &Component) -> Vec<String> {
        component.contributing_values()
    }

    #[test]
    fn module_wins_over_filename_and_lines_do_not_count() {
        let component = frame_component(
            &frame(
                r#"{"module":"app.views","filename":"app/views.py","function":"index","lineno":3,"context_line":"  return  x"}"#,
            ),
            "python",
        );
        assert_eq!(values(&component), vec!["app.views", "index", "return x"]);
    }

    #[test]
    fn filename_is_lowercased_basename_unless_url() {
        let component = frame_component(
            &frame(r#"{"filename":"C:\\App\\Main.CS","function":"Run"}"#),
            "csharp",
        );
        assert_eq!(values(&component), vec!["main.cs", "Run"]);
        let component = frame_component(
            &frame(r#"{"filename":"app.js","abs_path":"https://x.io/app.js","function":"a.b.go"}"#),
            "javascript",
        );
        assert_eq!(values(&component), vec!["go"]);
    }

    #[test]
    fn java_generated_code_is_cleaned() {
        let component = frame_component(
            &frame(
                r#"{"module":"com.x.Foo$$EnhancerBySpringCGLIB$$abc123","function":"lambda$run$0"}"#,
            ),
            "java",
        );
        assert_eq!(
            values(&component),
            vec!["com.x.Foo$$EnhancerBySpringCGLIB$$<auto>"]
        );
    }

    #[test]
    fn low_quality_javascript_frames_are_off() {
        let component = frame_component(
            &frame(r#"{"function":"eval","filename":"x.js"}"#),
            "javascript",
        );
        assert!(!component.contributes);
    }

    #[test]
    fn long_context_lines_do_not_count() {
        let line = "x".repeat(121);
        let component = frame_component(
            &frame(&format!(r#"{{"function":"f","context_line":"{line}"}}"#)),
            "python",
        );
        assert_eq!(values(&component), vec!["f"]);
    }
}
