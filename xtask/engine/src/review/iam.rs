//! IAM broadening: whether a change lets anyone do more than before. Policy statements are
//! expanded into grants (effect, principal, action, resource, condition); an `Allow` grant of the
//! new document not covered by the old ones, or a `Deny` grant of the old document not covered by
//! the new ones, broadens. A grant covers another when the principal matches (or is `*`), the
//! action and resource match as IAM wildcards, and the condition is absent or the same: so a
//! removed condition broadens and an added one narrows. Like the CDK's `--require-approval
//! broadening`, a new role or policy with any `Allow` is broadening.

use super::resolve::expr_text;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// How many grants a detail names before summarizing the rest.
const SHOWN: usize = 3;

/// Types whose changes can broaden permissions.
pub fn is_iam_type(resource_type: &str) -> bool {
    documents_of(resource_type, &Value::Null).is_some()
}

/// What broadens between the old and new definition (`None`: absent). One line per document.
pub fn broadening(resource_type: &str, old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let (Some(old_docs), Some(new_docs)) = (
        documents_of(resource_type, old.unwrap_or(&Value::Null)),
        documents_of(resource_type, new.unwrap_or(&Value::Null)),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ((label, old_doc), (_, new_doc)) in old_docs.iter().zip(&new_docs) {
        let lines = document_broadening(old_doc, new_doc);
        if !lines.is_empty() {
            out.push(format!("{label}: {}", summarize(&lines)));
        }
    }
    let attached = attachments(resource_type, old, new);
    if !attached.is_empty() {
        out.push(summarize(&attached));
    }
    if new.is_some() && old.is_none() && !out.is_empty() {
        out.insert(0, "new IAM grant".to_string());
        return vec![out.join("; ")];
    }
    out
}

fn summarize(lines: &[String]) -> String {
    let shown: Vec<&str> = lines.iter().take(SHOWN).map(String::as_str).collect();
    match lines.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} (+{more} more)", shown.join(", ")),
    }
}

/// The policy documents of a resource type, each labelled, as statement lists; `None` for types
/// that grant nothing. Inline role policies are pooled: moving a statement between them is not a
/// change in what the role may do.
fn documents_of(resource_type: &str, definition: &Value) -> Option<Vec<(&'static str, Vec<Value>)>> {
    let props = definition.get("Properties").unwrap_or(&Value::Null);
    let statements = |doc: Option<&Value>| -> Vec<Value> {
        match doc.and_then(|d| d.get("Statement")) {
            Some(Value::Array(items)) => items.clone(),
            Some(single @ Value::Object(_)) => vec![single.clone()],
            _ => Vec::new(),
        }
    };
    let docs = match resource_type {
        "AWS::IAM::Role" => {
            let inline = props.get("Policies").and_then(Value::as_array).cloned().unwrap_or_default();
            let pooled = inline.iter().flat_map(|p| statements(p.get("PolicyDocument"))).collect();
            vec![("trust policy", statements(props.get("AssumeRolePolicyDocument"))), ("permissions", pooled)]
        }
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::GroupPolicy"
        | "AWS::S3::BucketPolicy"
        | "AWS::SQS::QueuePolicy"
        | "AWS::SNS::TopicPolicy" => {
            vec![("policy", statements(props.get("PolicyDocument")))]
        }
        "AWS::Lambda::Permission" => {
            let grant = if props.is_object() { vec![permission_statement(props)] } else { Vec::new() };
            vec![("invoke permission", grant)]
        }
        _ => return None,
    };
    Some(docs)
}

/// A `Lambda::Permission` as the statement it adds to the function's resource policy.
fn permission_statement(props: &Value) -> Value {
    let principal = props.get("Principal").cloned().unwrap_or(Value::Null);
    let kind = match principal.as_str() {
        Some(p) if p.ends_with(".amazonaws.com") => "Service",
        _ => "AWS",
    };
    let conditions: serde_json::Map<String, Value> =
        ["SourceArn", "SourceAccount", "PrincipalOrgID", "FunctionUrlAuthType"]
            .iter()
            .filter_map(|key| Some((key.to_string(), props.get(*key)?.clone())))
            .collect();
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {kind: principal},
        "Action": props.get("Action").cloned().unwrap_or(Value::Null),
        "Resource": props.get("FunctionName").cloned().unwrap_or(Value::Null),
    });
    if !conditions.is_empty() {
        statement["Condition"] = Value::Object(conditions);
    }
    statement
}

/// One expanded grant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    allow: bool,
    principal: String,
    action: String,
    resource: String,
    condition: String,
}

fn document_broadening(old: &[Value], new: &[Value]) -> Vec<String> {
    let (old_grants, new_grants) = (grants(old), grants(new));
    // (verb, principal, resource, suffix) → actions, so one line names every action on a resource.
    let mut found: BTreeMap<(&str, &str, &str, &str), Vec<&str>> = BTreeMap::new();
    for grant in new_grants.iter().filter(|g| g.allow) {
        if !old_grants.iter().any(|o| o.allow && covers(o, grant)) {
            let unconditional = grant.condition.is_empty()
                && old_grants.iter().any(|o| {
                    o.allow
                        && !o.condition.is_empty()
                        && covers(&Grant { condition: String::new(), ..o.clone() }, grant)
                });
            let suffix = if unconditional { " (condition removed)" } else { "" };
            found.entry(("allows", &grant.principal, &grant.resource, suffix)).or_default().push(&grant.action);
        }
    }
    for grant in old_grants.iter().filter(|g| !g.allow) {
        if !new_grants.iter().any(|n| !n.allow && covers(n, grant)) {
            found.entry(("no longer denies", &grant.principal, &grant.resource, "")).or_default().push(&grant.action);
        }
    }
    found
        .into_iter()
        .map(|((verb, principal, resource, suffix), actions)| {
            let who = if principal.is_empty() { String::new() } else { format!("{principal} ") };
            let on = if resource.is_empty() { String::new() } else { format!(" on {resource}") };
            format!("{verb} {who}{}{on}{suffix}", actions.join(", "))
        })
        .collect()
}

/// Every (principal, action, resource) combination of every statement.
fn grants(statements: &[Value]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for statement in statements {
        let allow = statement.get("Effect").and_then(Value::as_str) != Some("Deny");
        let condition = statement.get("Condition").map(Value::to_string).unwrap_or_default();
        let principals = principals(statement);
        let actions = listed(statement, "Action", "NotAction");
        let resources = listed(statement, "Resource", "NotResource");
        for principal in &principals {
            for action in &actions {
                for resource in &resources {
                    out.insert(Grant {
                        allow,
                        principal: principal.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                        condition: condition.clone(),
                    });
                }
            }
        }
    }
    out
}

/// `Service:lambda.amazonaws.com`, `AWS:arn:...`, `*`; `""` for identity policies.
fn principals(statement: &Value) -> Vec<String> {
    if let Some(not) = statement.get("NotPrincipal") {
        return vec![format!("NotPrincipal {}", not)];
    }
    match statement.get("Principal") {
        None => vec![String::new()],
        Some(Value::String(star)) => vec![star.clone()],
        Some(Value::Object(map)) => map
            .iter()
            .flat_map(|(kind, v)| {
                items(v).into_iter().map(move |item| if item == "*" { item } else { format!("{kind}:{item}") })
            })
            .collect(),
        Some(other) => vec![expr_text(other)],
    }
}

/// The entries of `key`; a `Not*` form becomes one opaque entry compared only for equality.
fn listed(statement: &Value, key: &str, not_key: &str) -> Vec<String> {
    if let Some(not) = statement.get(not_key) {
        let mut entries = items(not);
        entries.sort();
        return vec![format!("{not_key} [{}]", entries.join(", "))];
    }
    match statement.get(key) {
        Some(value) => items(value),
        None => vec![String::new()],
    }
}

fn items(value: &Value) -> Vec<String> {
    match value {
        Value::Array(values) => values.iter().map(expr_text).collect(),
        other => vec![expr_text(other)],
    }
}

fn covers(wide: &Grant, narrow: &Grant) -> bool {
    (wide.principal == "*" || wide.principal == narrow.principal)
        && wildcard(&wide.action.to_ascii_lowercase(), &narrow.action.to_ascii_lowercase())
        && wildcard(&wide.resource, &narrow.resource)
        && (wide.condition.is_empty() || wide.condition == narrow.condition)
}

/// IAM wildcard match: `*` any run of characters, `?` one character.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Policies attached to more roles/users/groups/queues, managed policies attached to a role, or a
/// permissions boundary dropped.
fn attachments(resource_type: &str, old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let keys: &[&str] = match resource_type {
        "AWS::IAM::Role" => &["ManagedPolicyArns"],
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => &["Roles", "Users", "Groups"],
        "AWS::SQS::QueuePolicy" => &["Queues"],
        "AWS::SNS::TopicPolicy" => &["Topics"],
        _ => &[],
    };
    let list = |definition: Option<&Value>, key: &str| -> BTreeSet<String> {
        definition.and_then(|d| d.get("Properties")?.get(key)).map(items).unwrap_or_default().into_iter().collect()
    };
    let mut out = Vec::new();
    for key in keys {
        for added in list(new, key).difference(&list(old, key)) {
            out.push(format!("{key} adds {added}"));
        }
    }
    if resource_type == "AWS::IAM::Role" {
        let boundary = |d: Option<&Value>| d.and_then(|d| d.get("Properties")?.get("PermissionsBoundary")).cloned();
        if let (Some(before), after) = (boundary(old), boundary(new)) {
            if after.as_ref() != Some(&before) {
                out.push(format!("permissions boundary {} removed or changed", expr_text(&before)));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "iam_tests.rs"]
mod tests;
