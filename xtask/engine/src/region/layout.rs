//! Which replicas each global table of the data stack has, and whether each is protected from
//! deletion: read from a template (synthesized or deployed) and written into one. A region change
//! moves the data stack through a sequence of layouts that each differ from the one before by a
//! single replica (or by the protection of one region's replicas), and `--resume` finds where the
//! deployed stack is in that sequence by its layout.
//!
//! CloudFormation adds or removes one replica per `AWS::DynamoDB::GlobalTable` update and
//! recommends an update that contains only that change (template reference,
//! `AWS::DynamoDB::GlobalTable`, AWS-FACTS 1.2); deletion protection is a property of each replica
//! (`ReplicaSpecification.DeletionProtectionEnabled`).

use serde_json::Value;
use stacks::Stack;
use stacks::cfn::dynamodb::GlobalTable;
use std::collections::BTreeMap;

/// One replica: its region and whether deletion protection is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Replica {
    /// The replica's region.
    pub region: String,
    /// `DeletionProtectionEnabled`.
    pub protected: bool,
}

/// Every global table (by logical ID) and its replicas, sorted by region.
pub type Layout = BTreeMap<String, Vec<Replica>>;

/// A global table of the data stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalTableRef {
    /// Its logical ID.
    pub id: String,
    /// Its `TableName`.
    pub name: String,
}

/// The global tables of a data stack template, in template order.
pub fn global_tables(template: &Value) -> Vec<GlobalTableRef> {
    let resources = template["Resources"].as_object().into_iter().flatten();
    resources
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::GlobalTable")
        .map(|(id, r)| GlobalTableRef {
            id: id.clone(),
            name: r["Properties"]["TableName"].as_str().unwrap_or(id).to_owned(),
        })
        .collect()
}

/// The layout of a data stack template (JSON as synthesized or as `GetTemplate` returns it).
pub fn layout(template: &Value) -> Layout {
    let resources = template["Resources"].as_object().into_iter().flatten();
    resources
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::GlobalTable")
        .map(|(id, r)| {
            let replicas = r["Properties"]["Replicas"].as_array().into_iter().flatten();
            let mut replicas: Vec<Replica> = replicas
                .filter_map(|replica| {
                    Some(Replica {
                        region: replica["Region"].as_str()?.to_owned(),
                        protected: protection(&replica["DeletionProtectionEnabled"]),
                    })
                })
                .collect();
            replicas.sort();
            (id.clone(), replicas)
        })
        .collect()
}

/// `true`, `"true"` (a YAML or string rendering) or absent-means-false, as CloudFormation reads it.
fn protection(value: &Value) -> bool {
    match value {
        Value::Bool(on) => *on,
        Value::String(text) => text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// What one region's replica of one table becomes in a step's template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// As synthesized.
    AsIs,
    /// Present with deletion protection off.
    Unprotected,
    /// Absent.
    Dropped,
}

/// Rewrites the replicas of every global table of a data `stack` with `keep(table id, region)`,
/// typed (the construct's own `ReplicaSpecification`), and renders the body again.
pub fn reshape(stack: &mut Stack, keep: impl Fn(&str, &str) -> Keep) {
    for (id, table) in stack.template.each_mut::<GlobalTable>() {
        table.Replicas.retain(|replica| keep(id, &replica.Region) != Keep::Dropped);
        for replica in &mut table.Replicas {
            if keep(id, &replica.Region) == Keep::Unprotected {
                replica.DeletionProtectionEnabled = Some(false);
            }
        }
    }
    stack.body = stack.template.to_json();
}
