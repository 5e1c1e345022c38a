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

use serde_json::{Value, json};

/// A leaf or a child of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentValue {
    /// A child component.
    Component(Component),
    /// A text leaf.
    Text(String),
    /// An integer leaf, hashed as its decimal text.
    Int(i64),
}

impl ComponentValue {
    fn contributes(&self) -> bool {
        match self {
            ComponentValue::Component(component) => component.contributes,
            ComponentValue::Text(_) | ComponentValue::Int(_) => true,
        }
    }
}

/// A node of the component tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// What this component stands for.
    pub id: &'static str,
    /// Whether its leaves count.
    pub contributes: bool,
    /// Why it does or does not count, for people.
    pub hint: Option<String>,
    /// Children and leaves, in hashing order.
    pub values: Vec<ComponentValue>,
}

impl Component {
    /// Creates a component; it contributes if any value does.
    pub fn new(id: &'static str, values: Vec<ComponentValue>) -> Self {
        let contributes = values.iter().any(ComponentValue::contributes);
        Self {
            id,
            contributes,
            hint: None,
            values,
        }
    }

    /// Creates an empty, non-contributing component.
    pub fn empty(id: &'static str) -> Self {
        Self::new(id, Vec::new())
    }

    /// Creates a component with one text leaf.
    pub fn text(id: &'static str, value: impl Into<String>) -> Self {
        Self::new(id, vec![ComponentValue::Text(value.into())])
    }

    /// Replaces the values and derives `contributes` again, as Sentry does.
    pub fn set_values(&mut self, values: Vec<ComponentValue>) {
        self.contributes = values.iter().any(ComponentValue::contributes);
        self.values = values;
    }

    /// Switches the component on or off with a hint.
    pub fn set(&mut self, contributes: bool, hint: impl Into<String>) {
        self.contributes = contributes;
        self.hint = Some(hint.into());
    }

    /// Switches the component off with a hint.
    pub fn disable(&mut self, hint: impl Into<String>) {
        self.set(false, hint);
    }

    /// Adds a child component.
    pub fn push(&mut self, child: Component) {
        self.values.push(ComponentValue::Component(child));
    }

    /// Returns the child components.
    pub fn children(&self) -> impl Iterator<Item = &Component> {
        self.values.iter().filter_map(|value| match value {
            ComponentValue::Component(component) => Some(component),
            _ => None,
        })
    }

    /// Returns the child components, mutably.
    pub fn children_mut(&mut self) -> impl Iterator<Item = &mut Component> {
        self.values.iter_mut().filter_map(|value| match value {
            ComponentValue::Component(component) => Some(component),
            _ => None,
        })
    }

    /// Returns the first child with an id.
    pub fn child(&self, id: &str) -> Option<&Component> {
        self.children().find(|child| child.id == id)
    }

    /// Returns the first child with an id, mutably.
    pub fn child_mut(&mut self, id: &str) -> Option<&mut Component> {
        self.children_mut().find(|child| child.id == id)
    }

    /// Returns whether a contributing component with an id is reachable
    /// through contributing components.
    pub fn has_contributing(&self, id: &str) -> bool {
        self.contributes
            && (self.id == id || self.children().any(|child| child.has_contributing(id)))
    }

    /// Calls `visit` with each leaf that counts, in hashing order, without
    /// copying them (integers as decimal text).
    pub fn visit_contributing(&self, visit: &mut dyn FnMut(&str)) {
        if !self.contributes {
            return;
        }
        for value in &self.values {
            match value {
                ComponentValue::Component(child) => child.visit_contributing(visit),
                ComponentValue::Text(text) => visit(text),
                ComponentValue::Int(number) => visit(&number.to_string()),
            }
        }
    }

    /// Returns the leaves that count concatenated, which is what is hashed.
    pub fn contributing_text(&self) -> String {
        let mut out = String::new();
        self.visit_contributing(&mut |leaf| out.push_str(leaf));
        out
    }

    /// Returns the leaves that count, in hashing order.
    pub fn contributing_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_values(&mut out);
        out
    }

    fn collect_values(&self, out: &mut Vec<String>) {
        if !self.contributes {
            return;
        }
        for value in &self.values {
            match value {
                ComponentValue::Component(child) => child.collect_values(out),
                ComponentValue::Text(text) => out.push(text.clone()),
                ComponentValue::Int(number) => out.push(number.to_string()),
            }
        }
    }

    /// Returns the leaves that count as JSON values (integers stay numbers).
    pub fn contributing_json_values(&self) -> Vec<Value> {
        let mut out = Vec::new();
        self.collect_json_values(&mut out);
        out
    }

    fn collect_json_values(&self, out: &mut Vec<Value>) {
        if !self.contributes {
            return;
        }
        for value in &self.values {
            match value {
                ComponentValue::Component(child) => child.collect_json_values(out),
                ComponentValue::Text(text) => out.push(Value::String(text.clone())),
                ComponentValue::Int(number) => out.push(json!(number)),
            }
        }
    }

    /// Returns the tree as JSON in the shape Sentry prints it, leaving out
    /// components that have neither values nor a hint.
    pub fn to_json(&self) -> Value {
        let values: Vec<Value> = self
            .values
            .iter()
            .filter_map(|value| match value {
                ComponentValue::Component(child)
                    if child.values.is_empty() && child.hint.is_none() =>
                {
                    None
                }
                ComponentValue::Component(child) => Some(child.to_json()),
                ComponentValue::Text(text) => Some(Value::String(text.clone())),
                ComponentValue::Int(number) => Some(json!(number)),
            })
            .collect();
        json!({
            "id": self.id,
            "contributes": self.contributes,
            "hint": self.hint,
            "values": values,
        })
    }

    /// Writes a readable tree: one line per component, `+` for contributing
    /// and `-` for not, with hints and leaves.
    pub fn explain(&self, out: &mut String, depth: usize) {
        let mark = if self.contributes { '+' } else { '-' };
        out.push_str(&"  ".repeat(depth));
        out.push(mark);
        out.push_str(self.id);
        let leaves: Vec<String> = self
            .values
            .iter()
            .filter_map(|value| match value {
                ComponentValue::Text(text) => Some(format!("{text:?}")),
                ComponentValue::Int(number) => Some(number.to_string()),
                ComponentValue::Component(_) => None,
            })
            .collect();
        if !leaves.is_empty() {
            out.push(' ');
            out.push_str(&leaves.join(" "));
        }
        if let Some(hint) = &self.hint {
            out.push_str(" (");
            out.push_str(hint);
            out.push(')');
        }
        out.push('\n');
        for child in self.children() {
            if child.values.is_empty() && child.hint.is_none() {
                continue;
            }
            child.explain(out, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contribution_is_derived_and_overridable() {
        let mut frame = Component::new(
            "frame",
            vec![
                ComponentValue::Component(Component::text("module", "app")),
                ComponentValue::Component(Component::empty("filename")),
            ],
        );
        assert!(frame.contributes);
        assert_eq!(frame.contributing_values(), vec!["app"]);
        frame.disable("non app frame");
        assert!(frame.contributing_values().is_empty());
        frame.set_values(vec![ComponentValue::Int(7)]);
        assert!(frame.contributes, "new values derive contribution again");
        assert_eq!(frame.contributing_values(), vec!["7"]);
    }

    #[test]
    fn json_leaves_out_empty_components() {
        let component = Component::new(
            "frame",
            vec![
                ComponentValue::Component(Component::empty("module")),
                ComponentValue::Component(Component::text("function", "f")),
            ],
        );
        assert_eq!(
            component.to_json(),
            json!({"id":"frame","contributes":true,"hint":null,"values":[
                {"id":"function","contributes":true,"hint":null,"values":["f"]}]})
        );
    }
}
