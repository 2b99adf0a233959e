//! Changes that move clients' traffic or restart a stream consumer, wherever they live (a region
//! stack or a DNS stack): a Route53 record removed or re-routed (alone or inside a record set
//! group), a health check replaced or removed, an API, custom domain or API mapping replaced or
//! removed; and an event source mapping replaced.

use super::model::{Action, ResourceChange};
use serde_json::Value;

/// Route53 record fields that decide who gets which answer.
const ROUTING_FIELDS: &[&str] = &[
    "Type",
    "SetIdentifier",
    "Region",
    "Failover",
    "Weight",
    "GeoLocation",
    "GeoProximityLocation",
    "CidrRoutingConfig",
    "MultiValueAnswer",
    "HealthCheckId",
    "AliasTarget",
    "ResourceRecords",
];

/// Resource types whose replacement or removal changes where clients' requests go.
const ENDPOINT_TYPES: &[&str] = &[
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::DomainName",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::BasePathMapping",
];

/// One line per way `change` moves traffic.
pub fn traffic(change: &ResourceChange, old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let gone_or_replaced = match change.action {
        Action::Remove => Some("removed"),
        Action::Modify if change.replaces() => Some("replaced"),
        Action::Add | Action::Modify | Action::Import | Action::Dynamic | Action::SyncWithActual => None,
    };
    match change.resource_type.as_str() {
        "AWS::Route53::RecordSet" => match (gone_or_replaced, old, new) {
            (Some(what), Some(old), _) => {
                vec![format!("record {} {what}: resolvers stop getting this answer", label(&old["Properties"]))]
            }
            (None, Some(old), Some(new)) => rerouted(&old["Properties"], &new["Properties"]).into_iter().collect(),
            _ => Vec::new(),
        },
        "AWS::Route53::RecordSetGroup" => match (change.action, old, new) {
            (Action::Remove, Some(old), _) => {
                sets(&old["Properties"]).iter().map(|r| format!("record {} removed", label(r))).collect()
            }
            (_, Some(old), Some(new)) => group_changes(&old["Properties"], &new["Properties"]),
            _ => Vec::new(),
        },
        "AWS::Route53::HealthCheck" => gone_or_replaced
            .map(|what| {
                format!(
                    "health check {what}: records using it lose it, and a new check counts as healthy until Route53 \
                     has data, so failover may send clients to a failing region meanwhile"
                )
            })
            .into_iter()
            .collect(),
        kind if ENDPOINT_TYPES.contains(&kind) => match (gone_or_replaced, old, new) {
            (Some(what), _, _) => {
                vec![format!("{kind} {what}: clients of its host name or path lose it until DNS points at the new one")]
            }
            (None, Some(old), Some(new)) => {
                repointed(kind, &old["Properties"], &new["Properties"]).into_iter().collect()
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The new mapping's starting position when an event source mapping is (or may be) replaced.
pub fn consumer_reset(change: &ResourceChange, new: Option<&Value>) -> Option<String> {
    let replaced = change.resource_type == "AWS::Lambda::EventSourceMapping"
        && change.action == Action::Modify
        && change.replaces();
    replaced.then(|| {
        new.and_then(|n| n["Properties"]["StartingPosition"].as_str()).unwrap_or("its starting position").to_owned()
    })
}

/// Mapping fields that decide which API (and stage) a custom domain's path serves.
const MAPPING_FIELDS: &[&str] = &["ApiId", "Stage", "ApiMappingKey", "RestApiId", "BasePath"];

/// `... re-pointed` when an API mapping serves another API, stage or path in place.
fn repointed(kind: &str, old: &Value, new: &Value) -> Option<String> {
    if !kind.ends_with("ApiMapping") && !kind.ends_with("BasePathMapping") {
        return None;
    }
    let changed: Vec<&str> = MAPPING_FIELDS.iter().copied().filter(|f| old[f] != new[f]).collect();
    (!changed.is_empty())
        .then(|| format!("{kind} re-pointed ({} change): its clients reach another API", changed.join(", ")))
}

/// `name type (set identifier)`.
fn label(record: &Value) -> String {
    let name = record["Name"].as_str().unwrap_or("?");
    let kind = record["Type"].as_str().unwrap_or("?");
    match record["SetIdentifier"].as_str() {
        Some(id) => format!("{name} {kind} ({id})"),
        None => format!("{name} {kind}"),
    }
}

/// `record ... re-routed: Weight, HealthCheckId change` when a routing field differs.
fn rerouted(old: &Value, new: &Value) -> Option<String> {
    let changed: Vec<&str> = ROUTING_FIELDS.iter().copied().filter(|f| old[f] != new[f]).collect();
    (!changed.is_empty()).then(|| {
        format!(
            "record {} re-routed: {} change{}",
            label(new),
            changed.join(", "),
            if changed.len() == 1 { "s" } else { "" }
        )
    })
}

fn sets(group: &Value) -> Vec<Value> {
    group["RecordSets"].as_array().cloned().unwrap_or_default()
}

/// Records of a group removed or re-routed, matched by name, type and set identifier.
fn group_changes(old: &Value, new: &Value) -> Vec<String> {
    let key = |r: &Value| (r["Name"].clone(), r["Type"].clone(), r["SetIdentifier"].clone());
    let after = sets(new);
    let mut out = Vec::new();
    for before in sets(old) {
        match after.iter().find(|r| key(r) == key(&before)) {
            None => out.push(format!("record {} removed: resolvers stop getting this answer", label(&before))),
            Some(after) => out.extend(rerouted(&before, after)),
        }
    }
    out
}
