//! The grouping information of the issue page: each variant of the
//! event's grouping, whether it contributed to the issue's hash, and its
//! component tree with the reason each part counts or not.

use sentry_core::grouping::{ComponentRef, ComponentValue, Grouping};

/// One component of a tree, flattened for a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRow {
    /// How deep it is (the root is 0).
    pub depth: usize,
    /// What it stands for: `exception`, `frame`, `function`, ...
    pub id: String,
    /// Its text leaves, joined.
    pub values: String,
    /// Whether it counts towards the hash.
    pub contributes: bool,
    /// Why it counts or not.
    pub hint: String,
}

/// A grouping variant as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantView {
    /// Its name: `app`, `system`, `default`, `custom-fingerprint`, ...
    pub name: String,
    /// Its kind, Sentry's name.
    pub kind: String,
    /// Its hash, or empty when it does not count.
    pub hash: String,
    /// Whether its hash is the issue's primary one.
    pub primary: bool,
    /// Why it does not count, or other advice.
    pub hint: String,
    /// The values hashed, for variants without a tree.
    pub values: String,
    /// The component tree.
    pub rows: Vec<ComponentRow>,
}

fn flatten(component: ComponentRef<'_>, depth: usize, rows: &mut Vec<ComponentRow>) {
    let mut leaves = Vec::new();
    for value in component.values() {
        match value {
            ComponentValue::Text(text) => leaves.push(text.to_owned()),
            ComponentValue::Int(number) => leaves.push(number.to_string()),
            ComponentValue::Component(_) => {}
        }
    }
    rows.push(ComponentRow {
        depth,
        id: component.id().to_owned(),
        values: leaves.join(" "),
        contributes: component.contributes(),
        hint: component.hint().unwrap_or_default().to_owned(),
    });
    for child in component.children() {
        flatten(child, depth + 1, rows);
    }
}

/// The variants of a grouping, those that count first.
pub fn variants(grouping: &Grouping) -> Vec<VariantView> {
    let mut views: Vec<VariantView> = grouping
        .variants
        .iter()
        .map(|variant| {
            let mut rows = Vec::new();
            if let Some(component) = &variant.component {
                flatten(component.as_ref(), 0, &mut rows);
            }
            let hash = variant
                .hash
                .as_ref()
                .map(|hash| hash.as_str().to_owned())
                .unwrap_or_default();
            VariantView {
                name: variant.name.clone(),
                kind: variant.kind.as_str().to_owned(),
                primary: !hash.is_empty() && hash == grouping.hash.as_str(),
                hash,
                hint: variant.hint.clone().unwrap_or_default(),
                values: if variant.component.is_some() {
                    String::new()
                } else {
                    variant
                        .values
                        .iter()
                        .map(crate::ui::event_view::value_text)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                rows,
            }
        })
        .collect();
    views.sort_by_key(|view| (!view.primary, view.hash.is_empty()));
    views
}

#[cfg(test)]
mod tests {
    use sentry_core::Event;
    use sentry_core::grouping::{self, GroupingConfig};

    use super::*;

    #[test]
    fn shows_why_frames_count_or_not() {
        let mut event: Event = serde_json::from_str(
            r#"{"platform":"python","exception":{"values":[{"type":"ValueError","value":"bad",
                "stacktrace":{"frames":[
                  {"module":"lib","function":"helper","in_app":false},
                  {"module":"app","function":"main","in_app":true}]}}]}}"#,
        )
        .unwrap();
        let grouping = grouping::prepare_and_group(&mut event, &GroupingConfig::default());
        let views = variants(&grouping);
        let primary = &views[0];
        assert!(primary.primary, "{views:#?}");
        assert_eq!(primary.name, "app");
        assert_eq!(primary.rows[0].depth, 0);
        let frames: Vec<(bool, &str)> = primary
            .rows
            .iter()
            .filter(|row| row.id == "frame")
            .map(|row| (row.contributes, row.hint.as_str()))
            .collect();
        assert_eq!(frames.len(), 2, "{primary:#?}");
        assert!(!frames[0].0 && !frames[0].1.is_empty(), "{frames:?}");
        assert!(frames[1].0, "{frames:?}");
        assert!(
            primary
                .rows
                .iter()
                .any(|row| row.id == "function" && row.values == "main")
        );
    }
}
