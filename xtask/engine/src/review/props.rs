//! Property-level diff of two resource definitions: the changed leaves, before → after. Intrinsic
//! functions are leaves; arrays of identifiable objects (replicas, tags, policies) are matched by
//! identity, other arrays element by element when their lengths agree, else compared whole.

use super::path::{ResourcePath, Seg};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Members that identify an element of an array of objects, in order of preference.
const IDENTITY_KEYS: &[&str] = &["Region", "Key", "PolicyName", "IndexName", "AttributeName", "Sid", "Name", "Id"];

/// One changed leaf.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafChange {
    /// Where.
    pub path: ResourcePath,
    /// Before (absent: `None`).
    pub before: Option<Value>,
    /// After (absent: `None`).
    pub after: Option<Value>,
}

/// The changed leaves between `old` and `new` at `path`.
pub fn diff(path: &ResourcePath, old: Option<&Value>, new: Option<&Value>) -> Vec<LeafChange> {
    let mut out = Vec::new();
    diff_into(path, old, new, &mut out);
    out
}

fn diff_into(path: &ResourcePath, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<LeafChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) if !is_intrinsic(a) && !is_intrinsic(b) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                diff_into(&path.child(Seg::Field(key.clone())), a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => diff_arrays(path, a, b, out),
        _ => out.push(LeafChange { path: path.clone(), before: old.cloned(), after: new.cloned() }),
    }
}

fn diff_arrays(path: &ResourcePath, a: &[Value], b: &[Value], out: &mut Vec<LeafChange>) {
    let whole = || LeafChange {
        path: path.clone(),
        before: Some(Value::Array(a.to_vec())),
        after: Some(Value::Array(b.to_vec())),
    };
    if let Some(key) = identity_key(a, b) {
        let before = out.len();
        let ids: BTreeSet<&str> = a.iter().chain(b).filter_map(|item| item.get(key)?.as_str()).collect();
        for id in ids {
            let find =
                |items: &[Value]| items.iter().find(|item| item.get(key).and_then(Value::as_str) == Some(id)).cloned();
            let seg = Seg::Key { key: key.to_string(), value: id.to_string() };
            diff_into(&path.child(seg), find(a).as_ref(), find(b).as_ref(), out);
        }
        // Same elements in another order: still a change to the template.
        if out.len() == before {
            out.push(whole());
        }
    } else if a.len() == b.len() {
        for (index, (x, y)) in a.iter().zip(b).enumerate() {
            diff_into(&path.child(Seg::Index(index)), Some(x), Some(y), out);
        }
    } else {
        out.push(whole());
    }
}

/// A member every element of both arrays has as a string, unique within each array.
fn identity_key(a: &[Value], b: &[Value]) -> Option<&'static str> {
    IDENTITY_KEYS.iter().copied().find(|key| {
        [a, b].iter().all(|items| {
            let ids: Option<Vec<&str>> = items.iter().map(|item| item.get(*key)?.as_str()).collect();
            ids.is_some_and(|ids| ids.iter().collect::<BTreeSet<_>>().len() == ids.len())
        })
    })
}

/// `{"Ref": ..}`, `{"Fn::...": ..}` or `{"Condition": ..}`: compared as a whole.
pub fn is_intrinsic(map: &Map<String, Value>) -> bool {
    map.len() == 1 && map.keys().all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(changes: &[LeafChange]) -> Vec<String> {
        changes.iter().map(|c| c.path.to_string()).collect()
    }

    fn props() -> ResourcePath {
        ResourcePath(vec![Seg::Field("Properties".into())])
    }

    #[test]
    fn nested_objects_diff_down_to_the_changed_leaf() {
        let old = json!({"StreamModeDetails": {"StreamMode": "PROVISIONED"}, "ShardCount": 2});
        let new = json!({"StreamModeDetails": {"StreamMode": "ON_DEMAND"}});
        let changes = diff(&props(), Some(&old), Some(&new));
        assert_eq!(paths(&changes), ["Properties.ShardCount", "Properties.StreamModeDetails.StreamMode"]);
        assert_eq!(changes[0].after, None);
        assert_eq!(changes[1].after, Some(json!("ON_DEMAND")));
    }

    #[test]
    fn replicas_are_matched_by_region_so_a_removal_does_not_shift_the_rest() {
        let old = json!({"Replicas": [{"Region": "us-east-1"}, {"Region": "eu-west-1"}, {"Region": "ap-southeast-2"}]});
        let new = json!({"Replicas": [{"Region": "us-east-1"}, {"Region": "ap-southeast-2"}]});
        let changes = diff(&props(), Some(&old), Some(&new));
        assert_eq!(paths(&changes), ["Properties.Replicas[Region=eu-west-1]"]);
        assert_eq!(changes[0].after, None);
    }

    #[test]
    fn intrinsics_are_leaves_and_unkeyed_arrays_of_other_lengths_are_whole() {
        let old = json!({"Role": {"Fn::GetAtt": ["A", "Arn"]}, "Layers": ["x"]});
        let new = json!({"Role": {"Fn::GetAtt": ["B", "Arn"]}, "Layers": ["x", "y"]});
        assert_eq!(paths(&diff(&props(), Some(&old), Some(&new))), ["Properties.Layers", "Properties.Role"]);
    }
}
