//! The CloudFormation template: parameters, conditions, resources and outputs, with typed
//! handles for the resources added to it.

use super::expr::Expr;
use serde::Serialize;
use std::any::Any;
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// A typed L1 resource: its properties serialize to the `Properties` of the CloudFormation type.
pub trait ResourceType: Serialize + Any + std::fmt::Debug {
    /// The CloudFormation type name, e.g. `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// Object-safe view of any [`ResourceType`], so one map holds every type and constructs can
/// still reach a typed resource (to add a grant to a role, say) after it was added.
pub trait Properties: std::fmt::Debug {
    /// The properties in CloudFormation's JSON form.
    fn to_json(&self) -> serde_json::Value;
    /// For downcasting to the concrete L1 type.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: ResourceType> Properties for T {
    fn to_json(&self) -> serde_json::Value {
        // Typed L1 values only hold strings, numbers, lists and string-keyed maps.
        canonical(serde_json::to_value(self).unwrap_or_default())
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// `value` with every object's keys in sorted order, whatever order `serde_json::Map` keeps
/// (it keeps insertion order when any crate in the build enables `preserve_order`): templates
/// must not depend on which other crates are compiled alongside.
pub fn canonical(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, canonical(v))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

#[allow(clippy::borrowed_box)] // serde hands `serialize_with` a reference to the field.
fn serialize_properties<S: serde::Serializer>(properties: &Box<dyn Properties>, s: S) -> Result<S::Ok, S::Error> {
    properties.to_json().serialize(s)
}

/// `DeletionPolicy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeletionPolicy {
    /// Keep the physical resource when CloudFormation stops managing it, even when the operation
    /// that created it rolls back.
    Retain,
    /// Like `Retain`, except in the stack operation that created the resource: if that operation
    /// rolls back, CloudFormation deletes the resource, so a retry does not meet a leftover named
    /// resource ("already exists"). Accepted on every resource type that takes a `DeletionPolicy`
    /// (AWS CloudFormation `DeletionPolicy` attribute reference; What's New, 31 July 2023).
    RetainExceptOnCreate,
    /// Delete it.
    Delete,
    /// Snapshot it before deletion (tables and volumes only).
    Snapshot,
}

/// `UpdateReplacePolicy` values. `RetainExceptOnCreate` is a deletion policy only, so it has no
/// variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReplacePolicy {
    /// Keep the old physical resource when an update replaces it.
    Retain,
    /// Delete the old one.
    Delete,
    /// Snapshot the old one before deleting it.
    Snapshot,
}

/// Resource attributes other than `Properties`.
#[derive(Debug, Clone, Default)]
pub struct ResourceOptions {
    /// `DependsOn`: logical IDs that must be created first.
    pub depends_on: Vec<String>,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<DeletionPolicy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<ReplacePolicy>,
    /// `Condition`: create the resource only when this condition holds.
    pub condition: Option<String>,
    /// `Metadata`, e.g. a justified cfn-lint suppression.
    pub metadata: BTreeMap<String, Expr>,
}

/// A security-scanner check that does not fit a resource in this design, with the reason. Written
/// into the resource's `Metadata` as `checkov: {skip: [{id, comment}]}`, the form checkov reads,
/// so the template itself says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannerSkip {
    /// The check, e.g. `CKV_AWS_117`.
    pub id: &'static str,
    /// Why it does not apply.
    pub reason: &'static str,
}

impl ResourceOptions {
    /// These options with `skips` recorded in the resource's `Metadata`.
    pub fn with_scanner_skips(mut self, skips: &[ScannerSkip]) -> Self {
        let entries = skips
            .iter()
            .map(|skip| {
                Expr::Map(BTreeMap::from([
                    ("id".to_owned(), Expr::str(skip.id)),
                    ("comment".to_owned(), Expr::str(skip.reason)),
                ]))
            })
            .collect();
        self.metadata
            .insert("checkov".to_owned(), Expr::Map(BTreeMap::from([("skip".to_owned(), Expr::List(entries))])));
        self
    }

    /// The default for stateful resources: retained on deletion and on replacement, except that
    /// a resource whose creating operation rolls back is deleted with it, so the retry can
    /// create it again under the same name.
    pub fn retained() -> Self {
        ResourceOptions {
            deletion_policy: Some(DeletionPolicy::RetainExceptOnCreate),
            update_replace_policy: Some(ReplacePolicy::Retain),
            ..ResourceOptions::default()
        }
    }
}

/// One entry of `Resources`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    /// The CloudFormation type name.
    #[serde(rename = "Type")]
    pub kind: &'static str,
    /// `Condition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// `DependsOn`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// `Metadata`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, Expr>,
    /// `Properties`.
    #[serde(serialize_with = "serialize_properties")]
    pub properties: Box<dyn Properties>,
    /// `DeletionPolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// `UpdateReplacePolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<ReplacePolicy>,
}

/// A template parameter.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// `Type`, e.g. `String`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// What the deployer passes here.
    pub description: String,
    /// A regular expression the value must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    /// Shown when the value does not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_description: Option<String>,
    /// Minimum length of a string value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
}

/// `Export` of an output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Export {
    /// The export name, unique per account and region.
    pub name: Expr,
}

/// A template output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    /// What the value is.
    pub description: String,
    /// The value.
    pub value: Expr,
    /// Optional export for `Fn::ImportValue` in other stacks of the same region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
}

/// A typed reference to a resource of type `T` in a template.
#[derive(Debug)]
pub struct Handle<T> {
    id: String,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle { id: self.id.clone(), kind: PhantomData }
    }
}

impl<T> Handle<T> {
    /// The logical ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `{"Ref": logical_id}`: what `Ref` returns depends on the type (name, ID or ARN).
    pub fn reference(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }

    /// `Fn::GetAtt` of one attribute; each L1 module wraps this in a named method so an attribute
    /// name is written once.
    pub fn get_att(&self, attribute: &str) -> Expr {
        Expr::GetAtt(self.id.clone(), attribute.to_owned())
    }
}

/// A typed reference to a parameter.
#[derive(Debug, Clone)]
pub struct ParameterRef {
    name: String,
}

impl ParameterRef {
    /// The parameter name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `{"Ref": name}`.
    pub fn reference(&self) -> Expr {
        Expr::Ref(self.name.clone())
    }
}

/// A CloudFormation template under construction.
#[derive(Debug, Serialize)]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    format_version: &'static str,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "Parameters", skip_serializing_if = "BTreeMap::is_empty")]
    parameters: BTreeMap<String, Parameter>,
    #[serde(rename = "Conditions", skip_serializing_if = "BTreeMap::is_empty")]
    conditions: BTreeMap<String, Expr>,
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, Resource>,
    #[serde(rename = "Outputs", skip_serializing_if = "BTreeMap::is_empty")]
    outputs: BTreeMap<String, Output>,
    /// Names added twice; reported by validation rather than at each call site.
    #[serde(skip)]
    duplicates: Vec<String>,
}

impl Template {
    /// An empty template.
    pub fn new(description: impl Into<String>) -> Self {
        Template {
            format_version: "2010-09-09",
            description: description.into(),
            parameters: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            duplicates: Vec::new(),
        }
    }

    /// Adds a resource with default options.
    pub fn add<T: ResourceType>(&mut self, id: impl Into<String>, properties: T) -> Handle<T> {
        self.add_with(id, properties, ResourceOptions::default())
    }

    /// Adds a resource with `DependsOn`, policies, condition or metadata.
    pub fn add_with<T: ResourceType>(
        &mut self,
        id: impl Into<String>,
        properties: T,
        options: ResourceOptions,
    ) -> Handle<T> {
        let id = id.into();
        let properties: Box<dyn Properties> = Box::new(properties);
        let resource = Resource {
            kind: T::TYPE,
            condition: options.condition,
            depends_on: options.depends_on,
            metadata: options.metadata,
            properties,
            deletion_policy: options.deletion_policy,
            update_replace_policy: options.update_replace_policy,
        };
        if self.resources.insert(id.clone(), resource).is_some() {
            self.duplicates.push(id.clone());
        }
        Handle { id, kind: PhantomData }
    }

    /// The typed properties of a resource added earlier, to amend them (e.g. grant a role more).
    pub fn get_mut<T: ResourceType>(&mut self, handle: &Handle<T>) -> Option<&mut T> {
        self.resources.get_mut(&handle.id)?.properties.as_any_mut().downcast_mut::<T>()
    }

    /// Every resource of type `T` with its logical ID, to amend them all at once (route every
    /// alarm to a topic, encrypt every log group).
    pub fn each_mut<T: ResourceType>(&mut self) -> impl Iterator<Item = (&str, &mut T)> {
        self.resources
            .iter_mut()
            .filter_map(|(id, resource)| resource.properties.as_any_mut().downcast_mut::<T>().map(|p| (id.as_str(), p)))
    }

    /// Removes a resource; returns whether it was there. References to it become dangling and
    /// fail validation, so only remove what nothing refers to.
    pub fn remove(&mut self, id: &str) -> bool {
        self.resources.remove(id).is_some()
    }

    /// Adds a parameter.
    pub fn parameter(&mut self, name: impl Into<String>, parameter: Parameter) -> ParameterRef {
        let name = name.into();
        if self.parameters.insert(name.clone(), parameter).is_some() {
            self.duplicates.push(name.clone());
        }
        ParameterRef { name }
    }

    /// Adds a condition.
    pub fn condition(&mut self, name: impl Into<String>, condition: Expr) -> String {
        let name = name.into();
        if self.conditions.insert(name.clone(), condition).is_some() {
            self.duplicates.push(name.clone());
        }
        name
    }

    /// Adds an output.
    pub fn output(&mut self, name: impl Into<String>, output: Output) {
        let name = name.into();
        if self.outputs.insert(name.clone(), output).is_some() {
            self.duplicates.push(name);
        }
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The resources by logical ID.
    pub fn resources(&self) -> &BTreeMap<String, Resource> {
        &self.resources
    }

    /// The parameters by name.
    pub fn parameters(&self) -> &BTreeMap<String, Parameter> {
        &self.parameters
    }

    /// The conditions by name.
    pub fn conditions(&self) -> &BTreeMap<String, Expr> {
        &self.conditions
    }

    /// The outputs by name.
    pub fn outputs(&self) -> &BTreeMap<String, Output> {
        &self.outputs
    }

    /// Names declared more than once.
    pub fn duplicates(&self) -> &[String] {
        &self.duplicates
    }

    /// The template as pretty JSON, the form written to disk and sent to CloudFormation.
    pub fn to_json(&self) -> String {
        // Serializing maps with string keys and typed values cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The template as a JSON value (for tests and YAML rendering).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_at_every_depth() {
        let value = canonical(json!({"b": {"z": 1, "a": [{"y": 1, "x": 2}]}, "a": 0}));
        assert_eq!(value.to_string(), r#"{"a":0,"b":{"a":[{"x":2,"y":1}],"z":1}}"#);
    }
}
