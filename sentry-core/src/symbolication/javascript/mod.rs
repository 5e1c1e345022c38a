//! JavaScript symbolication: frames of minified code rewritten to the
//! original file, line, column and function through source maps.
//!
//! The caller finds, for each minified file an event's frames point at
//! ([`prepare`]), its source map: by the debug ID the event's `debug_meta`
//! gives the file, else by the event's release and distribution and the
//! file's URL. It hands over each found map as a [`SourceMapModule`] (a
//! lookup cache built once by [`SourceMapModule::build`], kept by the
//! caller), and [`symbolicate`] rewrites the frames: file, line, column,
//! function (the original name of the enclosing scope), the lines around
//! the original line, `in_app` for code under `node_modules`, and
//! `data.sourcemap`, `data.resolved_with` and `data.symbolicated`. The
//! frames as they came are kept in the exception's or thread's
//! `raw_stacktrace`. What could not be done is recorded in the event's
//! `errors`, as Sentry records it; the event itself is never refused.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use symbolic_sourcemapcache::{ScopeLookupResult, SourceMapCache, SourcePosition};
use uuid::Uuid;

use super::context::context_lines;
use super::{push_error, stacktraces_mut, urls};
use crate::protocol::{Event, Frame};

/// Function names that say nothing; the caller's name for the call is
/// better when there is one.
const USELESS_NAMES: [&str; 3] = ["<anonymous>", "__webpack_require__", "__webpack_modules__"];

/// A minified file an event's frames point at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModuleRef {
    /// The file's URL or path, as the frames give it.
    pub abs_path: String,
    /// Its debug ID, from the event's `debug_meta` (`sourcemap` images).
    pub debug_id: Option<Uuid>,
}

/// How a source map was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolvedWith {
    /// By the minified file's debug ID.
    DebugId,
    /// By the event's release (and distribution) and the file's URL.
    Release,
}

impl ResolvedWith {
    /// The name Sentry gives it in `data.resolved_with`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DebugId => "debug-id",
            Self::Release => "release",
        }
    }
}

/// Why a source map could not be built.
#[derive(Debug, thiserror::Error)]
#[error("invalid source map: {0}")]
pub struct SourceMapError(String);

/// A source map ready for lookups: its lookup cache and where it came
/// from.
#[derive(Debug, Clone)]
pub struct SourceMapModule {
    cache: Arc<[u8]>,
    /// The source map's URL; the sources it names resolve against it.
    pub source_map_url: String,
    /// How it was found.
    pub resolved_with: ResolvedWith,
}

impl SourceMapModule {
    /// Builds the lookup cache of a minified file and its source map.
    ///
    /// # Errors
    ///
    /// Fails when the source map is not a valid source map.
    pub fn build(minified: &str, source_map: &str) -> Result<Vec<u8>, SourceMapError> {
        let writer = symbolic_sourcemapcache::SourceMapCacheWriter::new(minified, source_map)
            .map_err(|error| SourceMapError(error.to_string()))?;
        let mut cache = Vec::new();
        writer
            .serialize(&mut cache)
            .map_err(|error| SourceMapError(error.to_string()))?;
        Ok(cache)
    }

    /// Wraps a cache that [`SourceMapModule::build`] made.
    ///
    /// # Errors
    ///
    /// Fails when the bytes are not such a cache (a damaged cache file).
    pub fn from_cache(
        cache: Arc<[u8]>,
        source_map_url: String,
        resolved_with: ResolvedWith,
    ) -> Result<Self, SourceMapError> {
        SourceMapCache::parse(&cache).map_err(|error| SourceMapError(error.to_string()))?;
        Ok(Self {
            cache,
            source_map_url,
            resolved_with,
        })
    }

    /// The size of its cache, in bytes.
    pub fn size(&self) -> usize {
        self.cache.len()
    }
}

/// What was found for one minified file.
#[derive(Debug, Clone)]
pub enum ModuleLookup {
    /// Its source map.
    Found(SourceMapModule),
    /// The minified file itself was not found.
    MissingSource,
    /// The minified file was found but its source map was not.
    MissingSourceMap,
    /// The source map was found but is not valid.
    MalformedSourceMap {
        /// The source map's URL.
        url: String,
    },
}

/// Whether an event's frames are JavaScript's.
pub fn is_javascript(event: &Event) -> bool {
    matches!(event.platform.as_deref(), Some("javascript" | "node"))
}

/// Whether this is a frame of Node's own code (`node:internal/...`,
/// `events.js`), which no source map covers; only Node events have them.
fn is_node_builtin(node: bool, abs_path: &str) -> bool {
    if !node {
        return false;
    }
    let bytes = abs_path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    !(abs_path.starts_with('/')
        || abs_path.starts_with("app:")
        || abs_path.starts_with("webpack:")
        || drive)
}

/// Whether a frame's file is native code or Node's own.
fn is_builtin(node: bool, abs_path: &str) -> bool {
    matches!(abs_path, "native" | "[native code]") || is_node_builtin(node, abs_path)
}

/// The minified file and line of a frame this module handles.
fn handled(node: bool, frame: &Frame) -> Option<(String, u64)> {
    let abs_path = frame.abs_path.as_deref().filter(|path| !path.is_empty())?;
    let line = frame.lineno.filter(|&line| line > 0)?;
    if is_builtin(node, abs_path) {
        return None;
    }
    Some((abs_path.to_owned(), line))
}

fn is_node(event: &Event) -> bool {
    event.platform.as_deref() == Some("node")
}

/// The debug IDs of the event's `sourcemap` images, by file.
fn debug_ids(event: &Event) -> HashMap<&str, Uuid> {
    let images = event
        .debug_meta
        .as_ref()
        .and_then(|meta| meta.images.as_deref())
        .unwrap_or_default();
    images
        .iter()
        .filter(|image| image.get("type").and_then(Value::as_str) == Some("sourcemap"))
        .filter_map(|image| {
            let file = image.get("code_file").and_then(Value::as_str)?;
            let id = image.get("debug_id").and_then(Value::as_str)?;
            Some((file, super::artifact_bundle::parse_debug_id(id)?))
        })
        .collect()
}

fn all_frames(event: &Event) -> impl Iterator<Item = &Frame> {
    let exceptions = event
        .exceptions()
        .iter()
        .filter_map(|e| e.stacktrace.as_ref());
    let threads = event
        .threads
        .iter()
        .flat_map(|threads| threads.values.iter())
        .filter_map(|thread| thread.stacktrace.as_ref());
    exceptions
        .chain(threads)
        .chain(event.stacktrace.as_ref())
        .flat_map(|stacktrace| stacktrace.frames.iter())
}

/// Completes the paths of the event's frames (as Relay's normalization
/// does: `abs_path` from `filename` and back) and lists the minified files
/// they point at, each once, in the order first met; lists nothing unless
/// the event is JavaScript's.
pub fn prepare(event: &mut Event) -> Vec<ModuleRef> {
    if !is_javascript(event) {
        return Vec::new();
    }
    for (stacktrace, _) in stacktraces_mut(event) {
        for frame in &mut stacktrace.frames {
            frame.complete_paths();
        }
    }
    let ids = debug_ids(event);
    let node = is_node(event);
    let mut found: Vec<ModuleRef> = Vec::new();
    for frame in all_frames(event) {
        let Some((abs_path, _)) = handled(node, frame) else {
            continue;
        };
        if found.iter().all(|module| module.abs_path != abs_path) {
            let debug_id = ids.get(abs_path.as_str()).copied();
            found.push(ModuleRef { abs_path, debug_id });
        }
    }
    found
}

/// What [`symbolicate`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Frames rewritten through a source map.
    pub symbolicated: usize,
    /// Frames it handles that could not be rewritten.
    pub unsymbolicated: usize,
}

/// Rewrites the event's JavaScript frames, their paths completed by
/// [`prepare`], through the source maps found
/// for their files (`lookups`, by the `abs_path` of [`prepare`]; a file
/// missing from it was not looked up and is left as it is).
pub fn symbolicate(event: &mut Event, lookups: &HashMap<String, ModuleLookup>) -> Outcome {
    let mut outcome = Outcome::default();
    if !is_javascript(event) {
        return outcome;
    }
    let node = is_node(event);
    let mut errors: Vec<Value> = Vec::new();
    for (stacktrace, raw_slot) in stacktraces_mut(event) {
        let raw = stacktrace.clone();
        let mut rewritten = false;
        let mut callee_name: Option<String> = None;
        for frame in &mut stacktrace.frames {
            // The name the previous frame (the caller) gave its call.
            let called_as = callee_name.take();
            let Some((abs_path, line)) = handled(node, frame) else {
                // Node's own code and native frames are never the app's.
                if frame
                    .abs_path
                    .as_deref()
                    .is_some_and(|path| is_builtin(node, path))
                {
                    frame.in_app = Some(false);
                }
                continue;
            };
            match lookups.get(&abs_path) {
                Some(ModuleLookup::Found(module)) => {
                    match rewrite(frame, module, line, called_as.as_deref()) {
                        Ok(token_name) => {
                            callee_name = token_name;
                            rewritten = true;
                            outcome.symbolicated += 1;
                        }
                        Err(error) => {
                            outcome.unsymbolicated += 1;
                            push_error(&mut errors, error);
                        }
                    }
                }
                Some(ModuleLookup::MalformedSourceMap { url }) => {
                    outcome.unsymbolicated += 1;
                    set_data(frame, "sourcemap", Value::from(url.as_str()));
                    push_error(
                        &mut errors,
                        json!({"type": "js_invalid_source", "url": url}),
                    );
                }
                Some(ModuleLookup::MissingSource | ModuleLookup::MissingSourceMap) => {
                    outcome.unsymbolicated += 1;
                    // Third-party code rarely has its maps uploaded.
                    if !abs_path.contains("node_modules")
                        && !abs_path.starts_with("chrome-extension:")
                    {
                        push_error(
                            &mut errors,
                            json!({"type": "js_no_source", "url": abs_path}),
                        );
                    }
                }
                // Nothing was looked up for it.
                None => {}
            }
        }
        if rewritten {
            if let Some(slot) = raw_slot {
                *slot = Some(raw);
            }
        }
    }
    if !errors.is_empty() {
        event.errors.get_or_insert_with(Vec::new).extend(errors);
    }
    outcome
}

fn set_data(frame: &mut Frame, key: &str, value: Value) {
    frame
        .data
        .get_or_insert_with(Default::default)
        .insert(key.to_owned(), value);
}

/// Rewrites one frame; returns the name of the token at its position (the
/// callee's name, for the next frame) or the error to record.
fn rewrite(
    frame: &mut Frame,
    module: &SourceMapModule,
    line: u64,
    called_as: Option<&str>,
) -> Result<Option<String>, Value> {
    let abs_path = frame.abs_path.clone().unwrap_or_default();
    set_data(
        frame,
        "sourcemap",
        Value::from(module.source_map_url.as_str()),
    );
    set_data(
        frame,
        "resolved_with",
        Value::from(module.resolved_with.as_str()),
    );
    let invalid_location = || {
        json!({
            "type": "js_invalid_sourcemap_location",
            "column": frame.colno,
            "row": line,
            "source": abs_path,
        })
    };
    let cache = SourceMapCache::parse(&module.cache).map_err(|_| invalid_location())?;
    let (Ok(line0), Ok(column0)) = (
        u32::try_from(line - 1),
        u32::try_from(frame.colno.unwrap_or(0).saturating_sub(1)),
    ) else {
        return Err(invalid_location());
    };
    let token = cache
        .lookup(SourcePosition::new(line0, column0))
        .ok_or_else(invalid_location)?;
    set_data(frame, "symbolicated", Value::Bool(true));

    // The original name of the enclosing scope; a nameless one is better
    // named by the caller's name for the call, else the minified name.
    let scope_name = match token.scope() {
        ScopeLookupResult::NamedScope(name) => name.to_string(),
        ScopeLookupResult::AnonymousScope => "<anonymous>".to_owned(),
        ScopeLookupResult::Unknown => frame
            .function
            .clone()
            .unwrap_or_else(|| "<unknown>".to_owned()),
    };
    let function = if !USELESS_NAMES.contains(&scope_name.as_str()) {
        scope_name
    } else if let Some(name) = called_as.filter(|name| !name.is_empty()) {
        name.to_owned()
    } else {
        frame.function.clone().unwrap_or(scope_name)
    };
    frame.function = Some(fold_function_name(&function));

    if let Some(file_name) = token.file_name() {
        let new_abs_path = urls::join(&module.source_map_url, file_name);
        let mut file_name = file_name.to_owned();
        if file_name.starts_with("webpack:") {
            file_name = urls::webpack_file_name(&file_name);
            frame.module = Some(urls::module_of(&file_name));
        }
        let web = ["http:", "https:", "webpack:", "app:"];
        if frame.module.is_none() && web.iter().any(|scheme| new_abs_path.starts_with(scheme)) {
            frame.module = Some(urls::module_of(&new_abs_path));
        }
        if let Some(in_app) = in_app(&new_abs_path, &file_name) {
            frame.in_app = Some(in_app);
        }
        frame.abs_path = Some(new_abs_path);
        frame.filename = Some(file_name);
    }
    let new_line = u64::from(token.line()) + 1;
    let new_column = u64::from(token.column()) + 1;
    frame.lineno = Some(new_line);
    frame.colno = Some(new_column);
    frame.pre_context = None;
    frame.context_line = None;
    frame.post_context = None;
    if let Some(file) = token.file() {
        // The cache's line index gives each line without scanning the
        // source; it ends with an empty line when the source ends with a
        // line break, which is no line of the source.
        let line_at = |index| file.line(index).filter(|text| !text.is_empty());
        if let Some((pre, line, post)) = context_lines(line_at, new_line, new_column) {
            frame.pre_context = Some(pre.into_iter().map(Some).collect());
            frame.context_line = Some(line);
            frame.post_context = Some(post.into_iter().map(Some).collect());
        }
    }
    Ok(token.name().map(str::to_owned))
}

/// Whether a rewritten frame is the app's, by where its source lives;
/// `None` leaves the SDK's choice.
fn in_app(abs_path: &str, file_name: &str) -> Option<bool> {
    if abs_path.starts_with("webpack:") {
        Some(file_name.starts_with("./") && !file_name.contains("/node_modules/"))
    } else if abs_path.starts_with("app:") {
        Some(!file_name.contains("node_modules/"))
    } else if abs_path.contains("/node_modules/") {
        Some(false)
    } else {
        None
    }
}

/// Folds runs of one name in a dotted function name, but the last part:
/// `a.a.a.b` becomes `{a#3}.b`.
pub fn fold_function_name(name: &str) -> String {
    let mut parts: Vec<&str> = name.split('.').collect();
    let Some(last) = parts.pop() else {
        return name.to_owned();
    };
    if parts.is_empty() {
        return name.to_owned();
    }
    let mut folded: Vec<String> = Vec::new();
    let mut index = 0;
    while index < parts.len() {
        let run = parts[index..]
            .iter()
            .take_while(|part| **part == parts[index])
            .count();
        if run == 1 {
            folded.push(parts[index].to_owned());
        } else {
            folded.push(format!("{{{}#{run}}}", parts[index]));
        }
        index += run;
    }
    folded.push(last.to_owned());
    folded.join(".")
}

#[cfg(test)]
mod tests;
