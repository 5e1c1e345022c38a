//! Function-name trimming for grouping (spec section 6).
//!
//! Symbolicated native frames carry full signatures: return types, argument
//! lists, template arguments, `const` qualifiers, compiler-specific lambda
//! names, Rust trait impls and hash suffixes. All of these vary between
//! builds, compilers and platforms while the function stays the same, so
//! Sentry groups on a trimmed name (`DispatchEvent(char const *) const` ->
//! `DispatchEvent`). [`trim_function_name`] reproduces Sentry's trimming so
//! that our hashes match: it runs during normalization when the SDK sent no
//! `raw_function`, and when rules match `function:`.
//!
//! Only C# (argument lists) and the native family (`native`, `c`, `objc`,
//! `cocoa`, `swift`) are trimmed; other platforms keep their names.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{NoExpand, Regex};

use crate::grouping::platform::Family;

/// Stand-in for `<` of a protected operator; bracket matching ignores it.
const LT: char = '\u{27e8}';
/// Stand-in for `()` of `operator()`.
const CALL: char = '\u{25ef}';
/// Stand-in for `->` of `operator->` and of a return-type arrow.
const ARROW: char = '\u{27ff}';
/// The return-type arrow as a token of its own.
const ARROW_TOKEN: &str = "\u{27ff}";
/// Stand-in for MSVC's `` `anonymous namespace' ``, whose quote and space
/// would otherwise split tokens.
const ANON_NAMESPACE: &str = "\u{3014}anonymousnamespace\u{3015}";

/// [`ANON_NAMESPACE`] as a path segment.
const ANON_NAMESPACE_PATH: &str = "\u{3014}anonymousnamespace\u{3015}::";
/// Nesting depth of leading `<...>` groups beyond which they are left as is
/// (protects the stack from hostile input; real names nest a few levels).
const MAX_GENERICS_DEPTH: usize = 64;

/// GCC's `[clone .constprop.0]`-style annotations, with the whitespace
/// (Python's notion, as everywhere here) before them.
static CLONE_ANNOTATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\s\x1c-\x1f]*\[clone[\s\x1c-\x1f][^\]]*\]")
        .expect("invariant: the clone pattern compiles")
});

/// A trailing C++ `const` qualifier or reference marker.
static CPP_TRAILER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\bconst\b|&)$").expect("invariant: the trailer pattern compiles")
});

/// Compiler-generated lambda names: gcc `{lambda(int)#1}`, msvc
/// `lambda_<32 hex>`, clang `$_0`.
const LAMBDA: &str = r"\{lambda\(.*?\)#\d+\}|\blambda_[a-f0-9]{32}\b|\$_\d+\b";

/// [`LAMBDA`] anywhere.
static LAMBDA_ANYWHERE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(LAMBDA).expect("invariant: the lambda pattern compiles"));

/// [`LAMBDA`] at the start.
static LAMBDA_AT_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^(?:{LAMBDA})")).expect("invariant: the lambda pattern compiles")
});

/// MSVC's hashed anonymous namespace of inline functions.
static MSVC_ANON_NAMESPACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\?A0x[a-f0-9]{8}::").expect("invariant: the namespace pattern compiles")
});

/// A Rust blanket impl's type parameter (`T as `) before the trait.
static RUST_BLANKET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z] as ").expect("invariant: the blanket pattern compiles"));

/// The hash suffix of legacy Rust symbols.
static RUST_HASH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"::h[0-9a-f]{16}$").expect("invariant: the hash pattern compiles")
});

/// A GNU symbol version (`@GLIBC_2.2.5`, `@@GLIBC_2.3.2`).
static GNU_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"@@?GLIBC_[0-9.]+$").expect("invariant: the version pattern compiles")
});

/// A Windows `stdcall`/`fastcall` decoration (`_foo@12`, `@foo@8`).
static WINDOWS_DECORATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^@?(.*?)@[0-9]+$").expect("invariant: the decoration pattern compiles")
});

/// Returns the name Sentry groups a frame's function on.
///
/// `csharp` loses its argument list, native-family platforms get the full
/// native trimming, and every other platform keeps `function` unchanged.
pub fn trim_function_name(function: &str, platform: &str) -> String {
    if platform == "csharp" {
        return trim_csharp_function_name(function).to_owned();
    }
    if Family::of(platform) == Family::Native {
        return trim_native_function_name(function, platform);
    }
    function.to_owned()
}

/// Cuts a .NET/Unity name at its argument list (`Invoke ()` -> `Invoke`).
fn trim_csharp_function_name(function: &str) -> &str {
    function.split_once(" (").map_or(function, |(name, _)| name)
}

/// Sentry's `trim_native_function_name`.
fn trim_native_function_name(function: &str, platform: &str) -> String {
    if function == "<redacted>" || function == "<unknown>" {
        return function.to_owned();
    }
    let stripped = function.trim_matches(is_py_space);
    // Objective-C method names are already canonical, and their brackets
    // and spaces would confuse the tokenizer.
    if stripped.starts_with('[') || stripped.starts_with("+[") || stripped.starts_with("-[") {
        return stripped.to_owned();
    }

    let name = simplify_signature(stripped);
    let is_thunk = name.contains("thunk for ");
    let mut tokens = split_func_tokens(&name);
    rejoin_msvc_generic_operator(&mut tokens);
    let Some((index, token)) = pick_function_token(&tokens) else {
        // Nothing left (e.g. just `const`): keep the name as sent.
        return function.to_owned();
    };
    let token = name_swift_closures(token, index, &tokens, platform, is_thunk);
    strip_symbol_suffixes(&restore_operators(&token))
}

/// Steps 1 to 7 of the spec: drops clone annotations, trailers, argument
/// lists and template arguments, and normalizes lambdas and anonymous
/// namespaces, leaving operators protected.
fn simplify_signature(name: &str) -> String {
    let mut name = CLONE_ANNOTATION.replace_all(name, "").into_owned();
    name = strip_cpp_trailers(&name).to_owned();
    name = protect_operators(&name);
    name = regex_replace(name, &LAMBDA_ANYWHERE, "lambda");
    name = regex_replace(name, &MSVC_ANON_NAMESPACE, ANON_NAMESPACE_PATH);
    name = replace_enclosed(&name, '(', ')', &mut |inner, _| keep_special_parens(inner));
    replace_enclosed(&name, '<', '>', &mut |inner, start| {
        simplify_generics(inner, start, 0)
    })
}

/// Replaces every match of `regex` with `replacement` (taken literally),
/// keeping `text` when nothing matches.
fn regex_replace(text: String, regex: &Regex, replacement: &str) -> String {
    match regex.replace_all(&text, NoExpand(replacement)) {
        Cow::Owned(replaced) => replaced,
        Cow::Borrowed(_) => text,
    }
}

/// `str::replace`, without a copy when `from` does not occur.
fn replace(text: String, from: &str, to: &str) -> String {
    if text.contains(from) {
        text.replace(from, to)
    } else {
        text
    }
}

/// Names Swift's anonymous functions, which demangle without a name of
/// their own.
///
/// On `cocoa`/`swift`, a Swift attribute (`@callee_guaranteed`) picked as
/// the name means an anonymous function: `closure`, or `thunk for closure`.
/// A separate `closure` token (`closure #1 () in foo()`) prefixes the
/// enclosing function with `closure in `. The spec lists the prefix under
/// the Swift step; Sentry's own tests run it with platform `native`, so it
/// applies to the whole native family here.
fn name_swift_closures(
    token: String,
    index: usize,
    tokens: &[String],
    platform: &str,
    is_thunk: bool,
) -> String {
    let mut token = token;
    if matches!(platform, "cocoa" | "swift") && token.starts_with('@') {
        token = if is_thunk {
            "thunk for closure"
        } else {
            "closure"
        }
        .to_owned();
    }
    let in_closure = tokens
        .iter()
        .enumerate()
        .any(|(i, other)| other == "closure" && i != index);
    if in_closure && token != "closure" {
        token = format!("closure in {token}");
    }
    token
}

/// Python's `str.isspace` for one character.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Removes trailing `const` qualifiers and `&` markers, repeatedly.
fn strip_cpp_trailers(mut name: &str) -> &str {
    while let Some(found) = CPP_TRAILER.find(name) {
        name = name
            .get(..found.start())
            .unwrap_or_default()
            .trim_end_matches(is_py_space);
    }
    name
}

/// Replaces operator spellings and MSVC's anonymous namespace, whose `<`,
/// `()`, `->`, quote and space would break bracket matching and tokenizing.
fn protect_operators(name: &str) -> String {
    let mut name = name.to_owned();
    // Most names have no operator: skip the searches.
    if name.contains("operator") {
        name = replace(name, "operator<<", &format!("operator{LT}{LT}"));
        name = replace(name, "operator<", &format!("operator{LT}"));
        name = replace(name, "operator()", &format!("operator{CALL}"));
        name = replace(name, "operator->", &format!("operator{ARROW}"));
    }
    name = replace(name, " -> ", &format!(" {ARROW} "));
    replace(name, "`anonymous namespace'", ANON_NAMESPACE)
}

/// Undoes [`protect_operators`].
fn restore_operators(name: &str) -> String {
    let name = name.to_owned();
    // The protected spellings are not ASCII.
    if name.is_ascii() {
        return name;
    }
    let name = replace(name, &LT.to_string(), "<");
    let name = replace(name, &CALL.to_string(), "()");
    let name = replace(name, &ARROW.to_string(), "->");
    replace(name, ANON_NAMESPACE, "`anonymous namespace'")
}

/// Strips a Rust hash, a GNU symbol version and a Windows decoration.
fn strip_symbol_suffixes(name: &str) -> String {
    let name = RUST_HASH.replace(name, "");
    let name = GNU_VERSION.replace(&name, "");
    WINDOWS_DECORATION.replace(&name, "$1").into_owned()
}

/// Replaces each top-level `open ... close` group of `text` with what
/// `replacement` returns for its inner text and the group's start offset.
///
/// Mirrors Sentry's helper exactly, quirks included: text without `open` is
/// returned as is; otherwise a stray `close` sends the depth negative and
/// drops text until the depth is back to zero, and an unclosed group drops
/// the rest.
fn replace_enclosed(
    text: &str,
    open: char,
    close: char,
    replacement: &mut dyn FnMut(&str, usize) -> String,
) -> String {
    if !text.contains(open) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut depth: i64 = 0;
    let mut group_start = 0;
    for (index, c) in text.char_indices() {
        if c == open {
            if depth == 0 {
                group_start = index;
            }
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                // `open` is one byte, so the inner text starts right after it.
                let inner = text.get(group_start + 1..index).unwrap_or_default();
                out.push_str(&replacement(inner, group_start));
            }
        } else if depth == 0 {
            out.push(c);
        }
    }
    out
}

/// Argument lists disappear, except `(anonymous namespace)` (part of the
/// name) and `(operator)`.
fn keep_special_parens(inner: &str) -> String {
    let inner = inner.trim_matches(is_py_space);
    if inner == "anonymous namespace" || inner == "operator" {
        format!("({inner})")
    } else {
        String::new()
    }
}

/// Rewrites one `<...>` group: lambda markers stay, template arguments
/// become `<T>`, and a group that starts the name is Rust's
/// `<Type as Trait>::method` form, which becomes the type (the trait for a
/// blanket impl `<T as Trait>`).
fn simplify_generics(inner: &str, start: usize, depth: usize) -> String {
    if inner == "lambda" || LAMBDA_AT_START.is_match(inner) {
        return format!("<{inner}>");
    }
    if start > 0 {
        return "<T>".to_owned();
    }
    if depth >= MAX_GENERICS_DEPTH {
        return inner.to_owned();
    }
    let inner = RUST_BLANKET.replace(inner, "");
    let inner = replace_enclosed(&inner, '<', '>', &mut |nested, nested_start| {
        simplify_generics(nested, nested_start, depth + 1)
    });
    inner
        .split_once(" as ")
        .map_or(inner.as_str(), |(ty, _)| ty)
        .to_owned()
}

/// Splits at whitespace outside brackets (`()`, `{}`, `[]`, `<>`), like
/// Sentry's `split_func_tokens`: a bracket group sticks to the token it
/// touches, and an unclosed group at the end is dropped.
fn split_func_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut expected_closers: Vec<char> = Vec::new();
    let mut group_start = 0;
    for (index, c) in text.char_indices() {
        if let Some(closer) = closing_bracket(c) {
            if expected_closers.is_empty() {
                group_start = index;
            }
            expected_closers.push(closer);
        } else if expected_closers.last() == Some(&c) {
            expected_closers.pop();
            if expected_closers.is_empty() {
                let end = index + c.len_utf8();
                current.push_str(text.get(group_start..end).unwrap_or_default());
            }
        } else if expected_closers.is_empty() {
            if is_py_space(c) {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            } else {
                current.push(c);
            }
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// The closing bracket for an opening one.
fn closing_bracket(c: char) -> Option<char> {
    match c {
        '(' => Some(')'),
        '{' => Some('}'),
        '[' => Some(']'),
        '<' => Some('>'),
        _ => None,
    }
}

/// MSVC demangles generic operators with a space (`operator<< <T>`): keep
/// the generic part with the operator.
fn rejoin_msvc_generic_operator(tokens: &mut Vec<String>) {
    if tokens.len() > 1 && tokens.last().is_some_and(|last| last == "<T>") {
        tokens.pop();
        if let Some(last) = tokens.last_mut() {
            last.push_str(" <T>");
        }
    }
}

/// Picks the token that names the function, with its index: for a Swift
/// initializer expression the variable; else the token before the last
/// return arrow (skipping `throws`); else the last token.
fn pick_function_token(tokens: &[String]) -> Option<(usize, String)> {
    if let Some(found) = initializer_expression(tokens) {
        return Some(found);
    }
    let index = match tokens.iter().rposition(|token| token == ARROW_TOKEN) {
        Some(arrow) => {
            let mut before = arrow.checked_sub(1);
            if let Some(i) = before.filter(|&i| tokens.get(i).is_some_and(|t| t == "throws")) {
                before = i.checked_sub(1);
            }
            // Sentry indexes with `i - 1` in Python, where -1 wraps to the
            // last token.
            before.or(tokens.len().checked_sub(1))?
        }
        None => tokens.len().checked_sub(1)?,
    };
    tokens.get(index).map(|token| (index, token.clone()))
}

/// Swift's `variable initialization expression of static Type.var : Type`
/// becomes `initializer expression of Type.var`.
fn initializer_expression(tokens: &[String]) -> Option<(usize, String)> {
    let of = tokens.windows(3).position(|window| {
        matches!(window, [a, b, c] if a == "initialization" && b == "expression" && c == "of")
    })? + 2;
    let (index, variable) = tokens
        .iter()
        .enumerate()
        .skip(of + 1)
        .find(|(_, token)| *token != "static")?;
    // `(extension in Module):Type.var` has lost its parenthesized part.
    let variable = variable.trim_start_matches(':');
    if variable.is_empty() {
        return None;
    }
    Some((index, format!("initializer expression of {variable}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_namespace_path_is_the_stand_in_with_a_separator() {
        assert_eq!(ANON_NAMESPACE_PATH, format!("{ANON_NAMESPACE}::"));
    }

    fn native(function: &str) -> String {
        trim_function_name(function, "native")
    }

    #[test]
    fn other_platforms_are_unchanged() {
        for platform in ["python", "javascript", "java", "other", ""] {
            assert_eq!(
                trim_function_name("foo(int) const", platform),
                "foo(int) const"
            );
        }
    }

    #[test]
    fn csharp_drops_the_argument_list() {
        assert_eq!(
            trim_function_name("UnityEngine.Events.InvokableCall.Invoke ()", "csharp"),
            "UnityEngine.Events.InvokableCall.Invoke"
        );
        assert_eq!(
            trim_function_name(
                "UnityEngine.EventSystems.ExecuteEvents.Execute[T] (UnityEngine.GameObject target, UnityEngine.EventSystems.BaseEventData eventData)",
                "csharp"
            ),
            "UnityEngine.EventSystems.ExecuteEvents.Execute[T]"
        );
        assert_eq!(trim_function_name("Foo(int)", "csharp"), "Foo(int)");
    }

    #[test]
    fn spec_examples() {
        assert_eq!(
            native(
                "Scaleform::GFx::AS3::IMEManager::DispatchEvent(char const *,char const *,char const *)"
            ),
            "Scaleform::GFx::AS3::IMEManager::DispatchEvent"
        );
        assert_eq!(
            native("?A0xc3a0617d::crash"),
            "`anonymous namespace'::crash"
        );
        assert_eq!(
            native("<Foo as Bar>::baz"),
            "Foo::baz",
            "a leading group keeps the type"
        );
        assert_eq!(
            native("std::panicking::try::do_call"),
            "std::panicking::try::do_call"
        );
        assert_eq!(
            native("tokio::runtime::Runtime::enter::{{closure}}::{{closure}}"),
            "tokio::runtime::Runtime::enter::{{closure}}::{{closure}}"
        );
    }

    #[test]
    fn plain_names_stay() {
        assert_eq!(native("function"), "function");
        assert_eq!(
            native("namespace::Class::function"),
            "namespace::Class::function"
        );
        assert_eq!(native("  main  "), "main");
    }

    #[test]
    fn redacted_unknown_and_objc_stay() {
        assert_eq!(native("<redacted>"), "<redacted>");
        assert_eq!(native("<unknown>"), "<unknown>");
        assert_eq!(native("-[Foo bar:]"), "-[Foo bar:]");
        assert_eq!(native("+[FLFoo barBaz]"), "+[FLFoo barBaz]");
        assert_eq!(native("[foo:(bar)]"), "[foo:(bar)]");
        assert_eq!(trim_function_name(" -[Foo bar:] ", "objc"), "-[Foo bar:]");
        assert_eq!(
            trim_function_name(
                "-[UIView(CALayerDelegate) layoutSublayersOfLayer:]",
                "cocoa"
            ),
            "-[UIView(CALayerDelegate) layoutSublayersOfLayer:]"
        );
    }

    #[test]
    fn cpp_signatures() {
        assert_eq!(
            native(
                "static unsigned int Scaleform::GFx::AS3::IMEManager::DispatchEvent(char const *,char const *,char const *) const"
            ),
            "Scaleform::GFx::AS3::IMEManager::DispatchEvent"
        );
        assert_eq!(
            native("static unsigned int _foo_function (uint32_t,uint32_t) const"),
            "_foo_function"
        );
        assert_eq!(native("Foo::bar() const &"), "Foo::bar");
        assert_eq!(native("Foo::bar() &&"), "Foo::bar");
        assert_eq!(native("foo::bar::foo(int)"), "foo::bar::foo");
        assert_eq!(native(" namespace::const "), "namespace::");
        assert_eq!(native("Foo::constant"), "Foo::constant");
        // Nothing left: the name is kept as sent.
        assert_eq!(native(" const "), " const ");
    }

    #[test]
    fn cpp_templates() {
        assert_eq!(
            native("std::__1::vector<int, std::__1::allocator<int> >::push_back(int const&)"),
            "std::__1::vector<T>::push_back"
        );
        assert_eq!(
            native("(anonymous namespace)::StupidFunction<std::vector<std::string>>(int)"),
            "(anonymous namespace)::StupidFunction<T>"
        );
        assert_eq!(
            native(
                "static <NoType> std::panicking::begin_panic<str*>(struct str*, struct (str*, u32, u32) *)"
            ),
            "std::panicking::begin_panic<T>"
        );
        assert_eq!(
            native(
                "struct style::gecko_bindings::sugar::ownership::Strong<style::gecko_bindings::structs::root::RawServoStyleSheetContents> geckoservo::glue::Servo_StyleSheet_Empty(style::gecko_bindings::structs::root::mozilla::css::SheetParsingMode) const"
            ),
            "geckoservo::glue::Servo_StyleSheet_Empty"
        );
        assert_eq!(
            native(
                "std::__1::basic_string<char, std::__1::char_traits<char>, std::__1::allocator<char> >::~basic_string()"
            ),
            "std::__1::basic_string<T>::~basic_string"
        );
        // A leading group without ` as ` keeps its (simplified) content.
        assert_eq!(native("<stripped application code>"), "code");
    }

    #[test]
    fn anonymous_namespaces() {
        assert_eq!(
            native("(anonymous namespace)::start()"),
            "(anonymous namespace)::start"
        );
        assert_eq!(
            native("(anonymous namespace)::foo(int)"),
            "(anonymous namespace)::foo"
        );
        assert_eq!(
            native("`anonymous namespace'::crash(int)"),
            "`anonymous namespace'::crash"
        );
        assert_eq!(
            native("?A0x12345678::Foo::bar"),
            "`anonymous namespace'::Foo::bar"
        );
        // Only the hashed form followed by `::` is rewritten.
        assert_eq!(native("?A0x1234567::foo"), "?A0x1234567::foo");
    }

    #[test]
    fn operators() {
        assert_eq!(
            native(
                "v8::internal::operator<<(std::__1::basic_ostream<char, std::__1::char_traits<char> >&, v8::internal::MaybeObjectBrief const&)"
            ),
            "v8::internal::operator<<"
        );
        assert_eq!(
            native(
                "unsigned int (anonymous namespace)::operator<<(std::__1::basic_ostream<char, std::__1::char_traits<char> >&, v8::internal::MaybeObjectBrief const&)"
            ),
            "(anonymous namespace)::operator<<"
        );
        assert_eq!(
            native(
                "unsigned int mynamespace::MyClass::operator()(std::__1::basic_ostream<char, std::__1::char_traits<char> >&, v8::internal::MaybeObjectBrief const&)"
            ),
            "mynamespace::MyClass::operator()"
        );
        assert_eq!(
            native(
                "std::basic_ostream<char, std::char_traits<char> >& std::operator<< <std::char_traits<char> >(std::basic_ostream<char, std::char_traits<char> >&, char)"
            ),
            "std::operator<< <T>"
        );
        assert_eq!(
            native("std::__1::unique_ptr<X,std::default_delete<X> >::operator->"),
            "std::__1::unique_ptr<T>::operator->"
        );
        assert_eq!(native("Foo::operator<(Foo const&) const"), "Foo::operator<");
        assert_eq!(native("Foo::operator==(Foo const&)"), "Foo::operator==");
    }

    #[test]
    fn lambdas() {
        assert_eq!(native("main::{lambda(int)#1}"), "main::lambda");
        assert_eq!(native("main::{lambda()#42}"), "main::lambda");
        assert_eq!(
            native("main::{lambda(int)#1}::operator()(int) const"),
            "main::lambda::operator()"
        );
        assert_eq!(native("lambda_7156c3ceaa11256748687ab67e3ef4cd"), "lambda");
        assert_eq!(
            native("<lambda_7156c3ceaa11256748687ab67e3ef4cd>::operator()"),
            "<lambda>::operator()"
        );
        assert_eq!(
            native("Foo::<lambda_7156c3ceaa11256748687ab67e3ef4cd>::operator()"),
            "Foo::<lambda>::operator()"
        );
        assert_eq!(native("main::$_0"), "main::lambda");
        assert_eq!(native("main::$_42"), "main::lambda");
        assert_eq!(native("main::$_42x"), "main::$_42x");
    }

    #[test]
    fn gcc_clone_annotations() {
        assert_eq!(
            native("trigger_crash_a(int*) [clone .constprop.0]"),
            "trigger_crash_a"
        );
        assert_eq!(
            native("ShellCorona::screenInvariants() const [clone .cold]"),
            "ShellCorona::screenInvariants"
        );
        assert_eq!(native("foo(int) [clone .isra.0] [clone .cold]"), "foo");
        // Other bracket groups stay.
        assert_eq!(native("foo[abi:cxx11]"), "foo[abi:cxx11]");
    }

    #[test]
    fn rust_names() {
        assert_eq!(
            native(
                "<actix_web::pipeline::Pipeline<S, H> as actix_web::server::handler::HttpHandlerTask>::poll_io"
            ),
            "actix_web::pipeline::Pipeline<T>::poll_io"
        );
        assert_eq!(
            native("<tokio_current_thread::scheduler::Scheduled<'a, U>>::tick"),
            "tokio_current_thread::scheduler::Scheduled<T>::tick"
        );
        assert_eq!(
            native(
                "<std::panic::AssertUnwindSafe<F> as core::ops::function::FnOnce<()>>::call_once"
            ),
            "std::panic::AssertUnwindSafe<T>::call_once"
        );
        // Blanket impls name the trait.
        assert_eq!(
            native("<T as core::convert::Into<U>>::into"),
            "core::convert::Into<T>::into"
        );
        assert_eq!(
            native("<F as alloc::boxed::FnBox<A>>::call_box"),
            "alloc::boxed::FnBox<T>::call_box"
        );
        assert_eq!(
            native("namespace::function::h9de5fbebc1652d47"),
            "namespace::function"
        );
        assert_eq!(
            native(
                "<actix::contextimpl::ContextFut<A, C> as futures::future::Future>::poll::h9de5fbebc1652d47"
            ),
            "actix::contextimpl::ContextFut<T>::poll"
        );
        // Not a 16-digit hex hash.
        assert_eq!(native("foo::h123"), "foo::h123");
        assert_eq!(
            native("foo::hello_world_1234567"),
            "foo::hello_world_1234567"
        );
    }

    #[test]
    fn symbol_versions_and_decorations() {
        assert_eq!(native("memcpy@GLIBC_2.2.5"), "memcpy");
        assert_eq!(
            native("pthread_cond_timedwait@@GLIBC_2.3.2"),
            "pthread_cond_timedwait"
        );
        assert_eq!(native("glob64@GLIBC_2.2"), "glob64");
        assert_eq!(native("_foo@12"), "_foo");
        assert_eq!(native("ThreadStartWhatever@16"), "ThreadStartWhatever");
        assert_eq!(native("@ThreadStartWhatever@16"), "ThreadStartWhatever");
        assert_eq!(native("@foo"), "@foo");
        assert_eq!(native("foo@bar"), "foo@bar");
    }

    #[test]
    fn swift_names() {
        assert_eq!(
            native("@objc ViewController.causeCrash(Any) -> ()"),
            "ViewController.causeCrash"
        );
        assert_eq!(
            native("ViewController.causeCrash(Any) -> SomeObject"),
            "ViewController.causeCrash"
        );
        assert_eq!(
            native("@objc ViewController.causeCrash(Any, Foo -> Bar) -> SomeObject"),
            "ViewController.causeCrash"
        );
        assert_eq!(
            native("static Namespace.ThrowingFunction() throws -> Namespace.ExitValue?"),
            "Namespace.ThrowingFunction"
        );
        assert_eq!(
            trim_function_name("specialized Sequence.compactMap<A>((A.Element))", "cocoa"),
            "Sequence.compactMap<T>"
        );
    }

    #[test]
    fn swift_closures_and_thunks() {
        let cocoa = |name| trim_function_name(name, "cocoa");
        assert_eq!(
            cocoa("thunk for @escaping @callee_guaranteed () -> ()"),
            "thunk for closure"
        );
        assert_eq!(
            cocoa("partial apply for thunk for @callee_guaranteed () -> (@error @owned Error)"),
            "thunk for closure"
        );
        assert_eq!(
            cocoa(
                "thunk for @escaping @callee_guaranteed (@in_guaranteed IndexPath, @guaranteed AnyTableViewController) -> (@owned UITableViewCell)"
            ),
            "thunk for closure"
        );
        assert_eq!(cocoa("@callee_guaranteed () -> ()"), "closure");
        assert_eq!(cocoa("thunk for closure"), "closure");
        assert_eq!(cocoa("closure #1 (T1) in foo(bar: T2)"), "closure in foo");
        assert_eq!(
            cocoa("partial apply for closure #1 () in closure #2 (T1) in f1(_: T2, arg: T3)"),
            "closure in f1"
        );
        assert_eq!(
            cocoa(
                "closure #1 @Swift.MainActor () -> () in static Foo.CallFunction(args: [Swift.String]) -> ()"
            ),
            "closure in Foo.CallFunction"
        );
        // The attribute rule is Swift-only.
        assert_eq!(native("@callee_guaranteed () -> ()"), "@callee_guaranteed");
    }

    #[test]
    fn swift_initializer_expressions() {
        assert_eq!(
            native(
                "variable initialization expression of static Namespace.Class.var : Namespace.Parent"
            ),
            "initializer expression of Namespace.Class.var"
        );
        assert_eq!(
            native(
                "closure #1 @Sendable () -> Swift.String in variable initialization expression of static Namespace.Class.var : Namespace.Parent"
            ),
            "closure in initializer expression of Namespace.Class.var"
        );
        assert_eq!(
            native(
                "closure #1 () -> () in variable initialization expression of static (extension in SpaceCreation):Namespace.Class.var : Namespace.Parent"
            ),
            "closure in initializer expression of Namespace.Class.var"
        );
    }

    #[test]
    fn unbalanced_brackets_do_not_panic() {
        for input in [
            "foo(", "foo)", ")(", "a)b(c)d", "<", ">", "<<<", ">>>", "foo<bar", "foo>bar<",
            "operator", "->", " -> ", "(", "{", "[", "é(ü)ß", "@", "@12", "::h", "\u{27ff}",
        ] {
            let _ = native(input);
            let _ = trim_function_name(input, "cocoa");
        }
        assert_eq!(native("foo(bar"), "foo");
        assert_eq!(native("foo)bar"), "foo)bar");
        assert_eq!(native("a)b(c)d"), "ac");
        let deep = format!("{}x{}::f", "<".repeat(10_000), ">".repeat(10_000));
        let _ = native(&deep);
    }

    #[test]
    fn helpers_follow_sentry() {
        let mut to_t = |_: &str, _: usize| "<T>".to_owned();
        assert_eq!(
            replace_enclosed("foo::bar<Blah, Blah<Blah, Blah>>", '<', '>', &mut to_t),
            "foo::bar<T>"
        );
        assert_eq!(
            replace_enclosed("foo::bar(unsigned int, int)", '(', ')', &mut |_, _| {
                String::new()
            }),
            "foo::bar"
        );
        assert_eq!(
            split_func_tokens("namespace::Class::function"),
            ["namespace::Class::function"]
        );
        assert_eq!(split_func_tokens("foo bar baz"), ["foo", "bar", "baz"]);
        assert_eq!(
            split_func_tokens("foo (enclosed bar) baz"),
            ["foo", "(enclosed bar)", "baz"]
        );
        assert_eq!(
            split_func_tokens("foo(enclosed bar)baz {moar stuff}"),
            ["foo(enclosed bar)baz", "{moar stuff}"]
        );
        assert_eq!(
            split_func_tokens("foo bar [baz (blah)]"),
            ["foo", "bar", "[baz (blah)]"]
        );
        assert_eq!(split_func_tokens("foo <unclosed"), ["foo"]);
    }

    /// The stack traces of a raw event, in the order Sentry's component tree
    /// lists them: exceptions, then the top-level stack trace, then threads.
    fn input_stacktraces(event: &serde_json::Value) -> Vec<&Vec<serde_json::Value>> {
        let mut found = Vec::new();
        let exceptions = match &event["exception"] {
            serde_json::Value::Array(list) => list.iter().collect(),
            serde_json::Value::Object(object) => match object.get("values") {
                Some(serde_json::Value::Array(list)) => list.iter().collect(),
                _ => vec![&event["exception"]],
            },
            _ => Vec::new(),
        };
        for exception in exceptions {
            if let Some(frames) = exception["stacktrace"]["frames"].as_array() {
                found.push(frames);
            }
        }
        if let Some(frames) = event["stacktrace"]["frames"].as_array() {
            found.push(frames);
        }
        let threads = match &event["threads"] {
            serde_json::Value::Array(list) => list.iter().collect(),
            serde_json::Value::Object(object) => object
                .get("values")
                .and_then(|values| values.as_array())
                .map(|list| list.iter().collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        for thread in threads {
            if let Some(frames) = thread["stacktrace"]["frames"].as_array() {
                found.push(frames);
            }
        }
        found
    }

    /// The `stacktrace` components of a tree, depth first.
    fn tree_stacktraces<'a>(
        component: &'a serde_json::Value,
        found: &mut Vec<&'a serde_json::Value>,
    ) {
        if component["id"] == "stacktrace" {
            found.push(component);
            return;
        }
        for child in component["values"].as_array().into_iter().flatten() {
            if child.is_object() {
                tree_stacktraces(child, found);
            }
        }
    }

    /// The function value a frame component shows, if any.
    fn tree_function(frame: &serde_json::Value) -> Option<&str> {
        frame["values"]
            .as_array()?
            .iter()
            .find(|child| child["id"] == "function")?["values"]
            .as_array()?
            .first()?
            .as_str()
    }

    #[test]
    fn corpus_native_function_names() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/grouping/variants/newstyle-2023-01-11"
        );
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        paths.sort();

        let mut seen = std::collections::BTreeSet::new();
        let (mut trimmed_checked, mut unchanged_checked, mut skipped_stacktraces) = (0, 0, 0);
        let mut failures = Vec::new();
        for path in paths {
            let case: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let platform = case["platform"].as_str().unwrap();
            if !matches!(platform, "native" | "cocoa") {
                continue;
            }
            let inputs = input_stacktraces(&case["input"]);
            for variant in case["expected"]["variants"].as_object().unwrap().values() {
                let mut trees = Vec::new();
                tree_stacktraces(&variant["component"], &mut trees);
                if trees.len() != inputs.len() {
                    skipped_stacktraces += trees.len();
                    continue;
                }
                for (st_index, (frames, tree)) in inputs.iter().zip(&trees).enumerate() {
                    let tree_frames: Vec<_> = tree["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|child| child["id"] == "frame")
                        .collect();
                    // A frame whose components are all empty is not printed,
                    // which breaks positional matching.
                    if tree_frames.len() != frames.len() {
                        skipped_stacktraces += 1;
                        continue;
                    }
                    for (frame_index, (frame, component)) in
                        frames.iter().zip(tree_frames).enumerate()
                    {
                        // With `raw_function` sent, Sentry does not trim.
                        if frame.get("raw_function").is_some() {
                            continue;
                        }
                        let (Some(raw), Some(expected)) =
                            (frame["function"].as_str(), tree_function(component))
                        else {
                            continue;
                        };
                        let key = (path.clone(), st_index, frame_index);
                        if !seen.insert(key) {
                            continue;
                        }
                        let frame_platform = frame["platform"].as_str().unwrap_or(platform);
                        let ours = trim_function_name(raw, frame_platform);
                        if raw == expected {
                            unchanged_checked += 1;
                        } else {
                            trimmed_checked += 1;
                        }
                        if ours != expected {
                            failures.push(format!(
                                "{}: {raw:?} -> {ours:?}, expected {expected:?}",
                                path.display()
                            ));
                        }
                    }
                }
            }
        }
        println!(
            "function trimming: {trimmed_checked} trimmed and {unchanged_checked} unchanged corpus frames checked, {} failed, {skipped_stacktraces} stack traces skipped",
            failures.len()
        );
        assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
        assert!(
            trimmed_checked >= 40,
            "too few trimmed frames: {trimmed_checked}"
        );
        assert_eq!(skipped_stacktraces, 0);
    }
}
