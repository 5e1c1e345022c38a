//! The grouping component tree: what each part of an event contributed to
//! its hash, and why not when it did not.
//!
//! A component has an id (`exception`, `frame`, `function`, ...), a
//! `contributes` flag, an optional hint, and ordered values: child
//! components or leaves. A component created or given new values contributes
//! when any value is a leaf or a contributing child; code may then switch it
//! on or off with a hint. Only leaves reachable through contributing
//! components enter the hash, in depth-first order, concatenated without
//! separators.
//!
//! # Layout
//!
//! Grouping builds one [`Tree`] per event: an arena holding the nodes of
//! every variant, their value lists and one text buffer with every leaf and
//! every hint that is not a constant. Building a tree therefore allocates a
//! fixed few times whatever the number of frames, and a node is a small
//! `Copy` record. Variants share the nodes they have in common: the
//! `system` and `app` variants of a stack trace have their own frame nodes
//! (each with its own `contributes` flag and hint) over the same module,
//! file name, function and source line nodes. A shared node is not changed
//! after it is shared.
//!
//! A finished tree is frozen behind an [`Arc`]; a [`Component`] names one
//! node of it (a variant's root), and [`ComponentRef`] is a borrowed view of
//! any node.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde_json::{Value, json};

/// A node of a [`Tree`], by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NodeId(usize);

/// A range of a tree's text buffer or value list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    start: usize,
    len: usize,
}

impl Span {
    const EMPTY: Span = Span { start: 0, len: 0 };

    fn range(self) -> std::ops::Range<usize> {
        self.start..self.start.saturating_add(self.len)
    }
}

/// One value of a node: a child or a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// A child node.
    Node(NodeId),
    /// A text leaf, in the tree's text buffer.
    Text(Span),
    /// A constant text leaf.
    Static(&'static str),
    /// An integer leaf, hashed as its decimal text.
    Int(i64),
}

/// Why a component does or does not count: a constant, or text in the
/// tree's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hint {
    /// A constant hint.
    Static(&'static str),
    /// A hint rendered into the text buffer.
    Text(Span),
}

impl From<&'static str> for Hint {
    fn from(text: &'static str) -> Self {
        Hint::Static(text)
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    id: &'static str,
    contributes: bool,
    hint: Option<Hint>,
    /// The node's values, in the tree's value list.
    values: Span,
    /// For a sealed node: its values' contributing leaves, concatenated,
    /// in the tree's text (see [`Tree::seal_text`]).
    sealed: Option<Span>,
}

/// An arena of component nodes; see the module documentation.
#[derive(Debug, Default)]
pub(super) struct Tree {
    nodes: Vec<Node>,
    slots: Vec<Slot>,
    text: String,
}

impl Tree {
    /// An empty tree with room for about `nodes` nodes and `text` bytes
    /// of leaves.
    pub(super) fn with_capacity(nodes: usize, text: usize) -> Self {
        Self {
            nodes: Vec::with_capacity(nodes),
            slots: Vec::with_capacity(nodes.saturating_add(nodes / 2)),
            text: String::with_capacity(text),
        }
    }

    fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id.0)
    }

    fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.get_mut(id.0)
    }

    fn text_of(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or_default()
    }

    fn values_of(&self, node: &Node) -> &[Slot] {
        self.slots.get(node.values.range()).unwrap_or_default()
    }

    fn slot_contributes(&self, slot: &Slot) -> bool {
        match slot {
            Slot::Node(child) => self.contributes(*child),
            Slot::Text(_) | Slot::Static(_) | Slot::Int(_) => true,
        }
    }

    /// Appends a text leaf.
    pub(super) fn text(&mut self, text: &str) -> Slot {
        let start = self.text.len();
        self.text.push_str(text);
        Slot::Text(Span {
            start,
            len: text.len(),
        })
    }

    /// Appends a text leaf that `write` writes into the buffer.
    pub(super) fn text_with(&mut self, write: impl FnOnce(&mut String)) -> Slot {
        let start = self.text.len();
        write(&mut self.text);
        Slot::Text(Span {
            start,
            len: self.text.len().saturating_sub(start),
        })
    }

    /// Appends a text leaf rendered with `Display`.
    pub(super) fn text_display(&mut self, value: impl fmt::Display) -> Slot {
        // Writing to a `String` cannot fail.
        self.text_with(|out| {
            let _ = write!(out, "{value}");
        })
    }

    /// A hint that `write` writes into the text buffer.
    pub(super) fn hint_with(&mut self, write: impl FnOnce(&mut String)) -> Hint {
        let start = self.text.len();
        write(&mut self.text);
        Hint::Text(Span {
            start,
            len: self.text.len().saturating_sub(start),
        })
    }

    /// Renders a hint into the text buffer.
    pub(super) fn hint_text(&mut self, text: impl fmt::Display) -> Hint {
        let start = self.text.len();
        // Writing to a `String` cannot fail.
        let _ = write!(self.text, "{text}");
        Hint::Text(Span {
            start,
            len: self.text.len().saturating_sub(start),
        })
    }

    /// Adds a component; it contributes if any value does.
    pub(super) fn add(
        &mut self,
        id: &'static str,
        values: impl IntoIterator<Item = Slot>,
    ) -> NodeId {
        let values = self.push_values(values);
        let contributes = self.values_contribute(values);
        self.push_node(Node {
            id,
            contributes,
            hint: None,
            values,
            sealed: None,
        })
    }

    /// Adds a component over child components; it contributes if any
    /// child does.
    pub(super) fn add_parent(&mut self, id: &'static str, children: &[NodeId]) -> NodeId {
        let start = self.slots.len();
        self.slots
            .extend(children.iter().map(|&child| Slot::Node(child)));
        let contributes = children.iter().any(|&child| self.contributes(child));
        self.push_node(Node {
            id,
            contributes,
            hint: None,
            values: Span {
                start,
                len: children.len(),
            },
            sealed: None,
        })
    }

    /// Adds an empty, non-contributing component.
    pub(super) fn add_empty(&mut self, id: &'static str) -> NodeId {
        self.push_node(Node {
            id,
            contributes: false,
            hint: None,
            values: Span::EMPTY,
            sealed: None,
        })
    }

    /// Adds a component with one text leaf.
    pub(super) fn add_text(&mut self, id: &'static str, text: &str) -> NodeId {
        let leaf = self.text(text);
        self.add_leaf(id, leaf)
    }

    /// Adds a component with one leaf; it contributes.
    pub(super) fn add_leaf(&mut self, id: &'static str, leaf: Slot) -> NodeId {
        let start = self.slots.len();
        self.slots.push(leaf);
        self.push_node(Node {
            id,
            contributes: self.slot_contributes(&leaf),
            hint: None,
            values: Span { start, len: 1 },
            sealed: None,
        })
    }

    /// Adds a copy of a component that shares its values: for a variant
    /// that differs from another only in the component's own flag and hint.
    pub(super) fn add_copy(&mut self, node: NodeId) -> NodeId {
        match self.node(node).copied() {
            Some(copy) => self.push_node(copy),
            None => self.add_empty("unknown"),
        }
    }

    fn push_node(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        NodeId(self.nodes.len() - 1)
    }

    fn push_values(&mut self, values: impl IntoIterator<Item = Slot>) -> Span {
        let start = self.slots.len();
        self.slots.extend(values);
        Span {
            start,
            len: self.slots.len() - start,
        }
    }

    fn values_contribute(&self, values: Span) -> bool {
        self.slots
            .get(values.range())
            .unwrap_or_default()
            .iter()
            .any(|slot| self.slot_contributes(slot))
    }

    /// Replaces the values and derives `contributes` again, as Sentry does.
    pub(super) fn set_values(&mut self, node: NodeId, values: impl IntoIterator<Item = Slot>) {
        let values = self.push_values(values);
        let contributes = self.values_contribute(values);
        if let Some(node) = self.node_mut(node) {
            node.values = values;
            node.contributes = contributes;
            node.sealed = None;
        }
    }

    /// Switches a component on or off with a hint.
    pub(super) fn set(&mut self, node: NodeId, contributes: bool, hint: impl Into<Hint>) {
        if let Some(node) = self.node_mut(node) {
            node.contributes = contributes;
            node.hint = Some(hint.into());
        }
    }

    /// Switches a component off with a hint.
    pub(super) fn disable(&mut self, node: NodeId, hint: impl Into<Hint>) {
        self.set(node, false, hint);
    }

    /// Sets or clears a component's hint, leaving its flag alone.
    pub(super) fn set_hint(&mut self, node: NodeId, hint: Option<Hint>) {
        if let Some(node) = self.node_mut(node) {
            node.hint = hint;
        }
    }

    /// Sets a component's flag, leaving its hint alone.
    pub(super) fn set_contributes(&mut self, node: NodeId, contributes: bool) {
        if let Some(node) = self.node_mut(node) {
            node.contributes = contributes;
        }
    }

    /// The length of the text buffer, to start a run of leaves.
    pub(super) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The text written since `start`.
    pub(super) fn text_since(&self, start: usize) -> Span {
        Span {
            start,
            len: self.text.len().saturating_sub(start),
        }
    }

    /// Adds a component with at most one leaf, its flag and hint given.
    pub(super) fn add_raw(
        &mut self,
        id: &'static str,
        contributes: bool,
        hint: Option<Hint>,
        leaf: Option<Slot>,
    ) -> NodeId {
        let start = self.slots.len();
        self.slots.extend(leaf);
        self.push_node(Node {
            id,
            contributes,
            hint,
            values: Span {
                start,
                len: self.slots.len() - start,
            },
            sealed: None,
        })
    }

    /// Seals a component with `text`, which must be what its values
    /// contribute (their contributing leaves, concatenated): hashing and
    /// comparing then read it at once instead of walking the component's
    /// descendants. For components whose descendants do not change any
    /// more (a frame, once built); the component's own flag and hint may
    /// still change, and copies share the seal.
    pub(super) fn seal_text(&mut self, node: NodeId, text: Span) {
        if let Some(node) = self.node_mut(node) {
            node.sealed = Some(text);
        }
    }

    /// Whether a component counts.
    pub(super) fn contributes(&self, node: NodeId) -> bool {
        self.node(node).is_some_and(|node| node.contributes)
    }

    /// A component's hint.
    pub(super) fn hint(&self, node: NodeId) -> Option<Hint> {
        self.node(node).and_then(|node| node.hint)
    }

    /// The text of a hint.
    pub(super) fn hint_str(&self, hint: Hint) -> &str {
        match hint {
            Hint::Static(text) => text,
            Hint::Text(span) => self.text_of(span),
        }
    }

    /// The text of a text leaf; empty for other values.
    pub(super) fn slot_text(&self, slot: Slot) -> &str {
        match slot {
            Slot::Text(span) => self.text_of(span),
            Slot::Static(text) => text,
            Slot::Node(_) | Slot::Int(_) => "",
        }
    }

    /// A view of a node.
    pub(super) fn view(&self, node: NodeId) -> ComponentRef<'_> {
        ComponentRef { tree: self, node }
    }
}

/// A borrowed view of one component of a tree.
#[derive(Clone, Copy)]
pub struct ComponentRef<'a> {
    tree: &'a Tree,
    node: NodeId,
}

/// A value of a component: a child or a leaf.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ComponentValue<'a> {
    /// A child component.
    Component(ComponentRef<'a>),
    /// A text leaf.
    Text(&'a str),
    /// An integer leaf, hashed as its decimal text.
    Int(i64),
}

const MISSING: Node = Node {
    id: "",
    contributes: false,
    hint: None,
    values: Span::EMPTY,
    sealed: None,
};

impl<'a> ComponentRef<'a> {
    fn node(&self) -> &'a Node {
        self.tree.node(self.node).unwrap_or(&MISSING)
    }

    fn value(&self, slot: Slot) -> ComponentValue<'a> {
        match slot {
            Slot::Node(node) => ComponentValue::Component(ComponentRef {
                tree: self.tree,
                node,
            }),
            Slot::Text(span) => ComponentValue::Text(self.tree.text_of(span)),
            Slot::Static(text) => ComponentValue::Text(text),
            Slot::Int(number) => ComponentValue::Int(number),
        }
    }

    /// What this component stands for.
    pub fn id(&self) -> &'static str {
        self.node().id
    }

    /// Whether its leaves count.
    pub fn contributes(&self) -> bool {
        self.node().contributes
    }

    /// Why it does or does not count, for people.
    pub fn hint(&self) -> Option<&'a str> {
        self.node().hint.map(|hint| self.tree.hint_str(hint))
    }

    /// Children and leaves, in hashing order.
    pub fn values(&self) -> impl Iterator<Item = ComponentValue<'a>> + use<'a> {
        let this = *self;
        self.tree
            .values_of(self.node())
            .iter()
            .map(move |&slot| this.value(slot))
    }

    /// Whether it has no values.
    pub fn is_empty(&self) -> bool {
        self.node().values.len == 0
    }

    /// Returns the child components.
    pub fn children(&self) -> impl Iterator<Item = ComponentRef<'a>> + use<'a> {
        self.values().filter_map(|value| match value {
            ComponentValue::Component(child) => Some(child),
            _ => None,
        })
    }

    /// Returns the first child with an id.
    pub fn child(&self, id: &str) -> Option<ComponentRef<'a>> {
        self.children().find(|child| child.id() == id)
    }

    /// Returns whether a contributing component with an id is reachable
    /// through contributing components.
    pub fn has_contributing(&self, id: &str) -> bool {
        self.contributes()
            && (self.id() == id || self.children().any(|child| child.has_contributing(id)))
    }

    /// Calls `visit` with each leaf that counts, in hashing order, without
    /// copying them (integers as decimal text).
    pub fn visit_contributing(&self, visit: &mut dyn FnMut(&str)) {
        visit_contributing::<false, _>(self.tree, self.node, visit);
    }

    /// Returns the leaves that count concatenated, which is what is hashed.
    pub fn contributing_text(&self) -> String {
        let mut out = String::new();
        visit_contributing::<true, _>(self.tree, self.node, &mut |text| out.push_str(text));
        out
    }

    /// Returns the leaves that count, in hashing order.
    pub fn contributing_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit_contributing(&mut |leaf| out.push(leaf.to_owned()));
        out
    }

    /// Returns the leaves that count as JSON values (integers stay numbers).
    pub fn contributing_json_values(&self) -> Vec<Value> {
        let mut out = Vec::new();
        self.collect_json_values(&mut out);
        out
    }

    fn collect_json_values(&self, out: &mut Vec<Value>) {
        if !self.contributes() {
            return;
        }
        for value in self.values() {
            match value {
                ComponentValue::Component(child) => child.collect_json_values(out),
                ComponentValue::Text(text) => out.push(Value::String(text.to_owned())),
                ComponentValue::Int(number) => out.push(json!(number)),
            }
        }
    }

    /// Whether a child is left out of explanations: no values, no hint.
    fn is_blank(&self) -> bool {
        self.is_empty() && self.node().hint.is_none()
    }

    /// Returns the tree as JSON in the shape Sentry prints it, leaving out
    /// components that have neither values nor a hint.
    pub fn to_json(&self) -> Value {
        let values: Vec<Value> = self
            .values()
            .filter_map(|value| match value {
                ComponentValue::Component(child) if child.is_blank() => None,
                ComponentValue::Component(child) => Some(child.to_json()),
                ComponentValue::Text(text) => Some(Value::String(text.to_owned())),
                ComponentValue::Int(number) => Some(json!(number)),
            })
            .collect();
        json!({
            "id": self.id(),
            "contributes": self.contributes(),
            "hint": self.hint(),
            "values": values,
        })
    }

    /// Writes a readable tree: one line per component, `+` for contributing
    /// and `-` for not, with hints and leaves.
    pub fn explain(&self, out: &mut String, depth: usize) {
        let mark = if self.contributes() { '+' } else { '-' };
        for _ in 0..depth {
            out.push_str("  ");
        }
        out.push(mark);
        out.push_str(self.id());
        // Leaves follow the id, each after a space. Writing to a `String`
        // cannot fail.
        for value in self.values() {
            match value {
                ComponentValue::Text(text) => {
                    let _ = write!(out, " {text:?}");
                }
                ComponentValue::Int(number) => {
                    let _ = write!(out, " {number}");
                }
                ComponentValue::Component(_) => {}
            }
        }
        if let Some(hint) = self.hint() {
            out.push_str(" (");
            out.push_str(hint);
            out.push(')');
        }
        out.push('\n');
        for child in self.children() {
            if child.is_blank() {
                continue;
            }
            child.explain(out, depth + 1);
        }
    }
}

/// Components are equal when they have the same id, flag, hint and
/// values, recursively.
impl PartialEq for ComponentRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        if std::ptr::eq(self.tree, other.tree) && self.node == other.node {
            return true;
        }
        self.id() == other.id()
            && self.contributes() == other.contributes()
            && self.hint() == other.hint()
            && self.values().eq(other.values())
    }
}

impl fmt::Debug for ComponentRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Component")
            .field("id", &self.id())
            .field("contributes", &self.contributes())
            .field("hint", &self.hint())
            .field("values", &self.values().collect::<Vec<_>>())
            .finish()
    }
}

/// Calls `visit` with the text of a component that counts, in hashing
/// order: leaf by leaf, or with `RUNS`, in runs of several leaves where a
/// component is sealed (for hashing and comparing, which only see the
/// concatenation).
fn visit_contributing<const RUNS: bool, F: FnMut(&str) + ?Sized>(
    tree: &Tree,
    node: NodeId,
    visit: &mut F,
) {
    let Some(node) = tree.node(node) else {
        return;
    };
    if node.contributes {
        visit_node::<RUNS, F>(tree, node, visit);
    }
}

/// Visits the values of a contributing node. Children are visited here
/// rather than by a call per child: most are leaf components (a frame's
/// module, function, ...), with no children of their own.
#[inline]
fn visit_node<const RUNS: bool, F: FnMut(&str) + ?Sized>(tree: &Tree, node: &Node, visit: &mut F) {
    if let (true, Some(span)) = (RUNS, node.sealed) {
        visit(tree.text_of(span));
        return;
    }
    for slot in tree.values_of(node) {
        match *slot {
            Slot::Node(child) => {
                let Some(child) = tree.node(child).filter(|child| child.contributes) else {
                    continue;
                };
                if let (true, Some(span)) = (RUNS, child.sealed) {
                    visit(tree.text_of(span));
                    continue;
                }
                for slot in tree.values_of(child) {
                    match *slot {
                        Slot::Node(grandchild) => {
                            visit_contributing::<RUNS, F>(tree, grandchild, visit);
                        }
                        leaf => visit_leaf(tree, leaf, visit),
                    }
                }
            }
            leaf => visit_leaf(tree, leaf, visit),
        }
    }
}

#[inline]
fn visit_leaf<F: FnMut(&str) + ?Sized>(tree: &Tree, leaf: Slot, visit: &mut F) {
    match leaf {
        Slot::Text(span) => visit(tree.text_of(span)),
        Slot::Static(text) => visit(text),
        Slot::Int(number) => visit(&number.to_string()),
        Slot::Node(_) => {}
    }
}

/// The text of a component that counts, in hashing order, one leaf (or
/// one sealed component) at a time.
struct ContributingLeaves<'a> {
    tree: &'a Tree,
    /// The values still to visit, per level.
    stack: Levels<'a>,
    /// The text of a sealed component to return next.
    sealed: Option<&'a str>,
}

impl<'a> ContributingLeaves<'a> {
    fn new(tree: &'a Tree, node: NodeId) -> Self {
        let mut stack = Levels::default();
        let mut sealed = None;
        if let Some(node) = tree.node(node).filter(|node| node.contributes) {
            match node.sealed {
                Some(span) => sealed = Some(tree.text_of(span)),
                None => stack.push(tree.values_of(node)),
            }
        }
        Self {
            tree,
            stack,
            sealed,
        }
    }
}

impl<'a> Iterator for ContributingLeaves<'a> {
    type Item = Cow<'a, str>;

    fn next(&mut self) -> Option<Cow<'a, str>> {
        if let Some(sealed) = self.sealed.take() {
            return Some(Cow::Borrowed(sealed));
        }
        loop {
            let values = self.stack.last_mut()?;
            let Some((slot, rest)) = values.split_first() else {
                self.stack.pop();
                continue;
            };
            *values = rest;
            match *slot {
                Slot::Node(child) => {
                    let Some(child) = self.tree.node(child).filter(|node| node.contributes) else {
                        continue;
                    };
                    match child.sealed {
                        Some(span) => return Some(Cow::Borrowed(self.tree.text_of(span))),
                        None => self.stack.push(self.tree.values_of(child)),
                    }
                }
                Slot::Text(span) => return Some(Cow::Borrowed(self.tree.text_of(span))),
                Slot::Static(text) => return Some(Cow::Borrowed(text)),
                Slot::Int(number) => return Some(Cow::Owned(number.to_string())),
            }
        }
    }
}

/// The levels of a walk down a tree: the first few in place (trees are
/// shallow: variant, exceptions, stack trace, frame, frame part), deeper
/// ones in a vector.
#[derive(Default)]
struct Levels<'a> {
    shallow: [&'a [Slot]; 8],
    /// How many of `shallow` are in use.
    depth: usize,
    deep: Vec<&'a [Slot]>,
}

impl<'a> Levels<'a> {
    fn push(&mut self, values: &'a [Slot]) {
        match self.shallow.get_mut(self.depth) {
            Some(level) if self.deep.is_empty() => {
                *level = values;
                self.depth += 1;
            }
            _ => self.deep.push(values),
        }
    }

    fn pop(&mut self) {
        if self.deep.pop().is_none() {
            self.depth = self.depth.saturating_sub(1);
        }
    }

    fn last_mut(&mut self) -> Option<&mut &'a [Slot]> {
        match self.deep.last_mut() {
            Some(level) => Some(level),
            None => self.shallow.get_mut(self.depth.checked_sub(1)?),
        }
    }
}

/// A cursor over the text of a stream of leaves.
struct LeafCursor<'a> {
    leaves: ContributingLeaves<'a>,
    leaf: Cow<'a, str>,
    position: usize,
}

impl<'a> LeafCursor<'a> {
    fn new(leaves: ContributingLeaves<'a>) -> Self {
        Self {
            leaves,
            leaf: Cow::Borrowed(""),
            position: 0,
        }
    }

    /// The unread text of the current leaf, moving to the next non-empty
    /// leaf when it is read; `None` at the end.
    fn rest(&mut self) -> Option<&[u8]> {
        while self.position >= self.leaf.len() {
            self.leaf = self.leaves.next()?;
            self.position = 0;
        }
        self.leaf.as_bytes().get(self.position..)
    }
}

impl Tree {
    /// Calls `visit` with the text of a component that counts, in hashing
    /// order, in runs of one or more leaves: what hashing needs.
    pub(super) fn visit_contributing_text<F: FnMut(&str) + ?Sized>(
        &self,
        node: NodeId,
        visit: &mut F,
    ) {
        visit_contributing::<true, F>(self, node, visit);
    }

    /// Whether two components hash the same leaves (their contributing
    /// leaves concatenate to the same text). Stops at the first
    /// difference.
    pub(super) fn same_contributing_text(&self, a: NodeId, b: NodeId) -> bool {
        let mut left = LeafCursor::new(ContributingLeaves::new(self, a));
        let mut right = LeafCursor::new(ContributingLeaves::new(self, b));
        loop {
            let common = match (left.rest(), right.rest()) {
                (None, None) => return true,
                (Some(l), Some(r)) => {
                    let common = l.len().min(r.len());
                    if l.get(..common) != r.get(..common) {
                        return false;
                    }
                    common
                }
                _ => return false,
            };
            left.position += common;
            right.position += common;
        }
    }
}

/// A component tree: one node of a finished tree, usually the root of
/// a variant. Cloning it shares the tree.
#[derive(Clone)]
pub struct Component {
    tree: Arc<Tree>,
    node: NodeId,
}

impl Component {
    /// The component `node` of a finished tree.
    pub(super) fn new(tree: Arc<Tree>, node: NodeId) -> Self {
        Self { tree, node }
    }

    /// A borrowed view of the component.
    pub fn as_ref(&self) -> ComponentRef<'_> {
        self.tree.view(self.node)
    }

    /// What this component stands for.
    pub fn id(&self) -> &'static str {
        self.as_ref().id()
    }

    /// Whether its leaves count.
    pub fn contributes(&self) -> bool {
        self.as_ref().contributes()
    }

    /// Why it does or does not count, for people.
    pub fn hint(&self) -> Option<&str> {
        self.as_ref().hint()
    }

    /// Children and leaves, in hashing order.
    pub fn values(&self) -> impl Iterator<Item = ComponentValue<'_>> {
        self.as_ref().values()
    }

    /// Returns the child components.
    pub fn children(&self) -> impl Iterator<Item = ComponentRef<'_>> {
        self.as_ref().children()
    }

    /// Returns the first child with an id.
    pub fn child(&self, id: &str) -> Option<ComponentRef<'_>> {
        self.as_ref().child(id)
    }

    /// Returns whether a contributing component with an id is reachable
    /// through contributing components.
    pub fn has_contributing(&self, id: &str) -> bool {
        self.as_ref().has_contributing(id)
    }

    /// Calls `visit` with each leaf that counts, in hashing order.
    pub fn visit_contributing(&self, visit: &mut dyn FnMut(&str)) {
        self.as_ref().visit_contributing(visit);
    }

    /// Returns the leaves that count concatenated, which is what is hashed.
    pub fn contributing_text(&self) -> String {
        self.as_ref().contributing_text()
    }

    /// Returns the leaves that count, in hashing order.
    pub fn contributing_values(&self) -> Vec<String> {
        self.as_ref().contributing_values()
    }

    /// Returns the leaves that count as JSON values (integers stay numbers).
    pub fn contributing_json_values(&self) -> Vec<Value> {
        self.as_ref().contributing_json_values()
    }

    /// Returns the tree as JSON in the shape Sentry prints it, leaving out
    /// components that have neither values nor a hint.
    pub fn to_json(&self) -> Value {
        self.as_ref().to_json()
    }

    /// Writes a readable tree: one line per component, `+` for contributing
    /// and `-` for not, with hints and leaves.
    pub fn explain(&self, out: &mut String, depth: usize) {
        self.as_ref().explain(out, depth);
    }
}

impl PartialEq for Component {
    fn eq(&self, other: &Self) -> bool {
        self.as_ref() == other.as_ref()
    }
}

impl fmt::Debug for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contribution_is_derived_and_overridable() {
        let mut tree = Tree::default();
        let module = tree.add_text("module", "app");
        let filename = tree.add_empty("filename");
        let frame = tree.add_parent("frame", &[module, filename]);
        assert!(tree.contributes(frame));
        assert_eq!(tree.view(frame).contributing_values(), vec!["app"]);
        tree.disable(frame, "non app frame");
        assert!(tree.view(frame).contributing_values().is_empty());
        tree.set_values(frame, [Slot::Int(7)]);
        assert!(
            tree.contributes(frame),
            "new values derive contribution again"
        );
        assert_eq!(tree.view(frame).contributing_values(), vec!["7"]);
    }

    #[test]
    fn json_leaves_out_empty_components() {
        let mut tree = Tree::default();
        let module = tree.add_empty("module");
        let function = tree.add_text("function", "f");
        let frame = tree.add_parent("frame", &[module, function]);
        assert_eq!(
            tree.view(frame).to_json(),
            json!({"id":"frame","contributes":true,"hint":null,"values":[
                {"id":"function","contributes":true,"hint":null,"values":["f"]}]})
        );
    }

    #[test]
    fn deep_trees_compare_by_their_text() {
        let mut tree = Tree::default();
        let chain = |tree: &mut Tree, leaves: [&str; 2]| {
            let mut node = tree.add_text("leaf", leaves[0]);
            for depth in 0..20 {
                let leaf = tree.add_text("leaf", if depth == 10 { leaves[1] } else { "" });
                node = tree.add_parent("level", &[node, leaf]);
            }
            node
        };
        let a = chain(&mut tree, ["ab", "c"]);
        let b = chain(&mut tree, ["a", "bc"]);
        let c = chain(&mut tree, ["a", "bd"]);
        assert!(tree.same_contributing_text(a, b));
        assert!(!tree.same_contributing_text(a, c));
    }

    #[test]
    fn copies_share_values_but_not_flags() {
        let mut tree = Tree::default();
        let function = tree.add_text("function", "f");
        let system = tree.add_parent("frame", &[function]);
        let app = tree.add_copy(system);
        tree.disable(app, "non app frame");
        assert!(tree.contributes(system));
        assert_eq!(tree.view(app).hint(), Some("non app frame"));
        assert_eq!(
            tree.view(app).child("function"),
            tree.view(system).child("function")
        );
        assert!(tree.same_contributing_text(system, system));
        assert!(!tree.same_contributing_text(system, app));
    }
}
