//! One stack's review: CloudFormation's change set completed by the offline prediction. Where
//! CloudFormation gives a field (action, replacement, scope, property details with values) it
//! wins; the prediction fills what is missing (moto reports only actions); a change only one side
//! sees is kept and marked by its source. Without a change set (`diff` before any call) the
//! review is the prediction alone.

use super::diff::{Templates, predict_from};
use super::model::{
    Action, CfnChange, CfnDetail, Params, PropertyChange, Replacement, ResourceChange, Source, StackReview,
};
use super::path::ResourcePath;
use super::{danger, predict};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The note of a review made without a change set.
pub const OFFLINE_NOTE: &str =
    "offline: no change set was created; every change is predicted from the templates and the AWS resource schemas";

/// Reviews one stack. `cfn` is the change set's resource changes (`None`: offline, no change
/// set); `old_template` the deployed template (`None`: the stack does not exist yet); the
/// parameter maps the deployed and new values (empty when unknown).
pub fn review(
    stack: &str,
    region: &str,
    cfn: Option<Vec<CfnChange>>,
    old_template: Option<&Value>,
    new_template: &Value,
    old_params: &Params,
    new_params: &Params,
) -> StackReview {
    let templates = Templates::new(old_template, new_template, old_params, new_params);
    let mut notes = Vec::new();
    let changes = match cfn {
        None => {
            notes.push(OFFLINE_NOTE.to_string());
            predict(old_template, new_template, old_params, new_params)
        }
        Some(reported) => {
            let mut predicted: BTreeMap<String, ResourceChange> =
                predict_from(&templates).into_iter().map(|c| (c.logical_id.clone(), c)).collect();
            let mut changes: Vec<ResourceChange> =
                reported.iter().map(|c| merge_one(c, predicted.remove(&c.logical_id))).collect();
            notes.extend(cfn_notes(&reported, &predicted, templates.has_old));
            changes.extend(predicted.into_values());
            changes.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
            classify(&mut changes, &templates, &reported);
            changes
        }
    };
    notes.extend(unknown_type_notes(&changes));
    let no_changes = changes.is_empty() && templates.other_changes.is_empty();
    StackReview {
        stack: stack.to_string(),
        region: region.to_string(),
        changes,
        other_changes: templates.other_changes,
        no_changes,
        notes,
        unreviewable: None,
    }
}

/// Classifies merged changes against the templates, falling back to CloudFormation's before/after
/// contexts for resources a template does not have.
fn classify(changes: &mut [ResourceChange], templates: &Templates, reported: &[CfnChange]) {
    for change in changes {
        let cfn = reported.iter().find(|c| c.logical_id == change.logical_id);
        let before = cfn.and_then(|c| context(c.before_context.as_deref()));
        let after = cfn.and_then(|c| context(c.after_context.as_deref()));
        let old = templates.old.get(&change.logical_id).or(before.as_ref());
        let new = templates.new.get(&change.logical_id).or(after.as_ref());
        change.dangers = danger::classify(change, old, new);
    }
}

/// A `BeforeContext`/`AfterContext` as a resource definition (`{"Properties": ...}`), used for
/// danger classification when a template does not have the resource.
fn context(text: Option<&str>) -> Option<Value> {
    let value: Value = serde_json::from_str(text?).ok()?;
    if value.get("Properties").is_some() {
        Some(value)
    } else {
        Some(Value::Object(Map::from_iter([("Properties".to_string(), value)])))
    }
}

fn merge_one(cfn: &CfnChange, predicted: Option<ResourceChange>) -> ResourceChange {
    let action = Action::from_cfn(&cfn.action);
    let predicted_modify = predicted.as_ref().filter(|p| p.action == action);
    let replacement = cfn
        .replacement
        .as_deref()
        .and_then(Replacement::from_cfn)
        .or_else(|| if action == Action::Modify { predicted_modify.and_then(|p| p.replacement) } else { None });
    let scope = match (cfn.scope.is_empty(), predicted_modify) {
        (true, Some(p)) => p.scope.clone(),
        _ => cfn.scope.clone(),
    };
    let predicted_properties = predicted_modify.map(|p| p.properties.clone()).unwrap_or_default();
    ResourceChange {
        action,
        logical_id: cfn.logical_id.clone(),
        resource_type: if cfn.resource_type.is_empty() {
            predicted.as_ref().map(|p| p.resource_type.clone()).unwrap_or_default()
        } else {
            cfn.resource_type.clone()
        },
        physical_id: cfn.physical_id.clone(),
        replacement,
        scope,
        properties: merge_properties(&cfn.details, predicted_properties),
        source: if predicted.is_some() { Source::Both } else { Source::CloudFormation },
        dangers: Vec::new(),
    }
}

/// CloudFormation's details win; a detail without values is replaced by the predicted leaves
/// under it; predicted changes no detail mentions are kept as predicted.
fn merge_properties(details: &[CfnDetail], mut predicted: Vec<PropertyChange>) -> Vec<PropertyChange> {
    let mut out = Vec::new();
    for reported in dedupe(details.iter().map(detail_to_property).collect()) {
        let (under, rest): (Vec<_>, Vec<_>) = predicted.into_iter().partition(|p| related(&p.path, &reported.path));
        predicted = rest;
        if reported.before.is_none() && reported.after.is_none() && !under.is_empty() {
            out.extend(under.into_iter().map(|p| PropertyChange {
                create_only: p.create_only || reported.create_only,
                cause: reported.cause.clone().or(p.cause),
                source: Source::Both,
                ..p
            }));
        } else {
            let cause = reported.cause.clone().or_else(|| under.iter().find_map(|p| p.cause.clone()));
            let source = if under.is_empty() { Source::CloudFormation } else { Source::Both };
            out.push(PropertyChange { cause, source, ..reported });
        }
    }
    out.extend(predicted);
    out
}

/// One path equals or lies inside the other.
fn related(a: &str, b: &str) -> bool {
    let inside = |child: &str, parent: &str| {
        child.strip_prefix(parent).is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
    };
    inside(a, b) || inside(b, a)
}

/// CloudFormation often lists one property twice (a reference and a direct change): keep one
/// entry per path, combining what each says.
fn dedupe(properties: Vec<PropertyChange>) -> Vec<PropertyChange> {
    let mut out: Vec<PropertyChange> = Vec::new();
    for property in properties {
        match out.iter_mut().find(|p| p.path == property.path) {
            Some(existing) => {
                existing.create_only |= property.create_only;
                existing.before = existing.before.take().or(property.before);
                existing.after = existing.after.take().or(property.after);
                existing.cause = existing.cause.take().or(property.cause);
            }
            None => out.push(property),
        }
    }
    out
}

fn detail_to_property(detail: &CfnDetail) -> PropertyChange {
    let attribute = detail.attribute.as_deref().unwrap_or("Properties");
    let path = match (&detail.path, attribute, &detail.name) {
        (Some(pointer), _, _) => ResourcePath::from_pointer(pointer).to_string(),
        (None, "Properties", Some(name)) => ResourcePath::property(name).to_string(),
        (None, "Tags", _) => ResourcePath::property("Tags").to_string(),
        (None, other, Some(name)) => format!("{other}.{name}"),
        (None, other, None) => other.to_string(),
    };
    PropertyChange {
        path,
        before: detail.before.as_deref().map(parse_value),
        after: detail.after.as_deref().map(parse_value),
        create_only: matches!(detail.requires_recreation.as_deref(), Some("Always" | "Conditionally")),
        cause: cause(detail),
        source: Source::CloudFormation,
    }
}

/// CloudFormation's values are JSON text when structured, plain text otherwise (and may be
/// truncated, which makes them plain text).
fn parse_value(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
        _ => Value::String(text.to_string()),
    }
}

fn cause(detail: &CfnDetail) -> Option<String> {
    let entity = detail.causing_entity.as_deref().unwrap_or("?");
    match detail.change_source.as_deref()? {
        "DirectModification" | "NoModification" => None,
        "ParameterReference" => Some(format!("parameter {entity} changes")),
        "ResourceReference" => Some(format!("{entity} changes")),
        "ResourceAttribute" => Some(format!("attribute {entity} changes")),
        other => Some(format!("{other} {entity}")),
    }
}

fn cfn_notes(reported: &[CfnChange], unreported: &BTreeMap<String, ResourceChange>, has_old: bool) -> Vec<String> {
    let mut notes = Vec::new();
    let actions_only =
        reported.iter().filter(|c| c.action == "Modify").any(|c| c.replacement.is_none() && c.details.is_empty());
    if actions_only {
        notes.push(
            "the endpoint reported only actions (no Replacement, no Details); replacement and property changes are \
             predicted from the templates and the AWS resource schemas"
                .to_string(),
        );
    }
    if !unreported.is_empty() {
        let ids: Vec<&str> = unreported.keys().map(String::as_str).collect();
        notes
            .push(format!("predicted but not reported by the change set (kept, marked Predicted): {}", ids.join(", ")));
    }
    if !has_old && reported.iter().any(|c| c.action != "Add") {
        notes.push(
            "the deployed template was not available: nothing could be predicted for existing resources".to_string(),
        );
    }
    notes
}

fn unknown_type_notes(changes: &[ResourceChange]) -> Vec<String> {
    let mut types: Vec<&str> = changes
        .iter()
        .filter(|c| c.action == Action::Modify && c.replacement.is_none())
        .map(|c| c.resource_type.as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    types.into_iter().map(|t| format!("no resource schema for {t}: its replacement could not be predicted")).collect()
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
