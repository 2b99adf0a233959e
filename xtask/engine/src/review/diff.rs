//! The offline prediction: the deployed template against the new one, resource by resource, with
//! replacement predicted from the resource schemas' `createOnlyProperties`.
//!
//! Replacement is `True` when the type or a create-only value changes (parameters substituted, so
//! a new stream ARN counts), `Conditional` when a create-only value refers (`Ref`, `Fn::GetAtt`,
//! `Fn::Sub`) to a resource that is itself replaced or may be: its new physical id is only known
//! at deploy time. Resources that merely refer to a replaced one are listed as `Modify` with the
//! referring property and its cause, as CloudFormation lists them. Unknown types get no
//! replacement prediction (`None`).

use super::model::{Action, Params, PropertyChange, Replacement, ResourceChange, Source};
use super::path::{ResourcePath, Seg};
use super::resolve::{Substitutions, references, substitute};
use super::{danger, props, schema};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Resource-level attributes compared besides `Properties`; each is a scope entry when it changes.
const ATTRIBUTES: &[&str] =
    &["Metadata", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy", "Condition", "CreationPolicy", "UpdatePolicy"];
/// Top-level template sections whose entries are compared besides `Resources`.
const SECTIONS: &[&str] = &["Parameters", "Conditions", "Mappings", "Rules", "Outputs"];

/// Both templates' resources, parameters substituted: the common input of prediction and merge.
#[derive(Debug, Default, Clone)]
pub struct Templates {
    /// Deployed resources by logical id (empty for a new stack).
    pub old: BTreeMap<String, Value>,
    /// New resources by logical id.
    pub new: BTreeMap<String, Value>,
    /// Template changes outside `Resources`, e.g. `Outputs.Url: added`.
    pub other_changes: Vec<String>,
    /// Whether a deployed template was given.
    pub has_old: bool,
}

impl Templates {
    /// Prepares both templates.
    pub fn new(old: Option<&Value>, new: &Value, old_params: &Params, new_params: &Params) -> Templates {
        let subs = Substitutions::new(old, new, old_params, new_params);
        Templates {
            old: old.map(|t| resources(t, &subs.old)).unwrap_or_default(),
            new: resources(new, &subs.new),
            other_changes: old.map(|t| other_changes(t, new)).unwrap_or_default(),
            has_old: old.is_some(),
        }
    }
}

fn resources(template: &Value, params: &Params) -> BTreeMap<String, Value> {
    let declared = template.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default();
    declared.into_iter().map(|(id, definition)| (id, substitute(&definition, params))).collect()
}

/// Predicts every resource change between the deployed template (`None` for a new stack) and the
/// new one, classified for danger. Parameter maps may be empty; see [`Substitutions`].
pub fn predict(old: Option<&Value>, new: &Value, old_params: &Params, new_params: &Params) -> Vec<ResourceChange> {
    let templates = Templates::new(old, new, old_params, new_params);
    let mut changes = predict_from(&templates);
    for change in &mut changes {
        change.dangers =
            danger::classify(change, templates.old.get(&change.logical_id), templates.new.get(&change.logical_id));
    }
    changes
}

/// The prediction without danger classification, by logical id.
pub fn predict_from(templates: &Templates) -> Vec<ResourceChange> {
    let ids: BTreeSet<&String> = templates.old.keys().chain(templates.new.keys()).collect();
    let mut changes: BTreeMap<String, ResourceChange> = BTreeMap::new();
    for id in ids {
        let change = match (templates.old.get(id), templates.new.get(id)) {
            (None, Some(new)) => Some(whole(Action::Add, id, new)),
            (Some(old), None) => Some(whole(Action::Remove, id, old)),
            (Some(old), Some(new)) => modify(id, old, new),
            (None, None) => None,
        };
        if let Some(change) = change {
            changes.insert(id.clone(), change);
        }
    }
    propagate_replacements(&mut changes, templates);
    changes.into_values().collect()
}

fn type_of(definition: &Value) -> String {
    definition.get("Type").and_then(Value::as_str).unwrap_or("").to_string()
}

fn properties(definition: &Value) -> Value {
    definition.get("Properties").cloned().unwrap_or_else(|| Value::Object(Map::new()))
}

fn blank(action: Action, id: &str, resource_type: String) -> ResourceChange {
    ResourceChange {
        action,
        logical_id: id.to_string(),
        resource_type,
        physical_id: None,
        replacement: None,
        scope: Vec::new(),
        properties: Vec::new(),
        source: Source::Predicted,
        dangers: Vec::new(),
    }
}

/// An added or removed resource: like CloudFormation, no property list.
fn whole(action: Action, id: &str, definition: &Value) -> ResourceChange {
    blank(action, id, type_of(definition))
}

fn predicted_property(
    path: ResourcePath,
    before: Option<Value>,
    after: Option<Value>,
    create_only: bool,
) -> PropertyChange {
    PropertyChange { path: path.to_string(), before, after, create_only, cause: None, source: Source::Predicted }
}

fn modify(id: &str, old: &Value, new: &Value) -> Option<ResourceChange> {
    let (old_type, new_type) = (type_of(old), type_of(new));
    let (old_props, new_props) = (properties(old), properties(new));
    let mut change = blank(Action::Modify, id, new_type.clone());
    if old_type != new_type {
        // CloudFormation rejects a type change on a logical id; if it went through, it would be
        // a new resource.
        change.properties.push(predicted_property(
            ResourcePath(vec![Seg::Field("Type".into())]),
            Some(Value::String(old_type)),
            Some(Value::String(new_type.clone())),
            true,
        ));
    }
    let create_only_changed = schema::changed_create_only(&new_type, &old_props, &new_props);
    let root = ResourcePath(vec![Seg::Field("Properties".into())]);
    for leaf in props::diff(&root, Some(&old_props), Some(&new_props)) {
        let segs = leaf.path.property_segs().unwrap_or_default();
        let create_only = schema::touches(&create_only_changed, segs);
        let scope =
            if matches!(segs.first(), Some(Seg::Field(name)) if name == "Tags") { "Tags" } else { "Properties" };
        add_scope(&mut change.scope, scope);
        change.properties.push(predicted_property(leaf.path, leaf.before, leaf.after, create_only));
    }
    for attribute in ATTRIBUTES {
        let (before, after) = (attribute_value(old, attribute), attribute_value(new, attribute));
        if before != after {
            add_scope(&mut change.scope, attribute);
            change.properties.push(predicted_property(
                ResourcePath(vec![Seg::Field(attribute.to_string())]),
                before,
                after,
                false,
            ));
        }
    }
    if change.properties.is_empty() {
        return None;
    }
    change.replacement = if change.properties.iter().any(|p| p.create_only) {
        Some(Replacement::True)
    } else if schema::create_only(&new_type).is_some() {
        Some(Replacement::False)
    } else {
        None
    };
    Some(change)
}

/// An attribute's value; `DependsOn` normalized to a sorted list (order and string-vs-list do not
/// matter to CloudFormation).
fn attribute_value(definition: &Value, attribute: &str) -> Option<Value> {
    let value = definition.get(attribute)?;
    if attribute != "DependsOn" {
        return Some(value.clone());
    }
    let mut names: Vec<String> = match value {
        Value::String(name) => vec![name.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => return Some(value.clone()),
    };
    names.sort();
    names.dedup();
    Some(Value::from(names))
}

fn add_scope(scope: &mut Vec<String>, entry: &str) {
    if !scope.iter().any(|s| s == entry) {
        scope.push(entry.to_string());
    }
}

/// Marks resources whose properties refer to a replaced resource, until nothing more changes.
fn propagate_replacements(changes: &mut BTreeMap<String, ResourceChange>, templates: &Templates) {
    loop {
        let replaced: BTreeSet<String> = changes
            .values()
            .filter(|c| c.action == Action::Modify && c.replaces())
            .map(|c| c.logical_id.clone())
            .collect();
        let mut progressed = false;
        for (id, definition) in &templates.new {
            if let Some(old) = templates.old.get(id) {
                progressed |= mark_references(changes, id, old, definition, &replaced);
            }
        }
        if !progressed {
            return;
        }
    }
}

/// Adds the properties of `id` that refer to replaced resources; returns whether anything changed.
fn mark_references(
    changes: &mut BTreeMap<String, ResourceChange>,
    id: &str,
    old: &Value,
    new: &Value,
    replaced: &BTreeSet<String>,
) -> bool {
    let resource_type = type_of(new);
    let new_props = properties(new);
    let Some(members) = new_props.as_object() else { return false };
    let mut progressed = false;
    for (name, value) in members {
        let hits: Vec<String> = references(value).intersection(replaced).filter(|hit| *hit != id).cloned().collect();
        if hits.is_empty() {
            continue;
        }
        let create_only = refers_through_create_only(&resource_type, &new_props, name, &hits);
        let change = changes.entry(id.to_string()).or_insert_with(|| {
            let mut change = blank(Action::Modify, id, resource_type.clone());
            change.replacement = schema::create_only(&resource_type).map(|_| Replacement::False);
            change
        });
        let path = ResourcePath::property(name).to_string();
        let cause = format!("{} {} replaced", hits.join(", "), if hits.len() == 1 { "is" } else { "are" });
        if !change.properties.iter().any(|p| p.path == path && p.cause.is_some()) {
            let before = old.get("Properties").and_then(|p| p.get(name)).cloned();
            let mut property =
                predicted_property(ResourcePath::property(name), before, Some(value.clone()), create_only);
            property.cause = Some(cause);
            change.properties.push(property);
            add_scope(&mut change.scope, "Properties");
            progressed = true;
        }
        if create_only
            && change.replacement != Some(Replacement::True)
            && change.replacement != Some(Replacement::Conditional)
        {
            change.replacement = Some(Replacement::Conditional);
            progressed = true;
        }
    }
    progressed
}

/// Whether a create-only value under top-level property `name` refers to one of `hits`.
fn refers_through_create_only(resource_type: &str, new_props: &Value, name: &str, hits: &[String]) -> bool {
    schema::create_only(resource_type)
        .unwrap_or_default()
        .iter()
        .filter(|path| path.0.first().is_some_and(|f| f == name))
        .any(|path| path.extract(new_props).is_some_and(|value| references(&value).iter().any(|r| hits.contains(r))))
}

/// `Section.Name: added | removed | modified` for the sections besides `Resources`, plus changed
/// top-level keys such as `Description`.
fn other_changes(old: &Value, new: &Value) -> Vec<String> {
    let empty = Map::new();
    let (old_top, new_top) = (old.as_object().unwrap_or(&empty), new.as_object().unwrap_or(&empty));
    let mut out = Vec::new();
    let keys: BTreeSet<&String> = old_top.keys().chain(new_top.keys()).filter(|k| *k != "Resources").collect();
    for key in keys {
        let (a, b) = (old_top.get(key), new_top.get(key));
        if SECTIONS.contains(&key.as_str()) {
            let (a, b) =
                (a.and_then(Value::as_object).unwrap_or(&empty), b.and_then(Value::as_object).unwrap_or(&empty));
            let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for name in names {
                if let Some(what) = verdict(a.get(name), b.get(name)) {
                    out.push(format!("{key}.{name}: {what}"));
                }
            }
        } else if let Some(what) = verdict(a, b) {
            out.push(format!("{key}: {what}"));
        }
    }
    out
}

fn verdict(old: Option<&Value>, new: Option<&Value>) -> Option<&'static str> {
    match (old, new) {
        (None, Some(_)) => Some("added"),
        (Some(_), None) => Some("removed"),
        (Some(a), Some(b)) if a != b => Some("modified"),
        _ => None,
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
