//! Template values with parameters substituted, so a changed parameter (such as the replica stream
//! ARN) shows as a property change; and the resources a value refers to.

use super::model::Params;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The parameter values to substitute on each side of a diff.
///
/// A parameter is substituted only where its value is known on both sides that declare it (given,
/// or the template's `Default`; never a `NoEcho` one, whose value reads back as `****`): resolving
/// one side only would show a change that is not there.
#[derive(Debug, Default, Clone)]
pub struct Substitutions {
    /// For the deployed template.
    pub old: Params,
    /// For the new template.
    pub new: Params,
}

impl Substitutions {
    /// Works out what to substitute from both templates and the given values.
    pub fn new(old_template: Option<&Value>, new_template: &Value, old_params: &Params, new_params: &Params) -> Self {
        let (old_known, old_unknown) = match old_template {
            Some(template) => effective(template, old_params),
            None => (Params::new(), BTreeSet::new()),
        };
        let (new_known, new_unknown) = effective(new_template, new_params);
        let usable = |known: Params| -> Params {
            known.into_iter().filter(|(name, _)| !old_unknown.contains(name) && !new_unknown.contains(name)).collect()
        };
        Substitutions { old: usable(old_known), new: usable(new_known) }
    }
}

/// The known values of a template's parameters (given, else `Default`) and the names with none.
fn effective(template: &Value, given: &Params) -> (Params, BTreeSet<String>) {
    let mut known = Params::new();
    let mut unknown = BTreeSet::new();
    let declared = template.get("Parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, declaration) in &declared {
        let no_echo = declaration.get("NoEcho").is_some_and(|v| v == true || v == "true");
        let default = declaration.get("Default").map(scalar_text);
        match given.get(name).cloned().or(default) {
            Some(value) if !no_echo => {
                known.insert(name.clone(), value);
            }
            _ => {
                unknown.insert(name.clone());
            }
        }
    }
    (known, unknown)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `value` with `Ref`s to (and `${}` in `Fn::Sub` of) the given parameters replaced by their values.
pub fn substitute(value: &Value, params: &Params) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 => {
            if let Some(Value::String(name)) = map.get("Ref") {
                if let Some(text) = params.get(name) {
                    return Value::String(text.clone());
                }
            }
            if let Some(sub) = map.get("Fn::Sub") {
                return substitute_sub(sub, params);
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, params))).collect())
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, params))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, params)).collect()),
        other => other.clone(),
    }
}

fn substitute_sub(sub: &Value, params: &Params) -> Value {
    let wrap = |inner: Value| Value::Object(Map::from_iter([("Fn::Sub".to_string(), inner)]));
    match sub {
        Value::String(text) => wrap(Value::String(substitute_text(text, params, &Map::new()))),
        Value::Array(parts) => match parts.as_slice() {
            [Value::String(text), Value::Object(vars)] => {
                let vars_out = vars.iter().map(|(k, v)| (k.clone(), substitute(v, params))).collect();
                wrap(Value::Array(vec![Value::String(substitute_text(text, params, vars)), Value::Object(vars_out)]))
            }
            _ => wrap(substitute(sub, params)),
        },
        other => wrap(substitute(other, params)),
    }
}

/// Replaces `${Name}` by a parameter's value unless the `Fn::Sub` variable map shadows it;
/// `${!Literal}` stays as written.
fn substitute_text(text: &str, params: &Params, shadowed: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        match params.get(name) {
            Some(value) if !shadowed.contains_key(name) => out.push_str(value),
            _ => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Logical ids (and parameter names) a value refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`;
/// pseudo parameters (`AWS::Region`) are left out.
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    collect_references(value, &mut found);
    found.retain(|name| !name.starts_with("AWS::"));
    found
}

fn collect_references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("Ref") {
                found.insert(name.clone());
            }
            match map.get("Fn::GetAtt") {
                Some(Value::Array(parts)) => {
                    if let Some(Value::String(name)) = parts.first() {
                        found.insert(name.clone());
                    }
                }
                Some(Value::String(dotted)) => {
                    found.insert(dotted.split('.').next().unwrap_or(dotted).to_string());
                }
                _ => {}
            }
            match map.get("Fn::Sub") {
                Some(Value::String(text)) => sub_names(text, found),
                Some(Value::Array(parts)) => {
                    if let Some(Value::String(text)) = parts.first() {
                        sub_names(text, found);
                    }
                }
                _ => {}
            }
            map.values().for_each(|v| collect_references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, found)),
        _ => {}
    }
}

fn sub_names(text: &str, found: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return };
        let name = &after[..end];
        if !name.starts_with('!') {
            found.insert(name.split('.').next().unwrap_or(name).to_string());
        }
        rest = &after[end + 1..];
    }
}

/// A template value as short text for reviewers: strings as they are, `Ref X`, `GetAtt X.Arn`,
/// the `Fn::Sub` string, anything else as compact JSON.
pub fn expr_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(map) if map.len() == 1 => match (map.get("Ref"), map.get("Fn::GetAtt"), map.get("Fn::Sub")) {
            (Some(Value::String(name)), _, _) => format!("Ref {name}"),
            (_, Some(Value::Array(parts)), _) => {
                let parts: Vec<String> = parts.iter().map(expr_text).collect();
                format!("GetAtt {}", parts.join("."))
            }
            (_, Some(Value::String(dotted)), _) => format!("GetAtt {dotted}"),
            (_, _, Some(Value::String(text))) => text.clone(),
            (_, _, Some(Value::Array(parts))) => parts.first().map(expr_text).unwrap_or_default(),
            _ => value.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn refs_and_sub_variables_of_known_parameters_are_substituted() {
        let value = json!({"A": {"Ref": "P"}, "B": {"Fn::Sub": "x-${P}-${AWS::Region}-${!P}"}, "C": {"Ref": "Q"}});
        let out = substitute(&value, &params(&[("P", "v")]));
        assert_eq!(out, json!({"A": "v", "B": {"Fn::Sub": "x-v-${AWS::Region}-${!P}"}, "C": {"Ref": "Q"}}));
    }

    #[test]
    fn a_parameter_unknown_on_one_side_is_substituted_on_neither() {
        let template = json!({"Parameters": {"Arn": {"Type": "String"}, "Size": {"Type": "Number", "Default": 5}}});
        let subs = Substitutions::new(Some(&template), &template, &Params::new(), &params(&[("Arn", "arn:new")]));
        assert_eq!(subs.old, params(&[("Size", "5")]));
        assert_eq!(subs.new, params(&[("Size", "5")]));
        let both = Substitutions::new(Some(&template), &template, &params(&[("Arn", "a")]), &params(&[("Arn", "b")]));
        assert_eq!(both.old.get("Arn").map(String::as_str), Some("a"));
        assert_eq!(both.new.get("Arn").map(String::as_str), Some("b"));
    }

    #[test]
    fn references_cover_ref_getatt_and_sub_but_not_pseudo_parameters() {
        let value = json!([
            {"Ref": "Table"},
            {"Fn::GetAtt": ["Stream", "Arn"]},
            {"Fn::GetAtt": "Queue.Arn"},
            {"Fn::Sub": "${Bucket.Arn}/*:${AWS::Region}:${!Literal}"}
        ]);
        let found: Vec<String> = references(&value).into_iter().collect();
        assert_eq!(found, ["Bucket", "Queue", "Stream", "Table"]);
    }

    #[test]
    fn expressions_read_like_short_form_yaml() {
        assert_eq!(expr_text(&json!({"Fn::GetAtt": ["Stream", "Arn"]})), "GetAtt Stream.Arn");
        assert_eq!(expr_text(&json!({"Ref": "Queue"})), "Ref Queue");
        assert_eq!(expr_text(&json!({"Fn::Sub": "${Bucket.Arn}/*"})), "${Bucket.Arn}/*");
        assert_eq!(expr_text(&json!(["a", 1])), "[\"a\",1]");
    }
}
