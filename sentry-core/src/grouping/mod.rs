//! Grouping: deciding which issue an event belongs to, as Sentry's default
//! grouping config `newstyle:2023-01-11` does.
//!
//! Sentry calls an issue a *group*; this crate says *issue* everywhere else.
//!
//! # How it works
//!
//! [`prepare`] first normalizes an event the way Sentry does before
//! grouping (and the result is what gets stored): frame paths are
//! completed, native function names trimmed, the stack trace rules mark
//! frames in-app or not, and the server-side fingerprint rules may replace
//! the event's fingerprint and title.
//!
//! [`group`] then runs the strategies in precedence order (exceptions,
//! threads, a bare stack trace, templates, security reports, the message).
//! Each builds a tree of components in one or more *variants*: `system`
//! (every frame may count), `app` (only in-app frames) or `default`. The
//! first strategy that contributes wins; the others are kept in the tree,
//! switched off, so an explanation shows why they did not count. A custom
//! fingerprint replaces the variants, a fingerprint mixing `{{ default }}`
//! with other values salts them, and an event with nothing usable gets
//! the fallback hash that all such events share.
//!
//! [`prepare_and_group`] does both in one go, with the same result; ingest
//! uses it. The stack trace rules then look each frame up once for both
//! of their phases, instead of once while preparing and again while
//! grouping.
//!
//! A variant's hash is taken over the leaf values of its contributing
//! components, concatenated in tree order without separators: SHA-256 by
//! default, or MD5 to reproduce Sentry's own hashes ([`HashAlgorithm`]).
//! An event carries every distinct variant hash, the `system` one last; it
//! joins the issue of the first hash already known.
//!
//! Each issue and event records the config id it was grouped with
//! ([`Grouping::config`]), so a later config can be added without
//! regrouping stored data.

mod component;
mod exception;
mod frame;
mod prepare;
mod security;
mod stack_rules;
mod stacktrace;
mod strategies;
mod threads;
mod variants;

pub mod enhancements;
pub mod fingerprint_rules;
pub mod functions;
pub mod glob;
pub mod parameterize;
pub mod platform;

use std::fmt;
use std::sync::Arc;

use md5::Md5;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use self::component::{Component, ComponentRef, ComponentValue};
pub use self::enhancements::Enhancements;
pub use self::fingerprint_rules::FingerprintingRules;
pub use self::prepare::prepare;
pub use self::variants::Variant;

use self::component::{NodeId, Tree};
use self::fingerprint_rules::{FingerprintValue, resolve_entry};
use self::stack_rules::StackRules;
use crate::protocol::Event;

/// The id of the grouping config this module implements.
pub const NEWSTYLE_2023_01_11: &str = "newstyle:2023-01-11";

/// How variant hashes are computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256, 64 hex digits: this project's hashes.
    #[default]
    Sha256,
    /// MD5, 32 hex digits: exactly Sentry's hashes, for migrations.
    Md5,
}

/// Settings for [`prepare`] and [`group`].
#[derive(Debug, Clone)]
pub struct GroupingConfig {
    /// The config id recorded with each grouping.
    pub id: String,
    /// How hashes are computed.
    pub hash_algorithm: HashAlgorithm,
    /// Stack trace rules: the config's base rules, then the project's.
    pub enhancements: Arc<Enhancements>,
    /// The project's fingerprint rules (the built-in ones always follow).
    pub fingerprinting: Arc<FingerprintingRules>,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        Self {
            id: NEWSTYLE_2023_01_11.to_owned(),
            hash_algorithm: HashAlgorithm::default(),
            enhancements: Arc::new(Enhancements::base().clone()),
            fingerprinting: Arc::new(FingerprintingRules::default()),
        }
    }
}

impl GroupingConfig {
    /// The default config with a project's own rules added.
    pub fn with_project_rules(
        project_enhancements: &Enhancements,
        fingerprinting: FingerprintingRules,
    ) -> Self {
        Self {
            enhancements: Arc::new(Enhancements::base().with_project_rules(project_enhancements)),
            fingerprinting: Arc::new(fingerprinting),
            ..Self::default()
        }
    }
}

/// A hash that names an issue within a project, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupingHash(String);

impl GroupingHash {
    /// Hashes values concatenated without separators, with SHA-256.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        Self::from_values_with(HashAlgorithm::Sha256, values)
    }

    /// Hashes values concatenated without separators.
    pub fn from_values_with<'a>(
        algorithm: HashAlgorithm,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self::from_visitor(algorithm, |visit| values.into_iter().for_each(visit))
    }

    /// Hashes the leaves that count of a component.
    pub fn from_component(algorithm: HashAlgorithm, component: &Component) -> Self {
        Self::from_visitor(algorithm, |visit| component.visit_contributing(visit))
    }

    /// Hashes the leaves that count of a node of a tree being built.
    fn from_tree(algorithm: HashAlgorithm, tree: &Tree, node: NodeId) -> Self {
        Self::from_visitor(algorithm, |visit| tree.visit_contributing_text(node, visit))
    }

    /// Hashes whatever `feed` passes to its visitor, in order.
    fn from_visitor(algorithm: HashAlgorithm, feed: impl FnOnce(&mut dyn FnMut(&str))) -> Self {
        fn hash<D: Digest>(feed: impl FnOnce(&mut dyn FnMut(&str))) -> String {
            let mut hasher = BufferedDigest::<D>::new();
            feed(&mut |value| hasher.update(value.as_bytes()));
            hex(&hasher.finalize())
        }
        Self(match algorithm {
            HashAlgorithm::Sha256 => hash::<Sha256>(feed),
            HashAlgorithm::Md5 => hash::<Md5>(feed),
        })
    }

    /// Wraps a stored hash.
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    /// Returns the hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A digest fed through a buffer: hashed values are mostly short leaves,
/// and copying one costs less than a digest update.
struct BufferedDigest<D> {
    digest: D,
    buffer: [u8; 1024],
    len: usize,
}

impl<D: Digest> BufferedDigest<D> {
    fn new() -> Self {
        Self {
            digest: D::new(),
            buffer: [0; 1024],
            len: 0,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(free) = self.buffer.get_mut(self.len..end) {
            free.copy_from_slice(bytes);
            self.len = end;
            return;
        }
        self.flush();
        match self.buffer.get_mut(..bytes.len()) {
            Some(free) => {
                free.copy_from_slice(bytes);
                self.len = bytes.len();
            }
            None => self.digest.update(bytes),
        }
    }

    fn flush(&mut self) {
        if let Some(buffered) = self.buffer.get(..self.len) {
            self.digest.update(buffered);
        }
        self.len = 0;
    }

    /// The digest of everything fed, without moving the buffer.
    fn finalize(&mut self) -> sha2::digest::Output<D> {
        self.flush();
        std::mem::replace(&mut self.digest, D::new()).finalize()
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    // A digest at a time (32 bytes for SHA-256), in a buffer on the stack.
    for chunk in bytes.chunks(32) {
        let mut digits = [0; 64];
        for (pair, byte) in digits.chunks_exact_mut(2).zip(chunk) {
            pair.copy_from_slice(&[
                DIGITS[usize::from(byte >> 4)],
                DIGITS[usize::from(byte & 0xf)],
            ]);
        }
        let written = digits.get(..chunk.len() * 2).unwrap_or_default();
        // Hex digits are ASCII.
        out.push_str(std::str::from_utf8(written).unwrap_or_default());
    }
    out
}

impl fmt::Display for GroupingHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of variant a [`GroupingVariant`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantKind {
    /// A component tree from the strategies.
    Component,
    /// A project's (or the SDK's) custom fingerprint.
    CustomFingerprint,
    /// A fingerprint from a built-in rule.
    BuiltInFingerprint,
    /// A component tree salted with a fingerprint that has `{{ default }}`.
    SaltedComponent,
    /// Nothing usable: every such event shares this hash.
    Fallback,
    /// A legacy SDK checksum, used as the hash.
    Checksum,
    /// A legacy SDK checksum that was not a hash, hashed.
    HashedChecksum,
}

impl VariantKind {
    /// Returns Sentry's name for the kind.
    pub fn as_str(&self) -> &'static str {
        match self {
            VariantKind::Component => "component",
            VariantKind::CustomFingerprint => "custom-fingerprint",
            VariantKind::BuiltInFingerprint => "built-in-fingerprint",
            VariantKind::SaltedComponent => "salted-component",
            VariantKind::Fallback => "fallback",
            VariantKind::Checksum => "checksum",
            VariantKind::HashedChecksum => "hashed-checksum",
        }
    }
}

/// One way of grouping an event, with its hash if it counts.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupingVariant {
    /// Its name: `app`, `system`, `default`, `custom-fingerprint`, ...
    pub name: String,
    /// What kind of variant it is.
    pub kind: VariantKind,
    /// Its hash, when it counts.
    pub hash: Option<GroupingHash>,
    /// Why it does not count, or other advice.
    pub hint: Option<String>,
    /// The values that were hashed, for variants without a component (a
    /// component variant hashes its contributing leaves: see
    /// [`GroupingVariant::hashed_values`]).
    pub values: Vec<Value>,
    /// The component tree, for component variants.
    pub component: Option<Component>,
    /// The fingerprint rule that matched and the SDK's own fingerprint.
    pub info: Option<Value>,
}

impl GroupingVariant {
    /// Returns the values that were hashed, in order.
    pub fn hashed_values(&self) -> Vec<Value> {
        match (&self.kind, &self.component) {
            (VariantKind::Component, Some(component)) => component.contributing_json_values(),
            _ => self.values.clone(),
        }
    }
}

/// The outcome of grouping one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// The primary hash: the first of `hashes`.
    pub hash: GroupingHash,
    /// Every distinct variant hash, primary first and `system` last.
    pub hashes: Vec<GroupingHash>,
    /// Every variant, in creation order.
    pub variants: Vec<GroupingVariant>,
    /// The config id that produced it.
    pub config: String,
    /// For an exception group reduced to one exception: that exception's
    /// `exception_id`, which names the event.
    pub main_exception_id: Option<u64>,
}

impl Grouping {
    /// Returns the grouping as JSON: `{"config", "hashes", "variants": {name: {...}}}`,
    /// variants in the shape of Sentry's grouping info.
    pub fn to_json(&self) -> Value {
        let mut variants = serde_json::Map::new();
        for variant in &self.variants {
            let mut entry = json!({
                "type": variant.kind.as_str(),
                "contributes": variant.hash.is_some(),
                "hash": variant.hash.as_ref().map(GroupingHash::as_str),
                "hint": variant.hint,
                "values": variant.hashed_values(),
            });
            if let Some(component) = &variant.component {
                entry["component"] = component.to_json();
            }
            if let (Some(info), Some(fields)) = (&variant.info, entry.as_object_mut()) {
                for (key, value) in info.as_object().into_iter().flatten() {
                    fields.insert(key.clone(), value.clone());
                }
            }
            variants.insert(variant.name.clone(), entry);
        }
        json!({
            "config": self.config,
            "hashes": self.hashes.iter().map(GroupingHash::as_str).collect::<Vec<_>>(),
            "variants": variants,
        })
    }

    /// Returns a readable explanation: each variant, its hash, and the
    /// component tree with `+` for what counted and `-` for what did not.
    pub fn explain(&self) -> String {
        let mut out = format!("config: {}\n", self.config);
        for variant in &self.variants {
            let hash = variant.hash.as_ref().map_or("none", GroupingHash::as_str);
            out.push_str(&format!(
                "variant {} ({}), hash {hash}",
                variant.name,
                variant.kind.as_str()
            ));
            if let Some(hint) = &variant.hint {
                out.push_str(&format!(" ({hint})"));
            }
            out.push('\n');
            match &variant.component {
                Some(component) => component.explain(&mut out, 1),
                None => out.push_str(&format!(
                    "  values {}\n",
                    Value::from(variant.hashed_values())
                )),
            }
        }
        out
    }
}

/// Groups a prepared event (see [`prepare`]).
pub fn group(event: &Event, config: &GroupingConfig) -> Grouping {
    group_with(event, config, StackRules::new(&config.enhancements))
}

/// Prepares an event, in place, and groups it: [`prepare`] then [`group`],
/// with the same result, but the stack trace rules look each frame up once
/// for both.
pub fn prepare_and_group(event: &mut Event, config: &GroupingConfig) -> Grouping {
    let prepared = prepare::prepare_matching(event, config);
    group_with(
        event,
        config,
        StackRules::prepared(&config.enhancements, &prepared),
    )
}

fn group_with(event: &Event, config: &GroupingConfig, rules: StackRules<'_>) -> Grouping {
    let algorithm = config.hash_algorithm;
    let mut main_exception_id = None;
    let variants = match checksum_variants(event, algorithm) {
        Some(variants) => variants,
        None => {
            let calculated = strategies::calculate(event, rules);
            main_exception_id = calculated.main_exception_id;
            let mut tree = calculated.tree;
            let pending = fingerprint_variants(event, &mut tree, calculated.variants, algorithm);
            // The tree is finished: every variant shares it.
            let tree = Arc::new(tree);
            pending
                .into_iter()
                .map(|(mut variant, node)| {
                    variant.component = node.map(|node| Component::new(Arc::clone(&tree), node));
                    variant
                })
                .collect()
        }
    };
    let mut hashes: Vec<GroupingHash> = Vec::with_capacity(variants.len());
    let ordered = variants
        .iter()
        .filter(|variant| variant.name != "system")
        .chain(variants.iter().filter(|variant| variant.name == "system"));
    for variant in ordered {
        if let Some(hash) = &variant.hash {
            if !hashes.contains(hash) {
                hashes.push(hash.clone());
            }
        }
    }
    let hash = hashes
        .first()
        .cloned()
        .unwrap_or_else(|| GroupingHash::from_values_with(algorithm, []));
    Grouping {
        hash,
        hashes,
        variants,
        config: config.id.clone(),
        main_exception_id,
    }
}

fn is_default(entry: &str) -> bool {
    matches!(
        resolve_entry(entry, &Event::default()),
        FingerprintValue::Default
    )
}

/// A variant whose component, if any, is still a node of the unfinished
/// tree.
type PendingVariant = (GroupingVariant, Option<NodeId>);

fn hint_of(tree: &Tree, node: NodeId) -> Option<String> {
    tree.hint(node).map(|hint| tree.hint_str(hint).to_owned())
}

fn component_variant(
    tree: &Tree,
    name: &str,
    node: NodeId,
    algorithm: HashAlgorithm,
) -> PendingVariant {
    let hash = tree
        .contributes(node)
        .then(|| GroupingHash::from_tree(algorithm, tree, node));
    let variant = GroupingVariant {
        name: name.to_owned(),
        kind: VariantKind::Component,
        hash,
        hint: hint_of(tree, node),
        values: Vec::new(),
        component: None,
        info: None,
    };
    (variant, Some(node))
}

/// Applies the fingerprint (spec section 3) to the strategy variants.
fn fingerprint_variants(
    event: &Event,
    tree: &mut Tree,
    calculated: Vec<(Variant, NodeId)>,
    algorithm: HashAlgorithm,
) -> Vec<PendingVariant> {
    let custom = event
        .fingerprint
        .as_deref()
        .filter(|fingerprint| !fingerprint.is_empty());
    let mut variants: Vec<PendingVariant> = Vec::with_capacity(calculated.len() + 1);
    let Some(fingerprint) = custom else {
        // `{{ default }}` alone: the strategy variants as they are.
        for (variant, node) in calculated {
            variants.push(component_variant(tree, variant.as_str(), node, algorithm));
        }
        return with_fallback(variants, algorithm);
    };
    let defaults = fingerprint.iter().filter(|entry| is_default(entry)).count();
    let info = event.other.get("_fingerprint_info");
    if defaults == 0 {
        for (variant, node) in calculated {
            tree.disable(node, "custom fingerprint takes precedence");
            variants.push(component_variant(tree, variant.as_str(), node, algorithm));
        }
        let resolved = resolve_fingerprint(fingerprint, event);
        let builtin = info
            .and_then(|info| info.get("matched_rule"))
            .and_then(|rule| rule.get("is_builtin"))
            .and_then(Value::as_bool)
            == Some(true);
        let kind = if builtin {
            VariantKind::BuiltInFingerprint
        } else {
            VariantKind::CustomFingerprint
        };
        let variant = GroupingVariant {
            name: kind.as_str().to_owned(),
            kind,
            hash: Some(GroupingHash::from_values_with(
                algorithm,
                resolved.iter().map(String::as_str),
            )),
            hint: None,
            values: resolved.into_iter().map(Value::String).collect(),
            component: None,
            info: fingerprint_info(info),
        };
        variants.push((variant, None));
    } else if defaults == 1 && fingerprint.len() == 1 {
        for (variant, node) in calculated {
            variants.push(component_variant(tree, variant.as_str(), node, algorithm));
        }
    } else {
        let resolved = resolve_fingerprint(fingerprint, event);
        for (variant, node) in calculated {
            let hash = tree.contributes(node).then(|| {
                GroupingHash::from_visitor(algorithm, |visit| {
                    for entry in &resolved {
                        if is_default(entry) {
                            tree.visit_contributing_text(node, visit);
                        } else {
                            visit(entry);
                        }
                    }
                })
            });
            let grouping_variant = GroupingVariant {
                name: variant.as_str().to_owned(),
                kind: VariantKind::SaltedComponent,
                hash,
                hint: hint_of(tree, node),
                values: resolved.iter().cloned().map(Value::String).collect(),
                component: None,
                info: fingerprint_info(info),
            };
            variants.push((grouping_variant, Some(node)));
        }
    }
    with_fallback(variants, algorithm)
}

/// Adds the fallback variant when no variant has a hash.
fn with_fallback(
    mut variants: Vec<PendingVariant>,
    algorithm: HashAlgorithm,
) -> Vec<PendingVariant> {
    if variants.iter().all(|(variant, _)| variant.hash.is_none()) {
        let fallback = GroupingVariant {
            name: "fallback".to_owned(),
            kind: VariantKind::Fallback,
            hash: Some(GroupingHash::from_values_with(algorithm, [])),
            hint: None,
            values: Vec::new(),
            component: None,
            info: None,
        };
        variants.push((fallback, None));
    }
    variants
}

/// What Sentry reports of the fingerprint rule that matched, if any: the
/// rule as text and the SDK's own fingerprint (unless it was the default).
fn fingerprint_info(info: Option<&Value>) -> Option<Value> {
    let info = info?;
    let client = info
        .get("client_fingerprint")
        .cloned()
        .unwrap_or(Value::Null);
    let client_is_default = client.as_array().is_none_or(|entries| {
        entries.len() <= 1 && entries.iter().all(|e| e.as_str().is_some_and(is_default))
    });
    let rule = info.get("matched_rule").cloned().unwrap_or(Value::Null);
    let rule_text = FingerprintingRules::from_json(&Value::Array(vec![rule]))
        .ok()
        .and_then(|rules| rules.rules().first().map(ToString::to_string));
    Some(json!({
        "matched_rule": rule_text,
        "client_values": if client_is_default { Value::Null } else { client },
    }))
}

/// Resolves fingerprint variables; `{{ default }}` stays as it is.
fn resolve_fingerprint(fingerprint: &[String], event: &Event) -> Vec<String> {
    fingerprint
        .iter()
        .map(|entry| match resolve_entry(entry, event) {
            FingerprintValue::Resolved(value) => value,
            FingerprintValue::Literal | FingerprintValue::Default => entry.clone(),
        })
        .collect()
}

/// A legacy SDK `checksum` replaces every other variant (spec section 3.1).
fn checksum_variants(event: &Event, algorithm: HashAlgorithm) -> Option<Vec<GroupingVariant>> {
    let checksum = event.other.get("checksum")?.as_str()?;
    let variant = |name: &str, kind, hash: String| GroupingVariant {
        name: name.to_owned(),
        kind,
        hash: Some(GroupingHash::from_hex(hash)),
        hint: None,
        values: vec![Value::String(checksum.to_owned())],
        component: None,
        info: None,
    };
    let is_md5 = checksum.len() == 32
        && checksum
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if is_md5 {
        return Some(vec![variant(
            "checksum",
            VariantKind::Checksum,
            checksum.to_owned(),
        )]);
    }
    let hashed = GroupingHash::from_values_with(algorithm, [checksum]);
    let mut variants = vec![variant(
        "hashed-checksum",
        VariantKind::HashedChecksum,
        hashed.0,
    )];
    if checksum.len() <= 32 {
        variants.push(variant(
            "checksum",
            VariantKind::Checksum,
            checksum.to_owned(),
        ));
    }
    Some(variants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouped(json: &str) -> Grouping {
        let mut event: Event = serde_json::from_str(json).unwrap();
        let config = GroupingConfig {
            hash_algorithm: HashAlgorithm::Md5,
            ..GroupingConfig::default()
        };
        prepare(&mut event, &config);
        group(&event, &config)
    }

    #[test]
    fn empty_event_falls_back() {
        let grouping = grouped("{}");
        assert_eq!(
            grouping.hashes,
            vec![GroupingHash::from_hex(
                "d41d8cd98f00b204e9800998ecf8427e".to_owned()
            )]
        );
        assert_eq!(grouping.variants[0].kind, VariantKind::Fallback);
    }

    #[test]
    fn exception_hash_matches_sentry() {
        // Spec section 7: system = md5("baz.py" + "ValueError").
        let grouping = grouped(
            r#"{"platform":"python","exception":{"values":[{"type":"ValueError","value":"hello",
                "stacktrace":{"frames":[{"filename":"foo/baz.py","lineno":1}]}}]}}"#,
        );
        assert_eq!(grouping.hash.as_str(), "9509e122c6175606d52862fa4f64853c");
    }

    #[test]
    fn sha256_is_the_default() {
        let mut event: Event = serde_json::from_str(r#"{"message":"hi"}"#).unwrap();
        crate::normalize::normalize(
            &mut event,
            &crate::normalize::NormalizeConfig::new(crate::protocol::Timestamp::now()),
        );
        let config = GroupingConfig::default();
        prepare(&mut event, &config);
        let grouping = group(&event, &config);
        assert_eq!(grouping.hash, GroupingHash::from_values(["hi"]));
        assert_eq!(grouping.hash.as_str().len(), 64);
    }
}
